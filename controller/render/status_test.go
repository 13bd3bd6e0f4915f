package render_test

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/render"
)

func TestEvalStatus(t *testing.T) {
	builtins, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	web, err := builtins.Lookup(context.Background(), "component", "webservice", 0)
	if err != nil {
		t.Fatal(err)
	}
	gateway, err := builtins.Lookup(context.Background(), "trait", "gateway", 0)
	if err != nil {
		t.Fatal(err)
	}
	deploy := func(spec, status map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "web", "generation": int64(2)},
			"spec":     spec, "status": status,
		}}
	}
	r := render.NewRenderer()
	cases := []struct {
		name string
		live render.LiveObjects
		want render.Health
	}{
		{"all replicas ready", render.LiveObjects{Output: deploy(
			map[string]any{"replicas": int64(3)},
			map[string]any{"replicas": int64(3), "readyReplicas": int64(3), "updatedReplicas": int64(3), "observedGeneration": int64(2)})},
			render.Health{Healthy: true, Message: "Ready:3/3"}},
		{"rolling out", render.LiveObjects{Output: deploy(
			map[string]any{"replicas": int64(3)},
			map[string]any{"readyReplicas": int64(1), "updatedReplicas": int64(3), "observedGeneration": int64(2)})},
			render.Health{Healthy: false, Message: "Ready:1/3"}},
		{"old generation observed", render.LiveObjects{Output: deploy(
			map[string]any{"replicas": int64(1)},
			map[string]any{"readyReplicas": int64(1), "updatedReplicas": int64(1), "observedGeneration": int64(1)})},
			render.Health{Healthy: false, Message: "Ready:1/1"}},
		{"no status yet", render.LiveObjects{Output: deploy(map[string]any{}, nil)},
			render.Health{Healthy: false, Message: "Ready:0/1"}},
	}
	// The second pass answers from the status cache.
	for pass := 0; pass < 2; pass++ {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := r.EvalStatus(web, nil, nil, tc.live)
				if err != nil {
					t.Fatal(err)
				}
				if got.Healthy != tc.want.Healthy || got.Message != tc.want.Message {
					t.Errorf("pass %d: got %+v, want %+v", pass, got, tc.want)
				}
			})
		}
	}

	t.Run("trait with outputs", func(t *testing.T) {
		ing := &unstructured.Unstructured{Object: map[string]any{
			"spec":   map[string]any{"rules": []any{map[string]any{"host": "shop.example.com"}}},
			"status": map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"ip": "10.0.0.1"}}}},
		}}
		svc := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"clusterIP": "10.43.0.5"}}}
		got, err := r.EvalStatus(gateway, nil, map[string]any{"appName": "shop"}, render.LiveObjects{
			Outputs: map[string]*unstructured.Unstructured{"ingress": ing, "service": svc},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := render.Health{Healthy: true, Message: "Visiting URL: shop.example.com, IP: 10.0.0.1"}
		if got.Healthy != want.Healthy || got.Message != want.Message {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})

	t.Run("definition without status is healthy", func(t *testing.T) {
		scaler, _ := builtins.Lookup(context.Background(), "trait", "scaler", 0)
		got, err := r.EvalStatus(scaler, nil, nil, render.LiveObjects{})
		if err != nil || !got.Healthy {
			t.Errorf("got %+v, %v; want healthy", got, err)
		}
	})
}
