package render

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/definition"
)

// RenderPostDispatch renders the PostDispatch traits of rc, a component
// of app as RenderApp rendered it without live workloads (those traits
// Skipped), and nothing else: rc's template and its other traits are not
// evaluated again. live is the component's live workload (nil when there
// is none). A PostDispatch trait's template sees it as context.output
// (the rendered workload when live is nil) and its status as
// context.status; context.outputs holds the objects of the component and
// of the traits before it in the list.
//
// It returns rc's traits with the PostDispatch ones rendered, and the
// objects those output, labelled as RenderApp labels objects. rc is not
// modified: a PostDispatch trait's patch of the workload or of other
// traits' objects is not kept.
func (r *Renderer) RenderPostDispatch(ctx context.Context, app *v1beta1.Application, defs definition.Source, rc *RenderedComponent, live *unstructured.Unstructured) (_ []RenderedTrait, _ []Auxiliary, err error) {
	if !slices.ContainsFunc(rc.Traits, func(t RenderedTrait) bool { return t.Skipped }) {
		return rc.Traits, nil, nil
	}
	// A bug in CUE evaluation must not take the controller down.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("render component %q: %w: %v", rc.Name, ErrInternal, p)
		}
	}()
	e, err := r.acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer r.release(e)
	it, err := e.planned(ctx, app, defs, rc)
	if err != nil {
		return nil, nil, fmt.Errorf("render component %q: %w", rc.Name, err)
	}
	// The traits render into a copy: rc stays as it was rendered.
	work := rc.deepCopy()
	rendered := work.Auxiliaries
	work.Auxiliaries = nil
	next := 0
	// reveal adds the rendered objects of the component (trait "") or of
	// one trait to context.outputs, in the order RenderApp made them.
	reveal := func(trait string) {
		for next < len(rendered) && rendered[next].Trait == trait {
			work.Auxiliaries = append(work.Auxiliaries, rendered[next])
			next++
		}
	}
	reveal("")
	opts := Options{Live: func(string, string) *unstructured.Unstructured { return live }}
	var made []Auxiliary
	for i, t := range work.Traits {
		if !t.Skipped {
			reveal(t.Type)
			continue
		}
		tt, err := e.compile(t.Definition)
		if err != nil {
			return nil, nil, fmt.Errorf("render component %q: trait %q: %w", rc.Name, t.Type, err)
		}
		before := len(work.Auxiliaries)
		rt, err := e.renderTrait(tt, it.traitProps[i], it.props, work, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("render component %q: trait %q: %w", rc.Name, tt.Def.Name, err)
		}
		work.Traits[i] = rt
		// The objects share their *Unstructured with work, so a later
		// trait's patchOutputs of them shows in made.
		made = append(made, work.Auxiliaries[before:]...)
	}
	stamp(app, &RenderedComponent{Name: rc.Name, ReplicaKey: rc.ReplicaKey, Context: rc.Context, Auxiliaries: made})
	return work.Traits, made, nil
}

// planned is rc as planned after the policies it was rendered with: its
// properties and those of its traits, in the order of rc.Traits.
func (r *engine) planned(ctx context.Context, app *v1beta1.Application, defs definition.Source, rc *RenderedComponent) (workItem, error) {
	policies, err := r.policies(ctx, app, defs)
	if err != nil {
		return workItem{}, err
	}
	items, err := plan(app, policies, rc.Policies)
	if err != nil {
		return workItem{}, err
	}
	for _, it := range items {
		if it.comp.Name != rc.Name || it.replicaKey != rc.ReplicaKey {
			continue
		}
		if len(it.traitProps) != len(rc.Traits) {
			break
		}
		return it, nil
	}
	return workItem{}, fmt.Errorf("the application's traits of component %q are not those it was rendered with: render the application again", rc.Name)
}
