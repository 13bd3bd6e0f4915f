package task

import (
	"context"
	"encoding/base64"
	"encoding/json"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The kube provider: objects in the local cluster.

type kubeParams struct {
	Cluster string         `json:"cluster"`
	Value   map[string]any `json:"value"`
	Patch   map[string]any `json:"patch"`
}

// object reads value as an object with kind, apiVersion and name (the
// namespace defaults to the application's for namespaced kinds).
func (r *runner) object(value map[string]any, needName bool) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{Object: value}
	if u.GetAPIVersion() == "" || u.GetKind() == "" {
		return nil, permanentf("InvalidAction", "value needs apiVersion and kind")
	}
	if needName && u.GetName() == "" {
		return nil, permanentf("InvalidAction", "value needs metadata.name")
	}
	if u.GetNamespace() == "" && r.namespaced(u) {
		u.SetNamespace(r.env.Namespace)
	}
	return u, nil
}

func (r *runner) namespaced(u *unstructured.Unstructured) bool {
	if r.env.Client == nil {
		return true
	}
	ok, err := r.env.Client.IsObjectNamespaced(u)
	return err != nil || ok
}

func (r *runner) kubeApply(ctx context.Context, a *action) (map[string]any, error) {
	var p kubeParams
	if err := a.decode(&p); err != nil {
		return nil, err
	}
	if err := local(p.Cluster); err != nil {
		return nil, err
	}
	if len(p.Patch) > 0 {
		merged, err := mergePatch(p.Value, p.Patch)
		if err != nil {
			return nil, err
		}
		p.Value = merged
	}
	live, err := r.apply(ctx, p.Value)
	if err != nil {
		return nil, err
	}
	return map[string]any{"value": live}, nil
}

func (r *runner) apply(ctx context.Context, value map[string]any) (map[string]any, error) {
	u, err := r.object(value, true)
	if err != nil {
		return nil, err
	}
	live, err := r.env.Apply(ctx, u)
	if err != nil {
		if r.env.IsPermanent != nil && r.env.IsPermanent(err) {
			return nil, permanentf("ApplyFailed", "apply %s %q: %v", u.GetKind(), u.GetName(), err)
		}
		return nil, err
	}
	r.noteSecret(live)
	return live.Object, nil
}

func (r *runner) kubeApplyAll(ctx context.Context, a *action) (map[string]any, error) {
	var p struct {
		Cluster string           `json:"cluster"`
		Value   []map[string]any `json:"value"`
	}
	if err := a.decode(&p); err != nil {
		return nil, err
	}
	if err := local(p.Cluster); err != nil {
		return nil, err
	}
	out := make([]any, 0, len(p.Value))
	for _, v := range p.Value {
		live, err := r.apply(ctx, v)
		if err != nil {
			return nil, err
		}
		out = append(out, live)
	}
	return map[string]any{"value": out}, nil
}

// namedObject decodes a's parameters and the named object in its value,
// on the local cluster.
func (r *runner) namedObject(a *action) (kubeParams, *unstructured.Unstructured, error) {
	var p kubeParams
	if err := a.decode(&p); err != nil {
		return p, nil, err
	}
	if err := local(p.Cluster); err != nil {
		return p, nil, err
	}
	u, err := r.object(p.Value, true)
	return p, u, err
}

// kubeRead reads an object; one that cannot be read gives $returns.err.
func (r *runner) kubeRead(ctx context.Context, a *action) (map[string]any, error) {
	_, u, err := r.namedObject(a)
	if err != nil {
		return nil, err
	}
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(u.GroupVersionKind())
	err = r.env.Reader.Get(ctx, types.NamespacedName{Namespace: u.GetNamespace(), Name: u.GetName()}, live)
	switch {
	case err == nil:
		r.noteSecret(live)
		return map[string]any{"value": live.Object}, nil
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err) || apierrors.IsForbidden(err):
		return map[string]any{"err": err.Error()}, nil
	}
	return nil, err
}

