package render_test

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
	"github.com/velad-dev/velad/internal/charttest"
)

func helmchartApp(repo, version string) string {
	return `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: chart
  namespace: apps
spec:
  components:
    - name: hello
      type: helmchart
      properties:
        chart:
          source: hello
          repoURL: ` + repo + `
          version: "` + version + `"
        healthStatus:
          - resource: {kind: Deployment}
            condition: {type: Available}
`
}

// A helmchart component whose chart cannot be had fails to render with
// a message that says why.
func TestHelmchartErrors(t *testing.T) {
	defs, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	repo := charttest.Repo(t)
	for _, tc := range []struct {
		name, repo, version string
		want                []string
	}{
		{"unreachable repository", "http://127.0.0.1:1", "1.0.0", []string{`chart "hello"`, "GET http://127.0.0.1:1/index.yaml", "chart repository must be reachable", "offline dry-run cannot render it"}},
		{"missing version", repo, "9.9.9", []string{`chart "hello"`, "chart hello 9.9.9 is not in " + repo}},
		{"not a URL", "ftp://example", "1.0.0", []string{`chart.repoURL "ftp://example": want an http:// or https:// URL`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, err := render.ParseApplication([]byte(helmchartApp(tc.repo, tc.version)))
			if err != nil {
				t.Fatal(err)
			}
			_, err = render.NewRenderer().RenderApp(context.Background(), app, defs, render.Options{})
			if err == nil {
				t.Fatal("rendered")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// The newest version is rendered when none is given (KubeVela's
// "latest"), and health follows the healthStatus criteria over the live
// objects the chart rendered.
func TestHelmchartLatestAndHealth(t *testing.T) {
	defs, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	app, err := render.ParseApplication([]byte(helmchartApp(charttest.Repo(t), "latest")))
	if err != nil {
		t.Fatal(err)
	}
	r := render.NewRenderer()
	comps, err := r.RenderApp(context.Background(), app, defs, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := comps[0]
	if v, _, _ := unstructured.NestedString(c.Workload.Object, "data", "chartVersion"); v != "latest" {
		t.Errorf("chartVersion %q", v)
	}
	outs := map[string]*unstructured.Unstructured{}
	var deploy string
	for _, a := range c.Auxiliaries {
		outs[a.Name] = a.Object.DeepCopy()
		if a.Object.GetKind() == "Deployment" {
			deploy = a.Name
		}
	}
	if len(outs) != 2 || deploy == "" {
		t.Fatalf("outputs %v", outs)
	}
	for _, tc := range []struct {
		status string // of the Deployment's Available condition; "" none
		want   bool
	}{{"", false}, {"False", false}, {"True", true}} {
		if tc.status != "" {
			_ = unstructured.SetNestedSlice(outs[deploy].Object, []any{map[string]any{"type": "Available", "status": tc.status}}, "status", "conditions")
		}
		h, err := r.EvalStatus(c.Definition, c.Properties, c.Context, render.LiveObjects{Output: c.Workload, Outputs: outs})
		if err != nil {
			t.Fatal(err)
		}
		if h.Message != "chart hello latest: 2 objects" {
			t.Errorf("message %q", h.Message)
		}
		if h.Healthy != tc.want {
			t.Errorf("Available=%q: healthy %v, want %v (%q)", tc.status, h.Healthy, tc.want, h.Message)
		}
	}
}

// Component templates may import vela/helm, and only that of the vela/*
// packages.
func TestTemplateImports(t *testing.T) {
	d, err := definition.ParseCUE("kube.cue", []byte(`import "vela/kube"
"reads": {type: "component"}
template: {
	_r: kube.#Read & {$params: resource: {apiVersion: "v1", kind: "ConfigMap", metadata: name: "x"}}
	output: _r.$returns.value
}
`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = render.NewRenderer().Compile(d)
	if err == nil || !strings.Contains(err.Error(), `import "vela/kube": only "vela/helm" can be imported here`) {
		t.Errorf("compile: %v", err)
	}
}
