package addons

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// maxReleaseName is Helm's limit on release names.
const maxReleaseName = 53

// validate checks every addon's metadata, its chart and the registry as a
// whole (dependencies, definition names); it reports every problem found.
func (r *Registry) validate() error {
	var errs []error
	owner := map[string]string{} // "kind/name" of a definition → its addon
	for _, a := range r.List() {
		for _, err := range a.problems(r) {
			errs = append(errs, fmt.Errorf("addon %s: %w", a.Name, err))
		}
		for _, d := range a.definitions {
			key := string(d.Kind) + " " + d.Name
			if other, ok := owner[key]; ok {
				errs = append(errs, fmt.Errorf("addon %s: %s %q is also defined by addon %s", a.Name, d.Kind, d.Name, other))
			}
			owner[key] = a.Name
		}
	}
	if len(errs) > 0 {
		// Unknown dependencies are reported above; a cycle is only
		// looked for once every dependency is known.
		return errors.Join(errs...)
	}
	for _, n := range r.names {
		if _, err := r.Order(n); err != nil {
			return err // the same cycle, from wherever it is entered
		}
	}
	return nil
}

// problems lists what is wrong with one addon's metadata and chart.
func (a *Addon) problems(r *Registry) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, msg := range validation.IsDNS1123Label(a.Name) {
		bad("name %q: %s", a.Name, msg)
	}
	if _, err := semver.StrictNewVersion(a.Version); err != nil {
		bad("version %q: want a semantic version (e.g. 1.2.3): %v", a.Version, err)
	}
	if strings.TrimSpace(a.Description) == "" {
		bad("description is empty")
	}
	if a.Namespace == "" {
		bad("namespace is empty")
	}
	for _, msg := range validation.IsDNS1123Label(a.Namespace) {
		bad("namespace %q: %s", a.Namespace, msg)
	}
	if a.Release != "" {
		for _, msg := range validation.IsDNS1123Subdomain(a.Release) {
			bad("release %q: %s", a.Release, msg)
		}
		if len(a.Release) > maxReleaseName {
			bad("release %q: longer than Helm's %d characters", a.Release, maxReleaseName)
		}
	}
	seen := map[string]bool{}
	for _, d := range a.Dependencies {
		switch {
		case d == a.Name:
			bad("depends on itself")
		case seen[d]:
			bad("dependency %q listed twice", d)
		case r.addons[d] == nil:
			bad("dependency %q is not an addon velad carries", d)
		}
		seen[d] = true
	}
	images := map[string]bool{}
	for i, img := range a.Images {
		switch {
		case img.Name == "":
			bad("images[%d]: name is empty", i)
		case images[img.Name]:
			bad("image %q listed twice", img.Name)
		}
		images[img.Name] = true
		if img.Value == "" || strings.HasPrefix(img.Value, ".") || strings.HasSuffix(img.Value, ".") || strings.Contains(img.Value, "..") {
			bad("image %q: value %q: want the chart value that takes repository and tag (e.g. image)", img.Name, img.Value)
		}
	}
	for _, list := range [][]string{a.Health.Deployments, a.Health.DaemonSets} {
		for _, n := range list {
			for _, msg := range validation.IsDNS1123Subdomain(n) {
				bad("health: %q: %s", n, msg)
			}
		}
	}
	if err := a.checkChart(); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// checkChart reads the chart's Chart.yaml: the chart must be there, named
// as its folder and at the addon's version (one version, shown everywhere).
func (a *Addon) checkChart() error {
	if a.Chart == "" || strings.ContainsAny(a.Chart, "/\\") || a.Chart == "." || a.Chart == ".." {
		return fmt.Errorf("chart %q: want the name of a folder under charts/", a.Chart)
	}
	data, err := fs.ReadFile(a.charts, path.Join(a.Chart, "Chart.yaml"))
	if err != nil {
		return fmt.Errorf("chart %q: %w (is charts/%s embedded in charts/charts.go?)", a.Chart, err, a.Chart)
	}
	var md chart.Metadata
	if err := yaml.Unmarshal(data, &md); err != nil {
		return fmt.Errorf("chart %q: Chart.yaml: %w", a.Chart, err)
	}
	if md.Name != a.Chart {
		return fmt.Errorf("chart %q: Chart.yaml names it %q", a.Chart, md.Name)
	}
	if md.Version != a.Version {
		return fmt.Errorf("chart %q is version %s, the addon %s: keep them equal", a.Chart, md.Version, a.Version)
	}
	return nil
}
