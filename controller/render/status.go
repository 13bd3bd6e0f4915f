package render

import (
	"context"
	"crypto/sha256"
	"fmt"

	"cuelang.org/go/cue"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/patch"
)

// Health is the result of a definition's status policies.
type Health struct {
	Healthy bool
	Message string
	Details map[string]string
}

// LiveObjects are the live counterparts of what a component or trait
// rendered: the workload and the auxiliary objects by output name.
type LiveObjects struct {
	Output  *unstructured.Unstructured
	Outputs map[string]*unstructured.Unstructured
}

// EvalStatus evaluates the healthPolicy, customStatus and details of def
// (a component or trait definition) against live objects. parameter is
// the rendered parameter (RenderedComponent.Properties or
// RenderedTrait.Properties) and ctxMap the render context
// (RenderedComponent.Context); both may be nil. An empty healthPolicy
// means healthy.
func (r *Renderer) EvalStatus(def *definition.Definition, parameter, ctxMap map[string]any, live LiveObjects) (Health, error) {
	h := Health{Healthy: true}
	st := def.Status()
	if st == nil {
		return h, nil
	}
	c := make(map[string]any, len(ctxMap)+2)
	for k, v := range ctxMap {
		c[k] = v
	}
	if live.Output != nil {
		c["output"] = live.Output.Object
	}
	outs := map[string]any{}
	for k, o := range live.Outputs {
		if o != nil {
			outs[k] = o.Object
		}
	}
	c["outputs"] = outs
	if parameter == nil {
		parameter = map[string]any{}
	}

	e, err := r.acquire(context.Background())
	if err != nil {
		return h, err
	}
	defer r.release(e)
	return e.evalStatus(def, st, parameter, c)
}

func (r *engine) evalStatus(def *definition.Definition, st *v1beta1.Status, parameter, c map[string]any) (Health, error) {
	h := Health{Healthy: true}
	if st.HealthPolicy != "" {
		v, err := r.evalSnippet(st.HealthPolicy, c, parameter)
		if err != nil {
			return h, fmt.Errorf("healthPolicy of %s %q: %w", def.Kind, def.Name, err)
		}
		ok, err := v.LookupPath(cue.ParsePath("isHealth")).Bool()
		if err != nil {
			return h, fmt.Errorf("healthPolicy of %s %q: isHealth: %s", def.Kind, def.Name, cueMessage(err, ""))
		}
		h.Healthy = ok
	}
	if st.CustomStatus != "" {
		v, err := r.evalSnippet(st.CustomStatus, c, parameter)
		if err != nil {
			return h, fmt.Errorf("customStatus of %s %q: %w", def.Kind, def.Name, err)
		}
		if m := v.LookupPath(cue.ParsePath("message")); m.Exists() {
			s, err := m.String()
			if err != nil {
				return h, fmt.Errorf("customStatus of %s %q: message: %s", def.Kind, def.Name, cueMessage(err, ""))
			}
			h.Message = s
		}
	}
	if st.Details != "" {
		v, err := r.evalSnippet(st.Details, c, parameter)
		if err != nil {
			return h, fmt.Errorf("details of %s %q: %w", def.Kind, def.Name, err)
		}
		h.Details = map[string]string{}
		it, err := v.Fields()
		if err != nil {
			return h, fmt.Errorf("details of %s %q: %s", def.Kind, def.Name, cueMessage(err, ""))
		}
		for it.Next() {
			name := it.Selector().Unquoted()
			if name == "context" || name == "parameter" {
				continue
			}
			d, err := patch.Decode(it.Value())
			if err != nil {
				return h, fmt.Errorf("details of %s %q: %s: %s", def.Kind, def.Name, name, cueMessage(err, ""))
			}
			if s, ok := d.(string); ok {
				h.Details[name] = s
			} else {
				h.Details[name] = fmt.Sprint(d)
			}
		}
	}
	return h, nil
}

func (r *engine) evalSnippet(src string, ctxMap, parameter map[string]any) (cue.Value, error) {
	key := sha256.Sum256([]byte("status\x00" + src))
	t, ok := r.cache[key]
	if !ok {
		v, _, err := r.build("status.cue", src+"\nparameter: _\n")
		if err != nil {
			return cue.Value{}, err
		}
		t = &Template{value: v}
		if len(r.cache) >= maxCache {
			clear(r.cache)
		}
		r.cache[key] = t
	}
	cv, err := r.toValue(ctxMap)
	if err != nil {
		return cue.Value{}, err
	}
	pv, err := r.toValue(parameter)
	if err != nil {
		return cue.Value{}, err
	}
	v := t.value.FillPath(pathContext, cv).FillPath(pathParameter, pv)
	if err := v.Err(); err != nil {
		return cue.Value{}, fmt.Errorf("%s", cueMessage(err, ""))
	}
	return v, nil
}
