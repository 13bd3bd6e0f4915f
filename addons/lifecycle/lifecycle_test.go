package lifecycle_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/addons"
	"github.com/velad-dev/velad/addons/lifecycle"
	"github.com/velad-dev/velad/charts/release"
	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/install"
	"github.com/velad-dev/velad/internal/testenv"
)

// A registry of small addons whose charts need no node: "base"; "demo"
// (depends on base; a CRD, a ConfigMap from its values, a trait); "broken"
// (a chart the API server refuses); "slow" (a Deployment that never runs,
// as there is no node).
func testRegistry(t *testing.T) *addons.Registry {
	t.Helper()
	f := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	meta := func(name, more string) *fstest.MapFile {
		return f("name: " + name + "\nversion: 1.0.0\ndescription: test addon " + name + "\nchart: " + name + "\nnamespace: " + name + "-system\n" + more)
	}
	chartYAML := func(name string) *fstest.MapFile {
		return f("apiVersion: v2\nname: " + name + "\nversion: 1.0.0\n")
	}
	cm := f("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Values.name }}, namespace: {{ .Release.Namespace }}}\ndata: {greeting: {{ .Values.greeting | quote }}}\n")
	trait := func(name string) *fstest.MapFile {
		return f(`"` + name + `": {
	type: "trait"
	description: "marks the workload"
}
template: {
	patch: metadata: labels: mark: parameter.mark
	parameter: mark: *"yes" | string
}
`)
	}
	af := fstest.MapFS{
		"base/addon.yaml":                    meta("base", ""),
		"demo/addon.yaml":                    meta("demo", "dependencies: [base]\n"),
		"demo/definitions/mark.cue":          trait("demo-mark"),
		"broken/addon.yaml":                  meta("broken", ""),
		"broken/definitions/broken-mark.cue": trait("broken-mark"),
		"slow/addon.yaml":                    meta("slow", "health: {deployments: [slow]}\n"),
	}
	cf := fstest.MapFS{
		"base/Chart.yaml":          chartYAML("base"),
		"base/values.yaml":         f("name: base\ngreeting: hello\n"),
		"base/templates/cm.yaml":   cm,
		"demo/Chart.yaml":          chartYAML("demo"),
		"demo/values.yaml":         f("name: demo\ngreeting: hello\n"),
		"demo/values.schema.json":  f(`{"type": "object", "additionalProperties": false, "properties": {"name": {"type": "string"}, "greeting": {"type": "string"}}}`),
		"demo/templates/cm.yaml":   cm,
		"demo/crds/widgets.yaml":   f(widgetCRD),
		"broken/Chart.yaml":        chartYAML("broken"),
		"broken/values.yaml":       f("name: Not_A_Name\ngreeting: hello\n"),
		"broken/templates/cm.yaml": cm,
		"slow/Chart.yaml":          chartYAML("slow"),
		"slow/templates/dep.yaml":  f("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: slow, namespace: {{ .Release.Namespace }}}\nspec:\n  selector: {matchLabels: {app: slow}}\n  template:\n    metadata: {labels: {app: slow}}\n    spec: {containers: [{name: c, image: docker.io/velad/hello:v1}]}\n"),
	}
	reg, err := addons.LoadFS(af, cf)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.test.velad.dev}
