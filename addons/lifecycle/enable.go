package lifecycle

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/addons"
	"github.com/velad-dev/velad/charts/release"
	"github.com/velad-dev/velad/controller/install"
)

// Action is what Enable did to one addon.
type Action string

// Actions of Enable.
const (
	Installed Action = "installed"
	Upgraded  Action = "upgraded"
	// Unchanged: the addon was enabled with the same chart and values.
	Unchanged Action = "unchanged"
)

// Outcome is what Enable did to one addon.
type Outcome struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Action  Action `json:"action"`
	// From is the version an upgrade started from.
	From string `json:"from,omitempty"`
}

// Enable enables the addon and, first, those it depends on: each is
// installed or upgraded and waited for until ready. sets are --set flags
// for the named addon's chart. Enabling an addon again with the same
// values changes nothing (and says so: Unchanged).
func (m *Manager) Enable(ctx context.Context, name string, sets []string) ([]Outcome, error) {
	return m.EnableAll(ctx, []string{name}, map[string][]string{name: sets})
}

// EnableAll enables the named addons and their dependencies, in
// dependency order, with the --set flags given per addon name. Every
// chart and its values are checked before anything is installed.
func (m *Manager) EnableAll(ctx context.Context, names []string, sets map[string][]string) ([]Outcome, error) {
	order, err := m.reg.Order(names...)
	if err != nil {
		return nil, err
	}
	for n := range sets {
		if _, err := m.reg.Get(n); err != nil {
			return nil, err
		}
	}
	plans := make([]*Plan, 0, len(order))
	withDefinitions := false
	for _, a := range order {
		p, err := Prepare(a, m.o.Images, sets[a.Name])
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
		withDefinitions = withDefinitions || len(a.Definitions()) > 0
	}
	if withDefinitions {
		if err := m.checkController(ctx); err != nil {
			return nil, err
		}
	}
	var out []Outcome
	for _, p := range plans {
		o, err := m.enable(ctx, p)
		if err != nil {
			return out, err
		}
		out = append(out, o)
	}
	return out, nil
}

// checkController makes sure the cluster serves the OAM definition kinds
// the addons' definitions are.
func (m *Manager) checkController(ctx context.Context) error {
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	err := m.c.Get(ctx, client.ObjectKey{Name: "componentdefinitions.core.oam.dev"}, crd)
	if apierrors.IsNotFound(err) {
		return errors.New("addons bring definitions, which need the velad controller: install it with 'velad install' (without --cluster-only)")
	}
	if err != nil {
		return fmt.Errorf("check for the velad controller: %w", err)
	}
	return nil
}

// enable installs or upgrades one addon, applies its definitions and
// waits until it is ready. A failed install is removed again and a
// failed upgrade rolled back: nothing is left half-installed.
func (m *Manager) enable(ctx context.Context, p *Plan) (Outcome, error) {
	a := p.Addon
	o := Outcome{Name: a.Name, Version: a.Version}
	rc, err := m.helmFor(a)
	if err != nil {
		return o, err
	}
	last, err := rc.Get(a.ReleaseName())
	if err != nil {
		return o, err
	}
	where := fmt.Sprintf("Helm release %s/%s", a.Namespace, a.ReleaseName())
	switch {
	case last != nil && last.Info.Status == helmrelease.StatusDeployed && digest(last.Chart, last.Config) == p.Digest:
		o.Action = Unchanged
		m.o.Progress.Step(fmt.Sprintf("Addon %s %s is already enabled (%s)", a.Name, a.Version, where))
		// Put back the controller's access or a definition someone deleted.
		crds, err := crdDocs(p.Chart)
		if err != nil {
			return o, err
		}
		if err := m.applyControllerAccess(ctx, a, crds); err != nil {
			return o, err
		}
		if err := m.applyDefinitions(ctx, a); err != nil {
			return o, err
		}
		return o, m.waitReady(ctx, a)
	case last == nil:
		o.Action = Installed
		m.o.Progress.Step(fmt.Sprintf("Installing addon %s %s (%s)", a.Name, a.Version, where))
	default:
		o.Action, o.From = Upgraded, last.Chart.Metadata.Version
		m.o.Progress.Step(fmt.Sprintf("Upgrading addon %s %s → %s (%s)", a.Name, o.From, a.Version, where))
	}
	if err := m.install(ctx, rc, p, last); err != nil {
		return o, fmt.Errorf("enable addon %s: %w", a.Name, err)
	}
	return o, m.waitReady(ctx, a)
}

// install applies the CRDs, the release and the definitions; on failure it
// undoes the release.
func (m *Manager) install(ctx context.Context, rc *release.Client, p *Plan, last *helmrelease.Release) error {
	a := p.Addon
	crds, err := crdDocs(p.Chart)
	if err != nil {
		return err
	}
	if err := install.ApplyCRDs(ctx, m.c, crds, m.o.Timeout); err != nil {
		return err
	}
	if err := m.applyControllerAccess(ctx, a, crds); err != nil {
		return err
	}
	if _, err := rc.Apply(ctx, a.ReleaseName(), p.Chart, p.Values, m.o.Timeout); err != nil {
		return errors.Join(err, m.undo(ctx, rc, a, last))
	}
	if err := m.applyDefinitions(ctx, a); err != nil {
		return errors.Join(err, m.undo(ctx, rc, a, last))
	}
	return nil
}

// undo returns the addon to what it was before a failed install or
// upgrade: not installed (release and definitions removed), or the
// release's last deployed revision.
func (m *Manager) undo(ctx context.Context, rc *release.Client, a *addons.Addon, last *helmrelease.Release) error {
	// Not the caller's context: it may be what was cancelled.
	ctx = context.WithoutCancel(ctx)
	if last == nil {
		return errors.Join(m.deleteDefinitions(ctx, a), rc.Uninstall(ctx, a.ReleaseName(), m.o.Timeout))
	}
	if last.Info.Status != helmrelease.StatusDeployed {
		return nil // nothing good to go back to
	}
	return rc.Rollback(ctx, a.ReleaseName(), last.Version, m.o.Timeout)
}

// crdDocs are the CRD manifests of the chart's crds/ folder, one
// document each.
func crdDocs(ch *chart.Chart) ([][]byte, error) {
	var out [][]byte
	for _, crd := range ch.CRDObjects() {
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(crd.File.Data)))
		for {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("read %s of chart %s: %w", crd.Filename, ch.Name(), err)
			}
			if len(bytes.TrimSpace(doc)) > 0 && !onlyComments(doc) {
				out = append(out, doc)
			}
		}
	}
	return out, nil
}

func onlyComments(doc []byte) bool {
	for _, line := range bytes.Split(doc, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' && !bytes.Equal(line, []byte("---")) {
			return false
		}
	}
	return true
}
