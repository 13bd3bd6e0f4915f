package render

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// A ref-objects component delivers objects that already exist: each
// entry of its `objects` names objects in a cluster (one by name, or all
// that carry some labels), and the component renders them, read as the
// cluster holds them, as its own. The renderer reads nothing itself: the
// caller gives Options.ReadObjects (the controller reads through the API
// server; an offline dry-run has nothing to read from and says so).

// ComponentRefObjects is the type of the component whose objects are
// read from the cluster.
const ComponentRefObjects = "ref-objects"

// ObjectRef is one entry of a ref-objects component's `objects`: which
// objects to read. The type is Resource (and Group), or APIVersion and
// Kind; the objects are the one called Name or, with LabelSelector, all
// that carry its labels; Namespace and Cluster say where.
type ObjectRef struct {
	Resource   string
	Group      string
	APIVersion string
	Kind       string
	Name       string
	// Namespace is the application's when the entry names none.
	Namespace string
	// Cluster is "" for the cluster the controller runs in.
	Cluster       string
	LabelSelector map[string]string
}

// GroupVersionKind is the type of an entry written as apiVersion and
// kind (ok false when it is written as a resource).
func (o ObjectRef) GroupVersionKind() (gvk schema.GroupVersionKind, ok bool, err error) {
	if o.Resource != "" {
		return gvk, false, nil
	}
	gv, err := schema.ParseGroupVersion(o.APIVersion)
	if err != nil {
		return gvk, false, fmt.Errorf("apiVersion %q: %w", o.APIVersion, err)
	}
	return gv.WithKind(o.Kind), true, nil
}

// String describes the objects o names, for messages.
func (o ObjectRef) String() string {
	what := o.Kind
	if o.Resource != "" {
		what = o.Resource
		if o.Group != "" {
			what += "." + o.Group
		}
	}
	var b strings.Builder
	b.WriteString(what)
	if o.LabelSelector != nil {
		fmt.Fprintf(&b, " with labels %s", selectorString(o.LabelSelector))
	} else {
		fmt.Fprintf(&b, " %q", o.Name)
	}
	if o.Namespace != "" {
		fmt.Fprintf(&b, " in namespace %q", o.Namespace)
	}
	if o.Cluster != "" && o.Cluster != DefaultCluster {
		fmt.Fprintf(&b, " of cluster %q", o.Cluster)
	}
	return b.String()
}

func selectorString(sel map[string]string) string {
	keys := slices.Sorted(maps.Keys(sel))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + sel[k]
	}
	return strings.Join(parts, ",")
}

// ReadObjects returns the objects ref names as its cluster holds them:
// an error when the object named is not there. It is called from
// components rendered in parallel, so it must be safe for concurrent use.
type ReadObjects func(ctx context.Context, ref ObjectRef) ([]*unstructured.Unstructured, error)

// refKeys are the fields an entry of `objects` may have (`selector` is
// the older name of `labelSelector`).
var refKeys = []string{"apiVersion", "cluster", "group", "kind", "labelSelector", "name", "namespace", "resource", "selector"}

// ParseObjectRefs reads the `objects` of a ref-objects component
// (component comp of an application in namespace ns): an entry without a
// name or labels names the object called as the component, one without
// a namespace the application's namespace.
func ParseObjectRefs(props map[string]any, comp, ns string) ([]ObjectRef, error) {
	list, ok := props["objects"].([]any)
	if !ok || len(list) == 0 {
		return nil, errors.New(`a ref-objects component needs "objects": a list of the objects to deliver, each with resource (or apiVersion and kind) and name or labelSelector`)
	}
	refs := make([]ObjectRef, len(list))
	for i, x := range list {
		ref, err := parseObjectRef(x, comp, ns)
		if err != nil {
			return nil, fmt.Errorf("objects[%d]: %w", i, err)
		}
		refs[i] = ref
	}
	return refs, nil
}

