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

	// The gateway trait reports the URL its Ingress is served at.
	ingress := func(host string, tls bool, ip string) *unstructured.Unstructured {
		rule := map[string]any{}
		if host != "" {
			rule["host"] = host
		}
		spec := map[string]any{"rules": []any{rule}}
		if tls {
			spec["tls"] = []any{map[string]any{"secretName": "cert"}}
		}
		o := map[string]any{"spec": spec}
		if ip != "" {
			o["status"] = map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"ip": ip}}}}
		}
		return &unstructured.Unstructured{Object: o}
	}
	for _, tc := range []struct {
		name    string
		param   map[string]any
		outputs map[string]*unstructured.Unstructured
		want    render.Health
	}{
		{name: "served", outputs: map[string]*unstructured.Unstructured{"ingress": ingress("shop.example.com", false, "10.0.0.1")},
			want: render.Health{Healthy: true, Message: "Visiting URL: http://shop.example.com, IP: 10.0.0.1"}},
		{name: "tls", outputs: map[string]*unstructured.Unstructured{"ingress": ingress("shop.example.com", true, "10.0.0.1")},
			want: render.Health{Healthy: true, Message: "Visiting URL: https://shop.example.com, IP: 10.0.0.1"}},
		{name: "no domain", outputs: map[string]*unstructured.Unstructured{"ingress": ingress("", false, "10.0.0.1")},
			want: render.Health{Healthy: true, Message: "Visiting URL: http://10.0.0.1 (no domain: every host name)"}},
		{name: "no domain, gatewayHost", param: map[string]any{"gatewayHost": "gw.example.com"},
			outputs: map[string]*unstructured.Unstructured{"ingress": ingress("", false, "10.0.0.1")},
			want:    render.Health{Healthy: true, Message: "Visiting URL: http://gw.example.com, IP: 10.0.0.1"}},
		{name: "named", param: map[string]any{"name": "public"},
			outputs: map[string]*unstructured.Unstructured{"ingress-public": ingress("shop.example.com", false, "10.0.0.1")},
			want:    render.Health{Healthy: true, Message: "Visiting URL: http://shop.example.com, IP: 10.0.0.1"}},
		{name: "not served", outputs: map[string]*unstructured.Unstructured{"ingress": ingress("shop.example.com", false, "")},
			want: render.Health{Healthy: true, Message: "No ingress controller serves this Ingress yet; is the ingress addon enabled? (velad addon enable ingress)"}},
		{name: "not applied", outputs: map[string]*unstructured.Unstructured{},
			want: render.Health{Healthy: false, Message: "No ingress controller serves this Ingress yet; is the ingress addon enabled? (velad addon enable ingress)"}},
	} {
		t.Run("gateway "+tc.name, func(t *testing.T) {
			got, err := r.EvalStatus(gateway, tc.param, map[string]any{"appName": "shop", "name": "api"}, render.LiveObjects{Outputs: tc.outputs})
			if err != nil {
				t.Fatal(err)
			}
			if got.Healthy != tc.want.Healthy || got.Message != tc.want.Message {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}

	t.Run("definition without status is healthy", func(t *testing.T) {
		scaler, _ := builtins.Lookup(context.Background(), "trait", "scaler", 0)
		got, err := r.EvalStatus(scaler, nil, nil, render.LiveObjects{})
		if err != nil || !got.Healthy {
			t.Errorf("got %+v, %v; want healthy", got, err)
		}
	})
}
