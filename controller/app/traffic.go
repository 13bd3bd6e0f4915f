package app

import (
	"context"
	"reflect"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	rolloutv1beta1 "github.com/velad-dev/velad/operators/rollout/api/v1beta1"
)

// weighedRoute returns what to apply for u when a canary release weighs
// the live HTTPRoute's backendRefs (rolloutv1beta1.AnnotationBackendRefs):
// u with the live backendRefs kept, and the live resourceVersion as the
// apply's precondition, so a release that ends between the read and the
// apply is noticed (a Conflict, retried) instead of its canary being put
// back. Any other object comes back as it is, with no precondition.
func (run *appRun) weighedRoute(ctx context.Context, u *unstructured.Unstructured) (*unstructured.Unstructured, string) {
	gvk := u.GroupVersionKind()
	if gvk.Group != "gateway.networking.k8s.io" || gvk.Kind != "HTTPRoute" {
		return u, ""
	}
	live := run.liveObject(ctx, u)
	if live == nil || live.GetAnnotations()[rolloutv1beta1.AnnotationBackendRefs] == "" {
		return u, ""
	}
	kept, ok := keepBackendRefs(u, live)
	if !ok {
		return u, ""
	}
	return kept, live.GetResourceVersion()
}

// keepBackendRefs returns desired with the backendRefs of live's rules,
// when both have the same rules (matches, filters) in the same order and
// each desired rule's Services are among the live rule's (a release adds
// its canary beside them). ok is false when the app changed its rules:
// its own routing then wins.
func keepBackendRefs(desired, live *unstructured.Unstructured) (_ *unstructured.Unstructured, ok bool) {
	want, _, _ := unstructured.NestedSlice(desired.Object, "spec", "rules")
	have, _, _ := unstructured.NestedSlice(live.Object, "spec", "rules")
	if len(want) == 0 || len(want) != len(have) {
		return desired, false
	}
	for i := range want {
		w, ok1 := want[i].(map[string]any)
		h, ok2 := have[i].(map[string]any)
		if !ok1 || !ok2 || !sameRule(w, h) || !refsWithin(w["backendRefs"], h["backendRefs"]) {
			return desired, false
		}
		if refs, ok := h["backendRefs"]; ok {
			w["backendRefs"] = refs
		}
	}
	out := desired.DeepCopy()
	if err := unstructured.SetNestedSlice(out.Object, want, "spec", "rules"); err != nil {
		return desired, false
	}
	return out, true
}

// sameRule: the parts of a rule other than its backendRefs that the app
// sets are as live has them (the API server defaults matches, so only the
// app's keys are compared).
func sameRule(want, have map[string]any) bool {
	for k, v := range want {
		if k == "backendRefs" {
			continue
		}
		if !within(v, have[k]) {
			return false
		}
	}
	return true
}

// within reports whether every field set in want has that value in have
// (maps compared key by key, lists element by element).
func within(want, have any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !within(v, h[k]) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return false
		}
		for i := range w {
			if !within(w[i], h[i]) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(want, have) || numbersEqual(want, have)
	}
}

// numbersEqual compares JSON numbers of different Go types (int64 from
// the API server, float64 or int from a rendering).
func numbersEqual(a, b any) bool {
	x, ok1 := number(a)
	y, ok2 := number(b)
	return ok1 && ok2 && x == y
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// refsWithin: every Service the app routes to is among have's refs.
func refsWithin(want, have any) bool {
	w, _ := want.([]any)
	h, _ := have.([]any)
	names := map[string]bool{}
	for _, r := range h {
		if m, ok := r.(map[string]any); ok {
			if n, _ := m["name"].(string); n != "" {
				names[n] = true
			}
		}
	}
	for _, r := range w {
		m, ok := r.(map[string]any)
		if !ok {
			return false
		}
		if n, _ := m["name"].(string); !names[n] {
			return false
		}
	}
	return true
}
