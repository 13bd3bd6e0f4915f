package render

import (
	"errors"
	"fmt"
	"strings"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/patch"
)

// Rendering a component, second step: apply its traits in order to the
// rendered workload and outputs (patch, patchOutputs, outputs).

// renderTraits is the second step of rendering a component: it applies
// the traits, in order, to the rendered component and labels its objects.
func (r *engine) renderTraits(app *v1beta1.Application, j *componentJob, opts Options) error {
	out := j.rc
	for i, first := range j.traits {
		tt, err := r.compile(first.Def)
		if err != nil {
			return fmt.Errorf("trait %q: %w", first.Def.Name, err)
		}
		rt, err := r.renderTrait(tt, j.item.traitProps[i], j.item.props, out, opts)
		if err != nil {
			return fmt.Errorf("trait %q: %w", tt.Def.Name, err)
		}
		out.Traits = append(out.Traits, rt)
	}
	stamp(app, out)
	if j.memoize {
		r.r.memoPut(j.memoKey, out)
	}
	return nil
}

// checkTraits checks that each trait applies to the workload and none
// conflicts with another.
func checkTraits(ct *Template, traits []*Template, rc *RenderedComponent) error {
	w := workloadOf(ct.Def, rc.Workload)
	for _, tt := range traits {
		if !Applies(tt.Def.Trait().Spec.AppliesToWorkloads, w) {
			return fmt.Errorf("trait %q does not apply to component type %q (workload %s); it applies to: %s",
				tt.Def.Name, ct.Def.Name, w.Resource(), strings.Join(tt.Def.Trait().Spec.AppliesToWorkloads, ", "))
		}
	}
	for i, tt := range traits {
		for j, other := range traits {
			if i != j && Conflicts(tt.Def.Trait().Spec.ConflictsWith, other.Def.Name) {
				return fmt.Errorf("trait %q conflicts with trait %q: remove one of them", tt.Def.Name, other.Def.Name)
			}
		}
	}
	return nil
}

// renderTrait applies one trait; compProps are the component's properties
// (context.parameter).
func (r *engine) renderTrait(t *Template, props, compProps map[string]any, rc *RenderedComponent, opts Options) (RenderedTrait, error) {
	spec := t.Def.Trait().Spec
	rt := RenderedTrait{Type: t.Def.Name, Definition: t.Def, Stage: spec.Stage}
	if rt.Stage == "" {
		rt.Stage = v1beta1.StageDefaultDispatch
	}
	tctx := make(map[string]any, len(rc.Context)+6)
	for k, v := range rc.Context {
		tctx[k] = v
	}
	tctx["parameter"] = compProps
	tctx["componentType"] = rc.Type
	var output map[string]any
	if rc.Workload != nil {
		output = rc.Workload.Object
	}
	if rt.Stage == v1beta1.StagePostDispatch {
		if opts.Live == nil {
			rt.Skipped = true
			return rt, nil
		}
		if live := opts.Live(rc.Name, rc.ReplicaKey); live != nil {
			output = live.Object
			if st, ok := live.Object["status"]; ok {
				tctx["status"] = st
			}
		}
	}
	if output != nil {
		tctx["output"] = output
	}
	outs := make(map[string]any, len(rc.Auxiliaries))
	for _, a := range rc.Auxiliaries {
		outs[a.Name] = a.Object.Object
	}
	tctx["outputs"] = outs

	v, params, err := r.evaluate(t, tctx, props)
	if err != nil {
		return rt, err
	}
	rt.Properties = params
	if pv := v.LookupPath(pathPatch); pv.Exists() {
		if rc.Workload == nil {
			return rt, errors.New("the component has no workload to patch")
		}
		m, err := patch.Apply(rc.Workload.Object, pv)
		if err != nil {
			return rt, err
		}
		rc.Workload.Object = m
	}
	if po := v.LookupPath(pathPatchOuts); po.Exists() {
		it, err := po.Fields()
		if err != nil {
			return rt, fmt.Errorf("patchOutputs: %s", cueMessage(err, ""))
		}
		for it.Next() {
			name := it.Selector().Unquoted()
			for i := range rc.Auxiliaries {
				if rc.Auxiliaries[i].Name != name {
					continue
				}
				m, err := patch.Apply(rc.Auxiliaries[i].Object.Object, it.Value())
				if err != nil {
					return rt, fmt.Errorf("patchOutputs.%s: %w", name, err)
				}
				rc.Auxiliaries[i].Object.Object = m
			}
		}
	}
	aux, err := namedOutputs(v, "trait")
	if err != nil {
		return rt, err
	}
	for _, a := range aux {
		a.Trait = t.Def.Name
		rc.Auxiliaries = append(rc.Auxiliaries, a)
	}
	return rt, nil
}
