// Package addons is velad's addon registry: one folder per addon, each
// with its metadata (addon.yaml) and its X-Definitions
// (definitions/*.cue); the addon's Helm chart lives under charts/<chart>.
// Everything is carried inside velad (go:embed), so addons are enabled
// with no network. Package lifecycle enables, disables, lists and checks
// them in a cluster.
package addons

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"helm.sh/helm/v3/pkg/chart"
	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/charts"
	"github.com/velad-dev/velad/charts/release"
	"github.com/velad-dev/velad/controller/definition"
)

//go:embed */addon.yaml */definitions/*.cue
var files embed.FS

// MetadataFile is the name of an addon's metadata file in its folder.
const MetadataFile = "addon.yaml"

// LabelAddon marks the objects an addon put into the cluster (its
// definitions and namespace) with the addon's name, as KubeVela does.
const LabelAddon = "addons.oam.dev/name"

// Addon is one addon: its metadata (addon.yaml) and its definitions.
type Addon struct {
	// Name is the addon's name (also its folder's).
	Name string `json:"name"`
	// Version is the addon's version; its chart carries the same.
	Version     string `json:"version"`
	Description string `json:"description"`
	// Default addons are enabled by `velad install`.
	Default bool `json:"default,omitempty"`
	// Dependencies are addons enabled before this one.
	Dependencies []string `json:"dependencies,omitempty"`
	// Chart is the chart's folder under charts/.
	Chart string `json:"chart"`
	// Release is the Helm release's name (default: Name).
	Release string `json:"release,omitempty"`
	// Namespace is where the release (and its workloads) live.
	Namespace string `json:"namespace"`
	// Images are the images the addon runs, carried in velad's payload.
	Images []Image `json:"images,omitempty"`
	// Health is what must be ready for the addon to be healthy.
	Health Health `json:"health,omitempty"`

	definitions []*definition.Definition
	charts      fs.FS
}

// Image is one image an addon runs: velad passes its reference (from the
// image payload, where scripts/build-images.sh names it) to the chart.
type Image struct {
	// Name is the image's name in velad's image payload.
	Name string `json:"name"`
	// Value is the chart value that receives the reference as
	// <Value>.repository and <Value>.tag (e.g. "image").
	Value string `json:"value"`
}

// Health lists the workloads, in the addon's namespace, that must be
// rolled out and available for the addon to be healthy.
type Health struct {
	Deployments []string `json:"deployments,omitempty"`
	DaemonSets  []string `json:"daemonSets,omitempty"`
}

// ReleaseName is the addon's Helm release.
func (a *Addon) ReleaseName() string {
	if a.Release != "" {
		return a.Release
	}
	return a.Name
}

// Definitions are the addon's X-Definitions, sorted by kind and name.
func (a *Addon) Definitions() []*definition.Definition { return a.definitions }

// LoadChart reads the addon's chart.
func (a *Addon) LoadChart() (*chart.Chart, error) {
	return release.Load(a.charts, a.Chart)
}

// Registry holds every addon velad carries.
type Registry struct {
	addons map[string]*Addon
	names  []string // sorted
}

// ErrUnknown is returned (wrapped) for a name no addon has.
var ErrUnknown = errors.New("unknown addon")

var loadEmbedded = sync.OnceValues(func() (*Registry, error) {
	return LoadFS(files, charts.FS())
})

// Load returns the registry of the addons carried in velad (parsed and
// checked once).
func Load() (*Registry, error) { return loadEmbedded() }

// LoadFS reads every <name>/addon.yaml of addonsFS with its
// <name>/definitions/*.cue, and checks them (see Validate) against the
// charts in chartsFS.
func LoadFS(addonsFS, chartsFS fs.FS) (*Registry, error) {
	entries, err := fs.ReadDir(addonsFS, ".")
	if err != nil {
		return nil, fmt.Errorf("read addons: %w", err)
	}
	r := &Registry{addons: map[string]*Addon{}}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		data, err := fs.ReadFile(addonsFS, path.Join(e.Name(), MetadataFile))
		if errors.Is(err, fs.ErrNotExist) {
			continue // not an addon (e.g. testdata)
		}
		if err != nil {
			return nil, fmt.Errorf("read addon %s: %w", e.Name(), err)
		}
		a, err := parse(e.Name(), data)
		if err != nil {
			return nil, err
		}
		if a.definitions, err = loadDefinitions(addonsFS, a.Name); err != nil {
			return nil, err
		}
		a.charts = chartsFS
		r.addons[a.Name] = a
		r.names = append(r.names, a.Name)
	}
	sort.Strings(r.names)
	if err := r.validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// parse reads addon.yaml strictly: an unknown field is an error, not
// silently ignored.
func parse(dir string, data []byte) (*Addon, error) {
	a := &Addon{}
	if err := yaml.UnmarshalStrict(data, a); err != nil {
		// sigs.k8s.io/yaml goes through JSON; its prefixes say nothing.
		msg := err.Error()
		if i := strings.LastIndex(msg, "json: "); i >= 0 {
			msg = msg[i+len("json: "):]
		}
		return nil, fmt.Errorf("addon %s: %s: %s", dir, MetadataFile, msg)
	}
	if a.Name != dir {
		return nil, fmt.Errorf("addon %s: %s: name %q differs from its folder's", dir, MetadataFile, a.Name)
	}
	return a, nil
}

func loadDefinitions(fsys fs.FS, name string) ([]*definition.Definition, error) {
	sub, err := fs.Sub(fsys, path.Join(name, "definitions"))
	if err != nil {
		return nil, err
	}
	if _, err := fs.Stat(sub, "."); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	defs, err := definition.LoadFS(sub, "addon "+name)
	if err != nil {
		return nil, fmt.Errorf("addon %s: definitions: %w", name, err)
	}
	definition.SortByName(defs)
	return defs, nil
}

// Get returns the named addon.
func (r *Registry) Get(name string) (*Addon, error) {
	if a, ok := r.addons[name]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("%w %q (velad carries: %s)", ErrUnknown, name, strings.Join(r.names, ", "))
}

// List returns every addon, sorted by name.
func (r *Registry) List() []*Addon {
	out := make([]*Addon, 0, len(r.names))
	for _, n := range r.names {
		out = append(out, r.addons[n])
	}
	return out
}

// Defaults are the names of the addons `velad install` enables, sorted.
func (r *Registry) Defaults() []string {
	var out []string
	for _, n := range r.names {
		if r.addons[n].Default {
			out = append(out, n)
		}
	}
	return out
}

// Definitions is a Source of every addon's definitions (e.g. to render an
// app offline that uses them).
func (r *Registry) Definitions() definition.Source {
	s := definition.NewSet()
	for _, a := range r.List() {
		for _, d := range a.definitions {
			s.Add(d)
		}
	}
	return s
}

// Provider names the addon that carries a definition, or "".
func (r *Registry) Provider(kind definition.Kind, name string) string {
	for _, a := range r.List() {
		for _, d := range a.definitions {
			if d.Kind == kind && d.Name == name {
				return a.Name
			}
		}
	}
	return ""
}

// Dependents are the addons that depend on name, directly or not, sorted.
func (r *Registry) Dependents(name string) []string {
	var out []string
	for _, n := range r.names {
		if n == name {
			continue
		}
		order, _ := r.Order(n)
		for _, a := range order {
			if a.Name == name {
				out = append(out, n)
				break
			}
		}
	}
	return out
}
