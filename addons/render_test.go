package addons_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/addons"
	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
	"github.com/velad-dev/velad/internal/golden"
)

// source is what the controller resolves types from once every addon is
// enabled: the addons' definitions and the built-ins.
func source(t *testing.T) definition.Source {
	t.Helper()
	reg, err := addons.Load()
	if err != nil {
		t.Fatal(err)
	}
	builtins, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	return definition.Chain{reg.Definitions(), builtins}
}

// Every app in testdata/render renders to its golden file, as `velad
// dry-run` prints it.
func TestDefinitionsRenderGolden(t *testing.T) {
	apps, err := filepath.Glob("testdata/render/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range apps {
		if strings.HasSuffix(in, ".golden.yaml") {
			continue
		}
		n++
		t.Run(filepath.Base(in), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := renderApp(t, data)
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, strings.TrimSuffix(in, ".yaml")+".golden.yaml", []byte(got))
		})
	}
	if n == 0 {
		t.Fatal("no apps in testdata/render")
	}
}

// Every addon definition is used by at least one golden app.
func TestEveryAddonDefinitionHasAGolden(t *testing.T) {
	reg, err := addons.Load()
	if err != nil {
		t.Fatal(err)
	}
	apps, _ := filepath.Glob("testdata/render/*.yaml")
	var all strings.Builder
	for _, p := range apps {
		data, _ := os.ReadFile(p)
		all.Write(data)
	}
	for _, a := range reg.List() {
		for _, d := range a.Definitions() {
			if !strings.Contains(all.String(), "type: "+d.Name+"\n") {
				t.Errorf("addon %s: %s %q has no app in testdata/render", a.Name, d.Kind, d.Name)
			}
		}
	}
}

// Parameters the helm component refuses, with a message naming the field.
func TestHelmRefusesBadParameters(t *testing.T) {
	src := source(t)
	for _, tc := range []struct {
		name, props, want string
	}{
		{"no url", `{chart: hello}`, "url"},
		{"no chart", `{url: "http://charts.example.test"}`, "chart"},
		{"oci url for helm", `{url: "oci://r.example.test/c", chart: hello}`, "url"},
		{"http url for oci", `{repoType: oci, url: "http://r.example.test", chart: hello}`, "url"},
		{"git is not supported", `{repoType: git, url: "http://g.example.test/r.git", chart: hello}`, "repoType"},
		{"bad interval", `{url: "http://c.example.test", chart: hello, interval: soon}`, "interval"},
		{"negative retries", `{url: "http://c.example.test", chart: hello, retries: -1}`, "retries"},
		{"bad valuesFrom kind", `{url: "http://c.example.test", chart: hello, valuesFrom: [{kind: Pod, name: x}]}`, "kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, err := render.ParseApplication([]byte("apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata: {name: a, namespace: demo}\nspec:\n  components:\n  - name: c\n    type: helm\n    properties: " + tc.props + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = render.NewRenderer().RenderApp(context.Background(), app, src, render.Options{})
			if err == nil {
				t.Fatalf("rendered with %s", tc.props)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not name %q: %v", tc.want, err)
			}
		})
	}
}

// The helm component's health reads the release's Ready condition by
// type, for the generation the app applied, and its message says why.
func TestHelmHealth(t *testing.T) {
	src := source(t)
	app, err := render.ParseApplication([]byte(`apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: a, namespace: demo}
spec:
  components:
  - name: web
    type: helm
    properties: {url: "http://charts.example.test", chart: hello, version: 0.1.0}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := render.NewRenderer()
	comps, err := r.RenderApp(context.Background(), app, src, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	comp := comps[0]
	repoReady := `{type: Ready, status: "True", reason: Succeeded, message: "stored artifact: revision 'sha256:abc'"}`
	for _, tc := range []struct {
		name       string
		release    string // metadata + status of the live HelmRelease
		repo       string // status of the live HelmRepository
		healthy    bool
		wantStatus string
	}{
		{
			name:       "not reconciled yet",
			release:    `{metadata: {generation: 1}}`,
			wantStatus: "installing chart hello@0.1.0",
		},
		{
			name:       "ready",
			release:    `{metadata: {generation: 2}, status: {observedGeneration: 2, conditions: [{type: Ready, status: "True", reason: UpgradeSucceeded, message: "Helm upgrade succeeded for release demo/web.v2 with chart hello@0.1.0"}]}}`,
			repo:       repoReady,
			healthy:    true,
			wantStatus: "Helm upgrade succeeded for release demo/web.v2 with chart hello@0.1.0",
		},
		{
			// Flux sorts Reconciling before Ready: conditions[0] is not Ready.
			name:       "reconciling first",
			release:    `{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [{type: Reconciling, status: "True", reason: Progressing, message: "running install"}, {type: Ready, status: "Unknown", reason: Progressing, message: "running install"}]}}`,
			wantStatus: "Progressing: running install",
		},
		{
			name:       "ready for an older spec",
			release:    `{metadata: {generation: 3}, status: {observedGeneration: 2, conditions: [{type: Ready, status: "True", reason: InstallSucceeded, message: "ok"}]}}`,
			wantStatus: "applying chart hello@0.1.0",
		},
		{
			name:       "chart version missing",
			release:    `{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [{type: Ready, status: "False", reason: ArtifactFailed, message: "no chart version found for hello-0.1.0"}]}}`,
			repo:       repoReady,
			wantStatus: "ArtifactFailed: no chart version found for hello-0.1.0",
		},
		{
			name:       "repository unreachable",
			release:    `{metadata: {generation: 1}}`,
			repo:       `{type: Ready, status: "False", reason: IndexationFailed, message: "failed to fetch index: connection refused"}`,
			wantStatus: "repository http://charts.example.test: IndexationFailed: failed to fetch index: connection refused",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			live := render.LiveObjects{
				Output:  liveObject(t, comp.Workload, tc.release),
				Outputs: map[string]*unstructured.Unstructured{},
			}
			for _, aux := range comp.Auxiliaries {
				status := `{}`
				if tc.repo != "" {
					status = `{status: {conditions: [` + tc.repo + `]}}`
				}
				live.Outputs[aux.Name] = liveObject(t, aux.Object, status)
			}
			h, err := r.EvalStatus(comp.Definition, comp.Properties, comp.Context, live)
			if err != nil {
				t.Fatal(err)
			}
			if h.Healthy != tc.healthy || h.Message != tc.wantStatus {
				t.Errorf("health = %v %q, want %v %q", h.Healthy, h.Message, tc.healthy, tc.wantStatus)
			}
		})
	}
}

// liveObject is the rendered object with metadata and status merged in,
// as the API server returns it.
func liveObject(t *testing.T, rendered *unstructured.Unstructured, extra string) *unstructured.Unstructured {
	t.Helper()
	// As the API server's objects decode: whole numbers are int64.
	data, err := yaml.YAMLToJSON([]byte(extra))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := utiljson.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	u := rendered.DeepCopy()
	if md, ok := m["metadata"].(map[string]any); ok {
		for k, v := range md {
			_ = unstructured.SetNestedField(u.Object, v, "metadata", k)
		}
	}
	if st, ok := m["status"]; ok {
		u.Object["status"] = st
	}
	return u
}
