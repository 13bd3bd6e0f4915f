package apply

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The other ways a resource-update policy writes an object: replace it
// whole (fields the rendered object lacks are removed, whoever set
// them), or delete it and create it again when given fields change.

// Replace makes the live object (nil: there is none) exactly obj: an
// update with the live object's resourceVersion, or a create.
func (a *Applier) Replace(ctx context.Context, obj, live *unstructured.Unstructured, defaultNamespace string) (*unstructured.Unstructured, error) {
	u := obj.DeepCopy()
	if err := a.Default(u, defaultNamespace); err != nil {
		return nil, err
	}
	u.SetManagedFields(nil)
	unstructured.RemoveNestedField(u.Object, "status")
	if live == nil {
		u.SetResourceVersion("")
		if err := a.Client.Create(ctx, u, client.FieldOwner(a.FieldManager)); err != nil {
			return nil, fmt.Errorf("create %s: %w", Describe(u), err)
		}
		return u, nil
	}
	u.SetResourceVersion(live.GetResourceVersion())
	if err := a.Client.Update(ctx, u, client.FieldOwner(a.FieldManager)); err != nil {
		return nil, fmt.Errorf("replace %s: %w", Describe(u), err)
	}
	return u, nil
}

// ErrRecreating: the object was deleted to be created again, and is not
// gone yet; apply it again later.
var ErrRecreating = errors.New("deleted to be created again; waiting for it to be gone")

// Recreate deletes live (to be created again by the next apply).
func (a *Applier) Recreate(ctx context.Context, live *unstructured.Unstructured) error {
	uid := live.GetUID()
	err := a.Client.Delete(ctx, live, client.Preconditions{UID: &uid}, client.PropagationPolicy("Background"))
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s to recreate it: %w", Describe(live), err)
	}
	return nil
}

// ChangedField returns the first of paths (spec.selector,
// spec.template.spec.containers[0].image) whose value in desired is not
// what live has ("" when none is). A path desired does not set is not
// compared, nor are fields live has and desired does not (the API
// server's defaults).
func ChangedField(live, desired *unstructured.Unstructured, paths []string) (string, error) {
	for _, p := range paths {
		segs, err := parsePath(p)
		if err != nil {
			return "", err
		}
		want, ok := lookup(desired.Object, segs)
		if !ok {
			continue
		}
		got, _ := lookup(live.Object, segs)
		if !within(want, got) {
			return p, nil
		}
	}
	return "", nil
}

// segment is a field name or, for a list, an index (field "").
type segment struct {
	field string
	index int
}

// parsePath reads a.b[0].c.
func parsePath(p string) ([]segment, error) {
	bad := func(why string) error {
		return fmt.Errorf("field path %q: %s (write it as spec.template.spec.containers[0].image)", p, why)
	}
	if strings.TrimSpace(p) == "" {
		return nil, bad("empty")
	}
	var segs []segment
	for _, part := range strings.Split(p, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name == "" && len(segs) == 0 {
			return nil, bad("it starts with no field name")
		}
		if name != "" {
			segs = append(segs, segment{field: name})
		} else if rest == "" {
			return nil, bad("empty field name")
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			n, err := strconv.Atoi(idx)
			if !ok || err != nil || n < 0 {
				return nil, bad("an index is a number in brackets")
			}
			segs = append(segs, segment{index: n})
			if after == "" {
				break
			}
			if !strings.HasPrefix(after, "[") {
				return nil, bad("text after an index")
			}
			rest = after[1:]
		}
	}
	return segs, nil
}

func lookup(v any, segs []segment) (any, bool) {
	for _, s := range segs {
		if s.field != "" {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[s.field]; !ok {
				return nil, false
			}
			continue
		}
		l, ok := v.([]any)
		if !ok || s.index >= len(l) {
			return nil, false
		}
		v = l[s.index]
	}
	return v, true
}

// within reports whether live has what want (a decoded JSON value)
// says: maps key by key (live may have more keys), lists element by
// element (of the same length), numbers by value (live objects decode
// as int64, rendered ones may hold float64).
func within(want, live any) bool {
	if x, ok := number(want); ok {
		y, ok := number(live)
		return ok && x == y
	}
	switch x := want.(type) {
	case map[string]any:
		y, ok := live.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !within(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := live.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !within(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(want, live)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}
