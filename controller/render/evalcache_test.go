package render

import (
	"context"
	"crypto/sha256"
	"reflect"
	"testing"

	"github.com/velad-dev/velad/controller/builtins"
)

const evalCacheApp = `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: shop
spec:
  components:
    - name: web
      type: webservice
      properties: {image: nginx, ports: [{port: 80, expose: true}]}
      traits:
        - type: scaler
          properties: {replicas: 3}
        - type: labels
          properties: {team: shop}
        - type: env
          properties: {env: {B: "2"}}
    - name: api
      type: webservice
      properties: {image: api}
      traits:
        - type: scaler
          properties: {replicas: 3}
        - type: labels
          properties: {team: shop}
    - name: job
      type: k8s-objects
      properties:
        objects: [{apiVersion: v1, kind: ConfigMap, metadata: {name: c}}]
      traits:
        - type: labels
          properties: {team: shop}
`

// TestEvalCache checks that only parameter-only evaluations are cached and
// that cached renders equal fresh ones.
func TestEvalCache(t *testing.T) {
	defs, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	app, err := ParseApplication([]byte(evalCacheApp))
	if err != nil {
		t.Fatal(err)
	}
	r := NewRenderer()
	r.SetMemoSize(0)
	first, err := r.RenderApp(context.Background(), app, defs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// scaler{3}; labels on a Deployment; labels on a ConfigMap (no
	// spec.template: another result); k8s-objects (reads no context).
	// Not webservice or env: they read context values.
	keys := map[[32]byte]bool{}
	r.eachEngine(func(e *engine) {
		for k := range e.evals.c.Keys() {
			keys[k] = true
		}
	})
	if n := len(keys); n != 4 {
		t.Errorf("cached %d evaluations, want 4", n)
	}
	again, err := r.RenderApp(context.Background(), app, defs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := NewRenderer().RenderApp(context.Background(), app, defs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range fresh {
		for _, got := range [][]RenderedComponent{first, again} {
			if !reflect.DeepEqual(got[i].Objects(), fresh[i].Objects()) || !reflect.DeepEqual(got[i].Traits, fresh[i].Traits) {
				t.Errorf("component %s differs from a fresh render", fresh[i].Name)
			}
		}
	}
	// Callers own what they get.
	again[0].Traits[0].Properties["replicas"] = int64(9)
	third, err := r.RenderApp(context.Background(), app, defs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := third[0].Traits[0].Properties["replicas"]; got != int64(3) {
		t.Errorf("cached properties were modified: replicas = %v", got)
	}
}

func TestHashValueTypes(t *testing.T) {
	sum := func(v any) [32]byte {
		h := sha256.New()
		if !hashValue(h, v) {
			t.Fatalf("hashValue(%#v) = false", v)
		}
		var k [32]byte
		h.Sum(k[:0])
		return k
	}
	distinct := []any{
		nil, true, false, int64(3), 3.0, "3", []any{}, map[string]any{},
		[]any{"a", "b"}, []any{"ab"}, map[string]any{"a": "b"}, map[string]any{"ab": ""},
		map[string]any{"a": nil}, []any{nil},
	}
	seen := map[[32]byte]any{}
	for _, v := range distinct {
		k := sum(v)
		if prev, ok := seen[k]; ok {
			t.Errorf("%#v and %#v hash alike", prev, v)
		}
		seen[k] = v
	}
	if sum(map[string]any{"a": int64(1), "b": "x"}) != sum(map[string]any{"b": "x", "a": int64(1)}) {
		t.Error("map order changes the hash")
	}
	if hashValue(sha256.New(), []string{"a"}) {
		t.Error("hashValue accepted []string")
	}
}
