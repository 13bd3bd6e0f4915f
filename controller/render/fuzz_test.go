package render_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
)

// FuzzRenderProperties renders built-in components and traits with
// arbitrary properties: errors are fine, panics are not.
func FuzzRenderProperties(f *testing.F) {
	seeds := []struct {
		comp, trait string
		props, tp   string
	}{
		{"webservice", "scaler", `{"image":"nginx","ports":[{"port":80,"expose":true}]}`, `{"replicas":2}`},
		{"webservice", "gateway", `{"image":"nginx"}`, `{"domain":"a.b","http":{"/":80}}`},
		{"webservice", "env", `{"image":"nginx","env":[{"name":"A","value":"1"}]}`, `{"env":{"B":"2"},"unset":["A"]}`},
		{"worker", "labels", `{"image":"x","cpu":"1","limit":{"memory":"1Gi"}}`, `{"a":"b","c":null}`},
		{"task", "sidecar", `{"image":"x","count":-1}`, `{"name":"s","image":"y"}`},
		{"cron-task", "storage", `{"image":"x","schedule":"* * * * *"}`, `{"pvc":[{"name":"d","mountPath":"/d"}]}`},
		{"statefulset", "resource", `{"image":"x","ports":[{"port":1}]}`, `{"cpu":"1"}`},
		{"daemon", "json-patch", `{"image":"x"}`, `{"operations":[{"op":"remove","path":"/spec"}]}`},
		{"k8s-objects", "json-merge-patch", `{"objects":[{"apiVersion":"v1","kind":"ConfigMap"}]}`, `{"metadata":null}`},
		{"webservice", "command", `{"image":1e400}`, `{"addArgs":["x"],"args":["y"]}`},
		{"webservice", "container-image", `[]`, `{"image":"z","containerName":"missing"}`},
		{"webservice", "startup-probe", `{"image":"x","readinessProbe":{"httpGet":{"port":"80"}}}`, `{"tcpSocket":{"port":80}}`},
	}
	for _, s := range seeds {
		f.Add(s.comp, s.trait, s.props, s.tp)
	}
	builtins, err := builtins.Load()
	if err != nil {
		f.Fatal(err)
	}
	r := render.NewRenderer()
	f.Fuzz(func(t *testing.T, comp, trait, props, tprops string) {
		if strings.Contains(comp, "helmchart") {
			t.Skip("helmchart downloads its chart: tests reach loopback only")
		}
		app := &v1beta1.Application{}
		app.Name = "fuzz"
		app.Spec.Components = []v1beta1.ApplicationComponent{{
			Name:       "c",
			Type:       comp,
			Properties: &runtime.RawExtension{Raw: []byte(props)},
			Traits:     []v1beta1.ApplicationTrait{{Type: trait, Properties: &runtime.RawExtension{Raw: []byte(tprops)}}},
		}}
		comps, err := r.RenderApp(context.Background(), app, builtins, render.Options{})
		if errors.Is(err, render.ErrInternal) {
			t.Fatal(err)
		}
		if err == nil {
			for _, c := range comps {
				for _, o := range c.Objects() {
					if _, err := json.Marshal(o.Object); err != nil {
						t.Errorf("rendered object does not marshal: %v", err)
					}
				}
			}
		}
	})
}

// FuzzRenderDefinition renders a user-written component definition: any
// template text must give a result or an error, never a panic.
func FuzzRenderDefinition(f *testing.F) {
	seeds := []struct{ tmpl, props string }{
		{`output: {apiVersion: "v1", kind: "ConfigMap", data: x: parameter.x}
parameter: x: *"d" | string`, `{"x":"y"}`},
		{`output: {apiVersion: "v1", kind: "ConfigMap", metadata: name: context.name}
outputs: s: {apiVersion: "v1", kind: "Secret"}
parameter: {}`, `{}`},
		{`output: parameter`, `{"apiVersion":"v1","kind":"Pod"}`},
		{`output: {apiVersion: "v1", kind: "ConfigMap", data: [for x in parameter.l {x}]}
parameter: l: [...string]`, `{"l":["a"]}`},
		{`errs: ["always"]
output: {apiVersion: "v1", kind: "X"}`, `{}`},
		{`output: _|_`, `{}`},
		{`import "strings"
output: {apiVersion: "v1", kind: "ConfigMap", data: a: strings.ToUpper(parameter.a)}
parameter: a: string`, `{"a":"b"}`},
		{`context: 1
output: context`, `{}`},
		{`output: {apiVersion: "v1", kind: "ConfigMap"}
patch: spec: x: 1`, `{"a":[1,{"b":null}]}`},
		{`x: x + 1
output: {apiVersion: "v1", kind: "ConfigMap", data: v: "\(x)"}`, `{}`},
	}
	for _, s := range seeds {
		f.Add(s.tmpl, s.props)
	}
	builtins, err := builtins.Load()
	if err != nil {
		f.Fatal(err)
	}
	r := render.NewRenderer()
	f.Fuzz(func(t *testing.T, tmpl, props string) {
		src := []byte("\"fuzzed\": {type: \"component\"}\ntemplate: {\n" + tmpl + "\n}\n")
		d, err := definition.ParseCUE("fuzzed.cue", src)
		if err != nil {
			return
		}
		app := &v1beta1.Application{}
		app.Name = "fuzz"
		app.Spec.Components = []v1beta1.ApplicationComponent{{
			Name: "c", Type: "fuzzed", Properties: &runtime.RawExtension{Raw: []byte(props)},
			Traits: []v1beta1.ApplicationTrait{{Type: "labels", Properties: &runtime.RawExtension{Raw: []byte(`{"a":"b"}`)}}},
		}}
		_, err = r.RenderApp(context.Background(), app, definition.Chain{definition.NewSet(d), builtins}, render.Options{})
		if errors.Is(err, render.ErrInternal) {
			t.Fatal(err)
		}
	})
}