func parseObjectRef(x any, comp, ns string) (ObjectRef, error) {
	m, ok := x.(map[string]any)
	if !ok {
		return ObjectRef{}, fmt.Errorf("must be an object, got %s", describe(x))
	}
	str := func(k string) (string, error) {
		v, ok := m[k]
		if !ok || v == nil {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%s must be a string, got %s", k, describe(v))
		}
		return s, nil
	}
	var ref ObjectRef
	keys := slices.Sorted(maps.Keys(m))
	for _, k := range keys {
		if !slices.Contains(refKeys, k) {
			return ObjectRef{}, fmt.Errorf("unknown field %q (an entry has %s)", k, strings.Join(refKeys, ", "))
		}
	}
	for _, f := range []struct {
		key string
		to  *string
	}{{"resource", &ref.Resource}, {"group", &ref.Group}, {"apiVersion", &ref.APIVersion}, {"kind", &ref.Kind},
		{"name", &ref.Name}, {"namespace", &ref.Namespace}, {"cluster", &ref.Cluster}} {
		s, err := str(f.key)
		if err != nil {
			return ObjectRef{}, err
		}
		*f.to = s
	}
	for _, k := range []string{"labelSelector", "selector"} {
		v, ok := m[k]
		if !ok || v == nil || ref.LabelSelector != nil {
			continue
		}
		sm, ok := v.(map[string]any)
		if !ok {
			return ObjectRef{}, fmt.Errorf("%s must be a map of label names to values, got %s", k, describe(v))
		}
		ref.LabelSelector = make(map[string]string, len(sm))
		for lk, lv := range sm {
			s, ok := lv.(string)
			if !ok {
				return ObjectRef{}, fmt.Errorf("%s.%s must be a string, got %s", k, lk, describe(lv))
			}
			ref.LabelSelector[lk] = s
		}
	}
	switch {
	case ref.Resource == "" && (ref.APIVersion == "" || ref.Kind == ""):
		return ObjectRef{}, errors.New("say which objects: set resource (for example deployment or configmap) or apiVersion and kind")
	case ref.Resource != "" && (ref.APIVersion != "" || ref.Kind != ""):
		return ObjectRef{}, errors.New("set resource, or apiVersion and kind, not both")
	case ref.Name != "" && ref.LabelSelector != nil:
		return ObjectRef{}, errors.New("name and labelSelector cannot both be set: one object by name, or all with the labels")
	case ref.LabelSelector != nil && len(ref.LabelSelector) == 0:
		return ObjectRef{}, errors.New("labelSelector is empty: it would select every object of the type; name the labels")
	}
	if _, _, err := ref.GroupVersionKind(); err != nil {
		return ObjectRef{}, err
	}
	if ref.Name == "" && ref.LabelSelector == nil {
		ref.Name = comp
	}
	if ref.Namespace == "" {
		ref.Namespace = ns
	}
	return ref, nil
}

// readRefObjects replaces the properties of a ref-objects component by
// the objects they name, as read: {objects: [...]}, each object once (the
// last entry that names it wins), cleared of what the cluster set.
func readRefObjects(ctx context.Context, props map[string]any, comp, ns string, opts Options) (map[string]any, error) {
	refs, err := ParseObjectRefs(props, comp, ns)
	if err != nil {
		return nil, err
	}
	if opts.ReadObjects == nil {
		return nil, errors.New("a ref-objects component delivers objects read from a cluster, and this render has none to read from (an offline dry-run): apply the application to a cluster, or write the objects out in a k8s-objects component")
	}
	var objs []*unstructured.Unstructured
	index := map[string]int{}
	for i, ref := range refs {
		got, err := opts.ReadObjects(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("objects[%d]: %w", i, err)
		}
		if len(got) == 0 {
			return nil, fmt.Errorf("objects[%d]: no %s: nothing to deliver (label the objects, or fix the selector)", i, ref)
		}
		// A list comes back in the order the API server keeps; sort
		// for a render that does not depend on it.
		sort.SliceStable(got, func(a, b int) bool { return got[a].GetName() < got[b].GetName() })
		for _, o := range got {
			o = o.DeepCopy()
			clearForDelivery(o)
			key := o.GetAPIVersion() + "/" + o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
			if j, ok := index[key]; ok {
				objs[j] = o
				continue
			}
			index[key] = len(objs)
			objs = append(objs, o)
		}
	}
	list := make([]any, len(objs))
	for i, o := range objs {
		list[i] = o.Object
	}
	return map[string]any{"objects": list}, nil
}

// clearForDelivery removes what the cluster wrote on an object read:
// its identity, version, owners and status, and the cluster IP of a
// Service (the copy gets its own).
func clearForDelivery(o *unstructured.Unstructured) {
	for _, f := range []string{"resourceVersion", "generation", "uid", "creationTimestamp", "deletionTimestamp",
		"deletionGracePeriodSeconds", "ownerReferences", "managedFields", "selfLink"} {
		unstructured.RemoveNestedField(o.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(o.Object, "status")
	if o.GetAPIVersion() == "v1" && o.GetKind() == "Service" {
		if ip, _, _ := unstructured.NestedString(o.Object, "spec", "clusterIP"); ip != "None" {
			unstructured.RemoveNestedField(o.Object, "spec", "clusterIP")
			unstructured.RemoveNestedField(o.Object, "spec", "clusterIPs")
		}
	}
}