spec:
  group: test.velad.dev
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`

// steps records progress.
type steps struct{ lines []string }

func (s *steps) Step(msg string)    { s.lines = append(s.lines, msg) }
func (s *steps) Waiting(msg string) {}

// Enabling, enabling again, upgrading, refusing bad input and disabling,
// against a real API server (no node).
func TestLifecycle(t *testing.T) {
	srv := testenv.New(t)
	ctx := context.Background()
	reg := testRegistry(t)
	progress := &steps{}
	m, err := lifecycle.New(reg, lifecycle.Options{Kubeconfig: srv.Kubeconfig, Timeout: time.Minute, Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv)
	base, demo := helm(t, srv, "base-system"), helm(t, srv, "demo-system")

	// Without the controller's CRDs the definitions cannot go anywhere:
	// refused before anything is installed, dependencies included.
	if _, err := m.Enable(ctx, "demo", nil); err == nil || !strings.Contains(err.Error(), "velad install") {
		t.Fatalf("enable without the controller: %v", err)
	}
	assertRelease(t, base, "base", 0)
	if err := install.CRDs(ctx, c, time.Minute); err != nil {
		t.Fatal(err)
	}

	// Dependencies first; the chart's CRDs, values and definitions.
	out, err := m.Enable(ctx, "demo", []string{"greeting=hi"})
	if err != nil {
		t.Fatal(err)
	}
	assertOutcomes(t, out, "base installed, demo installed")
	assertGreeting(t, c, "demo-system", "demo", "hi")
	assertGreeting(t, c, "base-system", "base", "hello") // --set is for demo only
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	if err := c.Get(ctx, client.ObjectKey{Name: "widgets.test.velad.dev"}, crd); err != nil {
		t.Errorf("the chart's CRD: %v", err)
	}
	// The controller may manage the CRD's kind (aggregated into its role).
	access := &rbacv1.ClusterRole{}
	if err := c.Get(ctx, client.ObjectKey{Name: "velad-addon-demo"}, access); err != nil {
		t.Fatalf("the controller's access to the addon's kinds: %v", err)
	}
	if access.Labels[lifecycle.AggregateToController] != "true" || len(access.Rules) != 1 || access.Rules[0].APIGroups[0] != "test.velad.dev" {
		t.Errorf("ClusterRole velad-addon-demo: labels %v rules %+v", access.Labels, access.Rules)
	}
	if err := c.Get(ctx, client.ObjectKey{Name: "velad-addon-base"}, &rbacv1.ClusterRole{}); !apierrors.IsNotFound(err) {
		t.Errorf("an addon without CRDs got a ClusterRole: %v", err)
	}
	mark := &v1beta1.TraitDefinition{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "vela-system", Name: "demo-mark"}, mark); err != nil {
		t.Fatalf("the addon's trait: %v", err)
	}
	if mark.Labels[addons.LabelAddon] != "demo" {
		t.Errorf("trait labels: %v", mark.Labels)
	}

	// Again with the same values: nothing changes, and it says so. A
	// definition deleted meanwhile is put back.
	if err := c.Delete(ctx, mark); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, access); err != nil {
		t.Fatal(err)
	}
	progress.lines = nil
	if out, err = m.Enable(ctx, "demo", []string{"greeting=hi"}); err != nil {
		t.Fatal(err)
	}
	assertOutcomes(t, out, "base unchanged, demo unchanged")
	if !strings.Contains(strings.Join(progress.lines, "\n"), "Addon demo 1.0.0 is already enabled") {
		t.Errorf("progress: %q", progress.lines)
	}
	assertRelease(t, demo, "demo", 1)
	if err := c.Get(ctx, client.ObjectKey{Namespace: "vela-system", Name: "demo-mark"}, &v1beta1.TraitDefinition{}); err != nil {
		t.Errorf("deleted trait not put back: %v", err)
	}
	if err := c.Get(ctx, client.ObjectKey{Name: "velad-addon-demo"}, &rbacv1.ClusterRole{}); err != nil {
		t.Errorf("deleted ClusterRole not put back: %v", err)
	}

	// New values upgrade.
	if out, err = m.Enable(ctx, "demo", []string{"greeting=ho"}); err != nil {
		t.Fatal(err)
	}
	assertOutcomes(t, out, "base unchanged, demo upgraded")
	assertGreeting(t, c, "demo-system", "demo", "ho")
	assertRelease(t, demo, "demo", 2)

	// Bad input changes nothing.
	for _, tc := range []struct {
		name string
		sets []string
		want string
	}{
		{"nope", nil, `unknown addon "nope" (velad carries: base, broken, demo, slow)`},
		{"demo", []string{"greting=x"}, "greting"},
		{"demo", []string{"greeting"}, `--set "greeting"`},
	} {
		if _, err := m.Enable(ctx, tc.name, tc.sets); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("enable %s %v: %v, want %q", tc.name, tc.sets, err, tc.want)
		}
	}
	assertRelease(t, demo, "demo", 2)

	// A chart the API server refuses: nothing of it is left.
	if _, err := m.Enable(ctx, "broken", nil); err == nil || !strings.Contains(err.Error(), "Not_A_Name") {
		t.Errorf("enable broken: %v", err)
	}
	assertRelease(t, helm(t, srv, "broken-system"), "broken", 0)
	if err := c.Get(ctx, client.ObjectKey{Namespace: "vela-system", Name: "broken-mark"}, &v1beta1.TraitDefinition{}); !apierrors.IsNotFound(err) {
		t.Errorf("broken's trait after the failed install: %v", err)
	}

	// A workload that never becomes ready: the error says which and why.
	short, err := lifecycle.New(reg, lifecycle.Options{Kubeconfig: srv.Kubeconfig, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := short.Enable(ctx, "slow", nil); err == nil || !strings.Contains(err.Error(), "addon slow not ready after 3s: deployment slow 0/1 available") {
		t.Errorf("enable slow: %v", err)
	}

	// List and status.
	infos, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range infos {
		got = append(got, i.Name+":"+enabled(i))
	}
	if strings.Join(got, " ") != "base:healthy broken:off demo:healthy slow:unhealthy" {
		t.Errorf("list: %v", got)
	}
	rep, err := m.Status(ctx, "slow")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Release == nil || rep.Release.Status != "deployed" || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "deployment slow") {
		t.Errorf("status slow: %+v", rep)
	}

	// Disabling is refused while an app uses the addon's trait or an
	// enabled addon depends on it.
	app := &v1beta1.Application{}
	app.Namespace, app.Name = "default", "marked"
	app.Spec.Components = []v1beta1.ApplicationComponent{{Name: "web", Type: "webservice", Traits: []v1beta1.ApplicationTrait{{Type: "demo-mark"}}}}
	if err := c.Create(ctx, app); err != nil {
		t.Fatal(err)
	}
	var inUse *lifecycle.InUseError
	if _, err := m.Disable(ctx, "demo", false); !errors.As(err, &inUse) || strings.Join(inUse.Users, ",") != "default/marked (trait demo-mark on web)" {
		t.Errorf("disable demo used by an app: %v", err)
	}
	if _, err := m.Disable(ctx, "base", false); !errors.As(err, &inUse) || strings.Join(inUse.Dependents, ",") != "demo" {
		t.Errorf("disable base needed by demo: %v", err)
	}
	assertRelease(t, demo, "demo", 2)

	// --force: the release and the definitions go; the CRD stays.
	done, err := m.Disable(ctx, "demo", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(done.Forced) != 1 {
		t.Errorf("forced past: %v", done.Forced)
	}
	assertRelease(t, demo, "demo", 0)
	if err := c.Get(ctx, client.ObjectKey{Namespace: "vela-system", Name: "demo-mark"}, &v1beta1.TraitDefinition{}); !apierrors.IsNotFound(err) {
		t.Errorf("trait after disable: %v", err)
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "demo-system", Name: "demo"}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
		t.Errorf("the release's ConfigMap after disable: %v", err)
	}
	if err := c.Get(ctx, client.ObjectKey{Name: "widgets.test.velad.dev"}, crd); err != nil {
		t.Errorf("the CRD after disable: %v", err)
	}
	if _, err := m.Disable(ctx, "demo", false); !errors.Is(err, lifecycle.ErrNotEnabled) {
		t.Errorf("disable twice: %v", err)
	}
	if _, err := m.Disable(ctx, "base", false); err != nil {
		t.Errorf("disable base once demo is gone: %v", err)
	}
}

func enabled(i lifecycle.Info) string {
	switch {
	case !i.Enabled:
		return "off"
	case i.Healthy:
		return "healthy"
	}
	return "unhealthy"
}

func newClient(t *testing.T, srv *testenv.Server) client.Client {
	t.Helper()
	cfg, err := srv.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1beta1.AddToScheme(scheme)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func helm(t *testing.T, srv *testenv.Server, ns string) *release.Client {
	t.Helper()
	rc, err := release.New(srv.Kubeconfig, ns)
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// assertRelease checks the release's revision (0: not installed).
func assertRelease(t *testing.T, rc *release.Client, name string, revision int) {
	t.Helper()
	rel, err := rc.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	if rel != nil {
		got = rel.Version
	}
	if got != revision {
		t.Errorf("release %s at revision %d, want %d", name, got, revision)
	}
}

func assertOutcomes(t *testing.T, out []lifecycle.Outcome, want string) {
	t.Helper()
	var got []string
	for _, o := range out {
		got = append(got, o.Name+" "+string(o.Action))
	}
	if strings.Join(got, ", ") != want {
		t.Errorf("outcomes: %s, want %s", strings.Join(got, ", "), want)
	}
}

func assertGreeting(t *testing.T, c client.Client, ns, name, want string) {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, cm); err != nil {
		t.Fatal(err)
	}
	if cm.Data["greeting"] != want {
		t.Errorf("%s/%s greeting = %q, want %q", ns, name, cm.Data["greeting"], want)
	}
}
