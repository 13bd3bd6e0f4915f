package render

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/patch"
	"github.com/velad-dev/velad/internal/fifo"
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
	// The snippets read a few fields of the live objects: evaluate only
	// those, and remember the result for the same inputs (apps of one
	// definition in the same state share it).
	snips := [3]string{st.HealthPolicy, st.CustomStatus, st.Details}
	var inputs [3]snippetInput
	key, cacheable := [32]byte{}, true
	hsh := sha256.New()
	for i, src := range snips {
		if src == "" {
			continue
		}
		t, err := e.snippet(src)
		if err != nil {
			// evalStatus reports it, naming the snippet.
			cacheable = false
			continue
		}
		in := snippetInput{t: t, ctx: c, parameter: parameter}
		if t.use != nil {
			in.ctx = t.use.prune(c)
		}
		if !t.readsParameter {
			in.parameter = map[string]any{}
		}
		inputs[i] = in
		hashString(hsh, byte('0'+i), src) // the slot: health, custom, details
		if cacheable && (!hashValue(hsh, in.ctx) || !hashValue(hsh, in.parameter)) {
			cacheable = false
		}
	}
	if cacheable {
		hsh.Sum(key[:0])
		if h, ok := r.statuses.get(key); ok {
			return h, nil
		}
	}
	h, err = e.evalStatus(def, st, inputs)
	if err == nil && cacheable {
		r.statuses.put(key, h)
	}
	return h, err
}

// snippetInput is what one status snippet is evaluated with.
type snippetInput struct {
	t              *Template
	ctx, parameter map[string]any
}

// statusCacheSize bounds the remembered status evaluations.
const statusCacheSize = 1024

// statusCache remembers status results by a hash of the snippets and of
// what they read; results are plain Go values, shared by the engines.
type statusCache struct {
	mu sync.Mutex
	c  fifo.Cache[[32]byte, Health]
}

func newStatusCache() *statusCache {
	return &statusCache{c: fifo.New[[32]byte, Health](statusCacheSize)}
}

func (c *statusCache) get(key [32]byte) (Health, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.c.Get(key)
	if ok && h.Details != nil {
		h.Details = maps.Clone(h.Details)
	}
	return h, ok
}

func (c *statusCache) put(key [32]byte, h Health) {
	if h.Details != nil {
		h.Details = maps.Clone(h.Details)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.c.Put(key, h)
}

func (r *engine) evalStatus(def *definition.Definition, st *v1beta1.Status, in [3]snippetInput) (Health, error) {
	h := Health{Healthy: true}
	if st.HealthPolicy != "" {
		v, err := r.evalSnippet(st.HealthPolicy, in[0])
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
		v, err := r.evalSnippet(st.CustomStatus, in[1])
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
		v, err := r.evalSnippet(st.Details, in[2])
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

// snippet compiles a status snippet (cached by its source).
func (r *engine) snippet(src string) (*Template, error) {
	key := sha256.Sum256([]byte("status\x00" + src))
	if t, ok := r.cache[key]; ok {
		return t, nil
	}
	v, f, err := r.build("status.cue", src+"\nparameter: _\n")
	if err != nil {
		return nil, err
	}
	// A snippet that never names parameter gets an empty one: filling
	// the rendered parameter would change nothing but the cost.
	t := &Template{value: v, use: contextUse(f), readsParameter: strings.Contains(src, "parameter")}
	if len(r.cache) >= maxCache {
		clear(r.cache)
	}
	r.cache[key] = t
	return t, nil
}

func (r *engine) evalSnippet(src string, in snippetInput) (cue.Value, error) {
	t := in.t
	if t == nil { // it did not compile
		if _, err := r.snippet(src); err != nil {
			return cue.Value{}, err
		}
		return cue.Value{}, fmt.Errorf("status snippet did not compile")
	}
	// One unification with context and parameter together.
	inputs, err := r.toValue(map[string]any{"context": in.ctx, "parameter": in.parameter})
	if err != nil {
		return cue.Value{}, err
	}
	v := t.value.Unify(inputs)
	if err := v.Err(); err != nil {
		return cue.Value{}, fmt.Errorf("%s", cueMessage(err, ""))
	}
	return v, nil
}
