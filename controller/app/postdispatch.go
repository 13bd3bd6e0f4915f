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
	if run.liveComps == nil {
		comps, err := run.r.Renderer.RenderApp(ctx, run.spec, run.defs, render.Options{
			Revision: run.rev.Name, RevisionNum: run.rev.Revision, Live: run.liveWorkload(ctx),
		})
		if err != nil {
			return nil, err
		}
		run.liveComps = comps
	}
	var lc *render.RenderedComponent
	for j := range run.liveComps {
		if run.liveComps[j].Name == rc.Name && run.liveComps[j].ReplicaKey == rc.ReplicaKey {
			lc = &run.liveComps[j]
		}
	}
	if lc == nil {
		return nil, fmt.Errorf("component %q is missing from the render with live objects", rc.Name)
	}
	post := map[string]bool{}
	for _, t := range rc.Traits {
		if t.Skipped {
			post[t.Type] = true
		}
	}
	var entries []tracker.Entry
	for _, a := range lc.Auxiliaries {
		if !post[a.Trait] {
			continue
		}
		if err := run.r.applier().Default(a.Object, run.app.Namespace); err != nil {
			return nil, fmt.Errorf("component %q trait %q: %w", rc.Name, a.Trait, err)
		}
		rc.Auxiliaries = append(rc.Auxiliaries, a)
		entries = append(entries, tracker.Entry{Object: a.Object, Component: rc.Name, Trait: a.Trait})
	}
	// Their health is evaluated from now on.
	rc.Traits = lc.Traits
	return entries, nil
}

// liveWorkload gives the renderer each component's live workload.
func (run *appRun) liveWorkload(ctx context.Context) func(component, replicaKey string) *unstructured.Unstructured {
	return func(component, replicaKey string) *unstructured.Unstructured {
		for _, i := range run.byName[component] {
			rc := &run.comps[i]
			if rc.ReplicaKey == replicaKey && rc.Workload != nil {
				return run.liveObject(ctx, rc.Workload)
			}
		}
		return nil
	}
}
