package render_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
)

// TestEveryBuiltinHasAGolden fails when a built-in definition is used by
// no app in testdata/.
func TestEveryBuiltinHasAGolden(t *testing.T) {
	builtins, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	defs, _ := builtins.List(context.Background())
	files, _ := filepath.Glob("testdata/*.yaml")
	var all strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, ".golden.yaml") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	for _, d := range defs {
		if !strings.Contains(all.String(), "type: "+d.Name+"\n") {
			t.Errorf("built-in %s %q has no app in testdata/", d.Kind, d.Name)
		}
	}
}

const featureDefs = `
"post-status": {
	type: "trait"
	attributes: stage: "PostDispatch"
}
template: {
	outputs: status: {
		apiVersion: "v1"
		kind:       "ConfigMap"
		metadata: name: context.name + "-status"
		data: ready: "\(context.status.readyReplicas)"
	}
}
`

const featureTraits = `
"svc-port": {
	type: "trait"
}
template: {
	patchOutputs: webserviceExpose: spec: {
		// +patchStrategy=retainKeys
		type: "NodePort"
	}
	outputs: extra: {
		apiVersion: "v1"
		kind:       "ConfigMap"
		metadata: name: "\(context.appName)-\(context.name)-r\(context.appRevisionNum)"
		data: {
			revision: context.appRevision
			image:    context.output.spec.template.spec.containers[0].image
			services: "\(len(context.outputs))"
			cluster:  context.cluster
		}
	}
}
`

func loadCUE(t *testing.T, name, src string) *definition.Definition {
	t.Helper()
	d, err := definition.ParseCUE(name, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestTraitFeatures(t *testing.T) {
	builtins, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	src := definition.Chain{definition.NewSet(loadCUE(t, "svc-port.cue", featureTraits), loadCUE(t, "post.cue", featureDefs)), builtins}
	app, err := render.ParseApplication([]byte(appHeader + `  components:
    - name: web
      type: webservice
      properties:
        image: nginx:1.27
        ports: [{port: 80, expose: true}]
      traits:
        - type: svc-port
        - type: post-status
`))
	if err != nil {
		t.Fatal(err)
	}
	r := render.NewRenderer()
	comps, err := r.RenderApp(context.Background(), app, src, render.Options{RevisionNum: 3, Cluster: "edge-1"})
	if err != nil {
		t.Fatal(err)
	}
	c := comps[0]
	if len(c.Auxiliaries) != 2 {
		t.Fatalf("auxiliaries: %+v", c.Auxiliaries)
	}
	svc := c.Auxiliaries[0].Object
	if typ, _, _ := unstructured.NestedString(svc.Object, "spec", "type"); typ != "NodePort" {
		t.Errorf("patchOutputs did not change the Service type: %q", typ)
	}
	extra := c.Auxiliaries[1]
	if extra.Trait != "svc-port" || extra.Object.GetName() != "shop-web-r3" {
		t.Errorf("trait output = %s %q", extra.Trait, extra.Object.GetName())
	}
	data, _, _ := unstructured.NestedStringMap(extra.Object.Object, "data")
	want := map[string]string{"revision": "shop-v3", "image": "nginx:1.27", "services": "1", "cluster": "edge-1"}
	for k, v := range want {
		if data[k] != v {
			t.Errorf("context data %s = %q, want %q", k, data[k], v)
		}
	}
	if l := extra.Object.GetLabels(); l["app.oam.dev/name"] != "shop" || l["app.oam.dev/component"] != "web" || l["trait.oam.dev/type"] != "svc-port" {
		t.Errorf("labels of a trait output: %v", l)
	}
	if !c.Traits[1].Skipped {
		t.Errorf("PostDispatch trait rendered without a live workload")
	}

	live := func(component, _ string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"status": map[string]any{"readyReplicas": int64(2)},
		}}
	}
	comps, err = r.RenderApp(context.Background(), app, src, render.Options{Live: live})
	if err != nil {
		t.Fatal(err)
	}
	c = comps[0]
	if c.Traits[1].Skipped || len(c.Auxiliaries) != 3 {
		t.Fatalf("PostDispatch trait not rendered: %+v", c.Traits[1])
	}
	if ready, _, _ := unstructured.NestedString(c.Auxiliaries[2].Object.Object, "data", "ready"); ready != "2" {
		t.Errorf("context.status.readyReplicas = %q, want 2", ready)
	}
}

func TestDefinitionRevision(t *testing.T) {
	builtins, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	cm := func(rev int64, value string) *definition.Definition {
		d := loadCUE(t, "cm.cue", `"cm": {type: "component"}
template: {
	output: {apiVersion: "v1", kind: "ConfigMap", metadata: name: context.name, data: v: "`+value+`"}
}`)
		d.Revision = rev
		return d
	}
	src := definition.Chain{definition.NewSet(cm(1, "one"), cm(2, "two"), cm(0, "current")), builtins}
	r := render.NewRenderer()
	for ref, want := range map[string]string{"cm": "current", "cm@v1": "one", "cm@v2": "two"} {
		app, err := render.ParseApplication([]byte(appHeader + "  components:\n    - name: c\n      type: " + ref + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		comps, err := r.RenderApp(context.Background(), app, src, render.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if v, _, _ := unstructured.NestedString(comps[0].Workload.Object, "data", "v"); v != want {
			t.Errorf("%s rendered %q, want %q", ref, v, want)
		}
	}
}

// TestListArithmetic renders a template written for older CUE, where
// lists were joined with +.
func TestListArithmetic(t *testing.T) {
	d := loadCUE(t, "old.cue", `"old": {type: "component"}
template: {
	output: {
		apiVersion: "v1"
		kind:       "ConfigMap"
		metadata: name: context.name
		data: keys: "\(len([{a: 1}] + parameter.extra))"
	}
	parameter: extra: [...{...}]
}`)
	app, err := render.ParseApplication([]byte(appHeader + "  components:\n    - name: c\n      type: old\n      properties: {extra: [{b: 2}, {c: 3}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	comps, err := render.NewRenderer().RenderApp(context.Background(), app, definition.NewSet(d), render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v, _, _ := unstructured.NestedString(comps[0].Workload.Object, "data", "keys"); v != "3" {
		t.Errorf("keys = %q, want 3", v)
	}
}
