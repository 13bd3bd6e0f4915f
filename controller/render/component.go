package render

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/definition"
)

// Rendering a component, first step: look up its definitions and evaluate
// its template (or find it in the memo). The traits are the second step
// (traits.go); schedule.go runs the steps of all components.

// componentJob carries a component from its first rendering step to its
// second.
type componentJob struct {
	item workItem
	rc   *RenderedComponent
	// traits are compiled by the engine of the first step: the second
	// compiles their definitions again on its own engine.
	traits  []*Template
	memoKey [32]byte
	memoize bool
	// done: the memo had the component, there is no second step.
	done bool
}

// renderWorkload is the first step of rendering a component: it resolves
// the component's definitions and evaluates its template.
func (r *engine) renderWorkload(ctx context.Context, app *v1beta1.Application, it workItem, base map[string]any, defs definition.Source, opts Options) (*componentJob, error) {
	t, traits, err := r.lookupComponent(ctx, defs, it.comp)
	if err != nil {
		return nil, err
	}
	if t.Def.Name == ComponentRefObjects {
		// The objects read become its properties (the memo key and
		// context.revision follow them).
		if it.props, err = readRefObjects(ctx, it.props, it.comp.Name, appNamespace(app), opts); err != nil {
			return nil, err
		}
	}
	cctx := make(map[string]any, len(base)+3)
	for k, v := range base {
		cctx[k] = v
	}
	cctx["name"] = it.comp.Name
	cctx["replicaKey"] = it.replicaKey
	cctx["revision"] = ""
	if !opts.Offline {
		cctx["revision"] = componentRevision(it)
	}
	j := &componentJob{item: it, traits: traits}
	j.memoKey, j.memoize = r.r.memoKey(app, it, cctx, t, traits, opts)
	if j.memoize {
		if hit := r.r.memoGet(j.memoKey); hit != nil {
			j.rc, j.done = hit, true
			return j, nil
		}
	}
	if j.rc, err = r.evaluateComponent(t, it, cctx); err != nil {
		return nil, err
	}
	if err := checkTraits(t, traits, j.rc); err != nil {
		return nil, err
	}
	return j, nil
}

// lookupComponent compiles the definitions of a component and its traits.
func (r *engine) lookupComponent(ctx context.Context, defs definition.Source, c v1beta1.ApplicationComponent) (*Template, []*Template, error) {
	t, err := r.lookup(ctx, defs, definition.KindComponent, c.Type)
	if err != nil {
		return nil, nil, err
	}
	traits := make([]*Template, len(c.Traits))
	for i, tr := range c.Traits {
		if traits[i], err = r.lookup(ctx, defs, definition.KindTrait, tr.Type); err != nil {
			return nil, nil, fmt.Errorf("trait %q: %w", tr.Type, err)
		}
	}
	return t, traits, nil
}

// evaluateComponent evaluates a component's template and decodes its
// objects.
func (r *engine) evaluateComponent(t *Template, it workItem, cctx map[string]any) (*RenderedComponent, error) {
	v, params, err := r.evaluate(t, cctx, it.props)
	if err != nil {
		return nil, err
	}
	c := it.comp
	out := &RenderedComponent{
		Name: c.Name, Type: c.Type, ReplicaKey: it.replicaKey, DependsOn: c.DependsOn,
		Definition: t.Def, Properties: params, Context: cctx,
	}
	if ov := v.LookupPath(pathOutput); ov.Exists() {
		m, err := decodeObject(ov, "output")
		if err != nil {
			return nil, err
		}
		out.Workload = &unstructured.Unstructured{Object: m}
	}
	if out.Auxiliaries, err = namedOutputs(v, "component"); err != nil {
		return nil, err
	}
	if out.Workload == nil && len(out.Auxiliaries) == 0 {
		return nil, fmt.Errorf("component definition %q has no output: its template must set `output` or `outputs`", t.Def.Name)
	}
	return out, nil
}
