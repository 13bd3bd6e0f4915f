package render

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"cuelang.org/go/cue"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/patch"
)

// Evaluating a template: fill context and parameter, check `errs`, and
// decode `output` and `outputs` into Kubernetes objects.

func (r *engine) lookup(ctx context.Context, defs definition.Source, kind definition.Kind, ref string) (*Template, error) {
	name, rev, err := definition.SplitRef(ref)
	if err != nil {
		return nil, err
	}
	d, err := defs.Lookup(ctx, kind, name, rev)
	if err != nil {
		if errors.Is(err, definition.ErrNotFound) {
			return nil, fmt.Errorf("unknown %s type %q: no %s with that name", kind, ref, kind.CRDKind())
		}
		return nil, err
	}
	return r.compile(d)
}

// evaluate fills context and parameter into a template and checks `errs`.
// Evaluations that depend only on parameters are remembered (evalCache).
func (r *engine) evaluate(t *Template, ctxMap map[string]any, props map[string]any) (cue.Value, map[string]any, error) {
	props, err := checkProperties(t.schema, props)
	if err != nil {
		return cue.Value{}, nil, fmt.Errorf("invalid properties for %s %q: %w", t.Def.Kind, t.Def.Name, err)
	}
	if t.use != nil {
		ctxMap = t.use.prune(ctxMap)
	}
	key, cached := evalKey(t, ctxMap, props)
	if cached {
		if v, params, ok := r.evals.get(key); ok {
			return v, params, nil
		}
	}
	v, params, err := r.evaluateInputs(t, ctxMap, props)
	if err == nil && cached {
		r.evals.put(key, v, params)
	}
	return v, params, err
}

func (r *engine) evaluateInputs(t *Template, ctxMap, props map[string]any) (cue.Value, map[string]any, error) {
	// Within the render budget? (A sandbox evaluates it first.)
	if err := r.sandboxCheck(t.Def, false, ctxMap, props); err != nil {
		return cue.Value{}, nil, err
	}
	// One unification with parameter and context together: each FillPath
	// would evaluate the whole template again.
	inputs, err := r.toValue(map[string]any{"parameter": props, "context": ctxMap})
	if err != nil {
		return cue.Value{}, nil, fmt.Errorf("invalid properties for %s %q: %w", t.Def.Kind, t.Def.Name, err)
	}
	v := t.value.Unify(inputs)
	if t.actions {
		if v, err = r.runActions(t, v, ctxMap); err != nil {
			return cue.Value{}, nil, err
		}
	}
	params := props
	if t.parameter.Exists() {
		pv := v.LookupPath(pathParameter)
		d, derr := t.decodeParams(pv, props)
		if derr != nil {
			// Validate names the property; MarshalJSON does not.
			if err := pv.Validate(); err != nil {
				return cue.Value{}, nil, fmt.Errorf("invalid properties for %s %q: property %s", t.Def.Kind, t.Def.Name, quoteFirst(cueMessage(err, "parameter")))
			}
		} else if m, ok := d.(map[string]any); ok {
			params = m
		}
	}
	if errs := v.LookupPath(pathErrs); errs.Exists() {
		var list []string
		if err := errs.Decode(&list); err == nil && len(list) > 0 {
			return cue.Value{}, nil, fmt.Errorf("%s %q reports: %s", t.Def.Kind, t.Def.Name, strings.Join(list, "; "))
		}
	}
	return v, params, nil
}

// toValue converts JSON-like Go data to a CUE value by way of a CUE
// syntax tree. (Filling Go values directly loses fields when a template
// embeds them, e.g. `[for c in list {c}]`, with cuelang.org/go v0.17.1.)
func (r *engine) toValue(v any) (cue.Value, error) {
	expr, err := toAST(v)
	if err != nil {
		return cue.Value{}, err
	}
	cv := r.cue.BuildExpr(expr)
	if err := cv.Err(); err != nil {
		return cue.Value{}, err
	}
	return cv, nil
}

// quoteFirst turns "a.b: msg" into `"a.b": msg`.
func quoteFirst(s string) string {
	if p, msg, ok := strings.Cut(s, ": "); ok && !strings.ContainsAny(p, " ") {
		return fmt.Sprintf("%q: %s", p, msg)
	}
	return s
}

func decodeObject(v cue.Value, what string) (map[string]any, error) {
	d, err := patch.Decode(v)
	if err != nil {
		// Validate explains incomplete values better than MarshalJSON.
		if verr := v.Validate(cue.Concrete(true)); verr != nil {
			err = verr
		}
		return nil, fmt.Errorf("evaluate %s: %s", what, cueMessage(err, ""))
	}
	m, ok := d.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("evaluate %s: want a Kubernetes object, got %s", what, describe(d))
	}
	if m["apiVersion"] == nil || m["kind"] == nil {
		return nil, fmt.Errorf("evaluate %s: the object has no apiVersion or kind", what)
	}
	return m, nil
}

func namedOutputs(v cue.Value, what string) ([]Auxiliary, error) {
	outs := v.LookupPath(pathOutputs)
	if !outs.Exists() {
		return nil, nil
	}
	it, err := outs.Fields()
	if err != nil {
		return nil, fmt.Errorf("evaluate %s outputs: %s", what, cueMessage(err, ""))
	}
	var res []Auxiliary
	for it.Next() {
		name := it.Selector().Unquoted()
		m, err := decodeObject(it.Value(), fmt.Sprintf("%s outputs.%s", what, name))
		if err != nil {
			return nil, err
		}
		res = append(res, Auxiliary{Name: name, Object: &unstructured.Unstructured{Object: m}})
	}
	return res, nil
}
