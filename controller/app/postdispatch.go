package app

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/render"
	"github.com/velad-dev/velad/controller/tracker"
)

// PostDispatch traits are rendered once their component is applied and
// healthy, against its live workload: their templates see
// context.output with the workload's status (and context.status), as in
// KubeVela. The first render of a reconcile skips them.

// hasPostDispatch reports whether a component has traits still to render.
func hasPostDispatch(rc *render.RenderedComponent) bool {
	for _, t := range rc.Traits {
		if t.Skipped {
			return true
		}
	}
	return false
}

// postDispatch renders the PostDispatch traits of component i with its
// live workload, puts their objects and health checks into the component
// and returns the objects to apply.
func (run *appRun) postDispatch(ctx context.Context, i int) ([]tracker.Entry, error) {
	rc := &run.comps[i]
	if !hasPostDispatch(rc) {
		return nil, nil
	}
	var live *unstructured.Unstructured
	if rc.Workload != nil {
		live = run.liveObject(ctx, rc.Workload)
	}
	traits, objects, err := run.r.Renderer.RenderPostDispatch(ctx, run.spec, run.defs, rc, live)
	if err != nil {
		return nil, err
	}
	var entries []tracker.Entry
	for _, a := range objects {
		if err := run.r.applier().Default(a.Object, run.app.Namespace); err != nil {
			return nil, fmt.Errorf("component %q trait %q: %w", rc.Name, a.Trait, err)
		}
		if err := run.r.checkLane(run.app, a.Object); err != nil {
			return nil, fmt.Errorf("component %q trait %q: %w", rc.Name, a.Trait, err)
		}
		rc.Auxiliaries = append(rc.Auxiliaries, a)
		entries = append(entries, tracker.Entry{Object: a.Object, Component: rc.Name, Trait: a.Trait})
	}
	// Their health is evaluated from now on.
	rc.Traits = traits
	return entries, nil
}
