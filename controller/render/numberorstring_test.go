package render_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
)

// KubeVela's definitions take a number or a string where Kubernetes takes
// a quantity: the resource trait's cpu, requests.cpu and limits.cpu
// (`*1 | number | string`; the other quantity fields of its internal
// definitions are strings). Both forms must give the same objects once
// the quantities are read as Kubernetes reads them (0.5 and "500m" are
// one quantity; the API server stores "500m" for both).
func TestNumberOrStringRendersTheSame(t *testing.T) {
	cases := []struct {
		name      string
		component string // its type; its properties are fixed below
		number    map[string]any
		str       map[string]any
	}{
		{"cpu half a core", "webservice", map[string]any{"cpu": 0.5}, map[string]any{"cpu": "500m"}},
		{"cpu as a decimal string", "webservice", map[string]any{"cpu": 0.5}, map[string]any{"cpu": "0.5"}},
		{"cpu one core", "worker", map[string]any{"cpu": 1}, map[string]any{"cpu": "1"}},
		{"cpu on a daemon", "daemon", map[string]any{"cpu": 1.5, "memory": "64Mi"}, map[string]any{"cpu": "1500m", "memory": "64Mi"}},
		{"cpu on a cron job", "cron-task", map[string]any{"cpu": 0.25, "memory": "128Mi"}, map[string]any{"cpu": "250m", "memory": "128Mi"}},
		{"requests and limits", "statefulset",
			map[string]any{"requests": map[string]any{"cpu": 2, "memory": "1Gi"}, "limits": map[string]any{"cpu": 2.5, "memory": "2Gi"}},
			map[string]any{"requests": map[string]any{"cpu": "2", "memory": "1Gi"}, "limits": map[string]any{"cpu": "2500m", "memory": "2Gi"}}},
	}
	defs, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	r := render.NewRenderer()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			num := canonicalObjects(t, renderResource(t, r, defs, c.component, c.number))
			str := canonicalObjects(t, renderResource(t, r, defs, c.component, c.str))
			if num != str {
				t.Errorf("a number and a string give different objects:\nnumber: %s\nstring: %s", num, str)
			}
			if !strings.Contains(num, `"cpu":`) {
				t.Errorf("no cpu in the rendered objects: %s", num)
			}
		})
	}
}

// renderResource renders one component of the given type with the
// resource trait's props and returns what dry-run prints.
func renderResource(t *testing.T, r *render.Renderer, defs definition.Source, typ string, props map[string]any) string {
	t.Helper()
	comp := map[string]any{"name": "app", "type": typ, "properties": map[string]any{"image": "busybox:1.36"},
		"traits": []any{map[string]any{"type": "resource", "properties": props}}}
	if typ == "cron-task" {
		comp["properties"].(map[string]any)["schedule"] = "0 2 * * *"
	}
	data, _ := json.Marshal(map[string]any{
		"apiVersion": "core.oam.dev/v1beta1", "kind": "Application",
		"metadata": map[string]any{"name": "sized", "namespace": "demo"},
		"spec":     map[string]any{"components": []any{comp}},
	})
	app, err := render.ParseApplication(data)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := r.DryRun(context.Background(), &out, app, defs); err != nil {
		t.Fatalf("%s: %v", props, err)
	}
	return out.String()
}

// canonicalObjects reads dry-run's YAML documents and writes them as JSON
// with every cpu and memory quantity in the form Kubernetes stores.
func canonicalObjects(t *testing.T, yaml string) string {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(yaml), 4096)
	var docs []any
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			break
		}
		if doc != nil {
			docs = append(docs, canonicalQuantities(t, doc, ""))
		}
	}
	if len(docs) == 0 {
		t.Fatalf("no objects in:\n%s", yaml)
	}
	b, err := json.Marshal(docs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func canonicalQuantities(t *testing.T, v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = canonicalQuantities(t, e, k)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = canonicalQuantities(t, e, "")
		}
		return x
	}
	if key != "cpu" && key != "memory" {
		return v
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case float64:
		b, _ := json.Marshal(x)
		s = string(b)
	case int64:
		b, _ := json.Marshal(x)
		s = string(b)
	default:
		b, _ := json.Marshal(x)
		s = string(b)
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		t.Fatalf("%s: %v is not a quantity: %v", key, v, err)
	}
	return q.String()
}