func (r *runner) kubeList(ctx context.Context, a *action) (map[string]any, error) {
	var p struct {
		Cluster  string `json:"cluster"`
		Resource struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		} `json:"resource"`
		Filter struct {
			Namespace      string            `json:"namespace"`
			MatchingLabels map[string]string `json:"matchingLabels"`
		} `json:"filter"`
	}
	if err := a.decode(&p); err != nil {
		return nil, err
	}
	if err := local(p.Cluster); err != nil {
		return nil, err
	}
	l := &unstructured.UnstructuredList{}
	l.SetAPIVersion(p.Resource.APIVersion)
	l.SetKind(p.Resource.Kind + "List")
	opts := []client.ListOption{client.MatchingLabels(p.Filter.MatchingLabels)}
	if p.Filter.Namespace != "" {
		opts = append(opts, client.InNamespace(p.Filter.Namespace))
	}
	if err := r.env.Reader.List(ctx, l, opts...); err != nil {
		if meta.IsNoMatchError(err) || apierrors.IsForbidden(err) {
			return map[string]any{"err": err.Error()}, nil
		}
		return nil, err
	}
	items := make([]any, 0, len(l.Items))
	for i := range l.Items {
		r.noteSecret(&l.Items[i])
		items = append(items, l.Items[i].Object)
	}
	return map[string]any{"list": map[string]any{"items": items}}, nil
}

func (r *runner) kubeDelete(ctx context.Context, a *action) (map[string]any, error) {
	var p struct {
		Cluster string         `json:"cluster"`
		Value   map[string]any `json:"value"`
		Filter  *struct {
			Namespace      string            `json:"namespace"`
			MatchingLabels map[string]string `json:"matchingLabels"`
		} `json:"filter"`
	}
	if err := a.decode(&p); err != nil {
		return nil, err
	}
	if err := local(p.Cluster); err != nil {
		return nil, err
	}
	u, err := r.object(p.Value, p.Filter == nil)
	if err != nil {
		return nil, err
	}
	if p.Filter != nil && u.GetName() == "" {
		ns := p.Filter.Namespace
		if ns == "" {
			ns = u.GetNamespace()
		}
		if len(p.Filter.MatchingLabels) == 0 {
			return nil, permanentf("InvalidAction", "deleting by filter needs filter.matchingLabels")
		}
		if err := r.env.Client.DeleteAllOf(ctx, u, client.InNamespace(ns), client.MatchingLabels(p.Filter.MatchingLabels), client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
			return nil, err
		}
		return map[string]any{}, nil
	}
	if err := r.env.Client.Delete(ctx, u, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
		if apierrors.IsForbidden(err) || apierrors.IsBadRequest(err) || meta.IsNoMatchError(err) {
			return map[string]any{"err": err.Error()}, nil
		}
		return nil, err
	}
	return map[string]any{}, nil
}

// kubePatch merges patch into the live object.
func (r *runner) kubePatch(ctx context.Context, a *action) (map[string]any, error) {
	p, u, err := r.namedObject(a)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(p.Patch)
	if err != nil {
		return nil, permanentf("InvalidAction", "patch: %v", err)
	}
	if err := r.env.Client.Patch(ctx, u, client.RawPatch(types.MergePatchType, body)); err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
			return nil, permanentf("PatchFailed", "patch %s %q: %v", u.GetKind(), u.GetName(), err)
		}
		return nil, err
	}
	r.noteSecret(u)
	return map[string]any{"result": u.Object}, nil
}

// noteSecret records the data of a Secret so it is never shown.
func (r *runner) noteSecret(u *unstructured.Unstructured) {
	if u == nil || u.GetKind() != "Secret" || u.GetAPIVersion() != "v1" {
		return
	}
	for _, field := range []string{"data", "stringData"} {
		m, _, _ := unstructured.NestedStringMap(u.Object, field)
		for _, v := range m {
			r.secret(v)
			if field == "data" {
				if b, err := base64.StdEncoding.DecodeString(v); err == nil {
					r.secret(string(b))
				}
			}
		}
	}
}

// mergePatch applies a JSON merge patch (RFC 7386) to value.
func mergePatch(value, patch map[string]any) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range value {
		out[k] = v
	}
	for k, pv := range patch {
		if pv == nil {
			delete(out, k)
			continue
		}
		pm, ok := pv.(map[string]any)
		if !ok {
			out[k] = pv
			continue
		}
		vm, _ := out[k].(map[string]any)
		if vm == nil {
			vm = map[string]any{}
		}
		m, err := mergePatch(vm, pm)
		if err != nil {
			return nil, err
		}
		out[k] = m
	}
	return out, nil
}
