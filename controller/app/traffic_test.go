package app

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func httpRoute(t *testing.T, spec string) *unstructured.Unstructured {
	t.Helper()
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(spec), &m); err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{"spec": m}}
	u.SetAPIVersion("gateway.networking.k8s.io/v1")
	u.SetKind("HTTPRoute")
	return u
}

func TestKeepBackendRefs(t *testing.T) {
	const app = `
rules:
- matches: [{path: {type: PathPrefix, value: /}}]
  backendRefs: [{name: hello, port: 8000}]`
	const weighed = `
rules:
- matches: [{path: {type: PathPrefix, value: /}, headers: []}]
  backendRefs: [{name: hello, port: 8000, weight: 80}, {name: hello-canary, port: 8000, weight: 20}]`
	cases := []struct {
		name, desired, live string
		kept                bool
	}{
		{"a release's canary is kept", app, weighed, true},
		{"app routes elsewhere now", `
rules:
- matches: [{path: {type: PathPrefix, value: /}}]
  backendRefs: [{name: other, port: 8000}]`, weighed, false},
		{"app changed its path", `
rules:
- matches: [{path: {type: PathPrefix, value: /api}}]
  backendRefs: [{name: hello, port: 8000}]`, weighed, false},
		{"app added a rule", app + `
- matches: [{path: {type: PathPrefix, value: /v2}}]
  backendRefs: [{name: hello, port: 8000}]`, weighed, false},
		{"port as a float from CUE", `
rules:
- matches: [{path: {type: PathPrefix, value: /}}]
  backendRefs: [{name: hello, port: 8000.0}]`, weighed, true},
		{"no rules", `hostnames: [a.local]`, weighed, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			desired, live := httpRoute(t, c.desired), httpRoute(t, c.live)
			before := desired.DeepCopy()
			out, ok := keepBackendRefs(desired, live)
			if ok != c.kept {
				t.Fatalf("kept = %v, want %v", ok, c.kept)
			}
			refs := func(u *unstructured.Unstructured) []any {
				rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
				if len(rules) == 0 {
					return nil
				}
				r, _ := rules[0].(map[string]any)["backendRefs"].([]any)
				return r
			}
			if c.kept {
				if got := len(refs(out)); got != 2 {
					t.Fatalf("kept route has %d backendRefs, want the live 2: %v", got, out.Object)
				}
				if m := refs(out)[1].(map[string]any); m["name"] != "hello-canary" {
					t.Fatalf("second backendRef %v, want hello-canary", m)
				}
			} else if len(refs(out)) != len(refs(before)) {
				t.Fatalf("route changed although not kept: %v", out.Object)
			}
			if len(refs(desired)) != len(refs(before)) {
				t.Fatal("the desired object was modified in place")
			}
		})
	}
}
