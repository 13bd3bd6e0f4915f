package app

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
	"github.com/velad-dev/velad/controller/revision"
	"github.com/velad-dev/velad/controller/tracker"
)

// appRun is one reconcile of one application.
type appRun struct {
	r *Reconciler
	// app is the live object; its status is written.
	app *v1beta1.Application
	// spec is what is rendered: app, or its revision's snapshot when a
	// publishVersion holds edits back.
	spec  *v1beta1.Application
	defs  definition.Source
	rev   v1beta1.Revision
	comps []render.RenderedComponent
	// byName indexes comps by component name (replicas share a name).
	byName map[string][]int
	// current is the tracker of rev, loaded when first needed.
	current *tracker.Current
	// live holds the objects applied or read in this reconcile.
	live      map[string]*unstructured.Unstructured
	applyOnce bool
	// prev is what earlier reconciles of this revision applied (nil: apply
	// everything); next is what this one applied or found unchanged.
	prev, next *appliedState
	sums       map[string][32]byte
	// waited: a component is not healthy yet; waitUnwatched: one of those
	// has objects whose changes the controller does not watch.
	waited, waitUnwatched bool
	// newRevision: the revision was made in this reconcile (its tracker
	// most likely does not exist yet).
	newRevision bool
}

// renderError is a user error found before the workflow runs.
type renderError struct {
	err error
	// missing: a definition is not there (yet); try again soon.
	missing bool
}

func (e *renderError) Error() string { return e.err.Error() }
func (e *renderError) Unwrap() error { return e.err }

// prepare picks (or makes) the revision and renders it.
func (r *Reconciler) prepare(ctx context.Context, app *v1beta1.Application) (*appRun, error) {
	run := &appRun{r: r, app: app, spec: app, defs: r.sourceFor(app.Namespace), live: map[string]*unstructured.Unstructured{}}
	used, missing, err := usedDefinitions(ctx, app, run.defs)
	if err != nil {
		return nil, err
	}
	if err := run.revise(ctx, used); err != nil {
		return nil, err
	}
	comps, err := r.Renderer.RenderApp(ctx, run.spec, run.defs, render.Options{Revision: run.rev.Name, RevisionNum: run.rev.Revision})
	if err != nil {
		return nil, &renderError{err: err, missing: missing}
	}
	run.comps = comps
	run.byName = map[string][]int{}
	for i := range comps {
		run.byName[comps[i].Name] = append(run.byName[comps[i].Name], i)
		for _, o := range comps[i].Objects() {
			if err := r.applier().Default(o, app.Namespace); err != nil {
				return nil, &renderError{err: fmt.Errorf("component %q: %w", comps[i].Name, err)}
			}
		}
	}
	run.applyOnce = applyOnce(run.spec)
	now := r.now()
	run.prev = r.applied.get(app, run.rev.Name, now, r.fullApplyEvery(app))
	run.next = &appliedState{uid: app.UID, revision: run.rev.Name, since: now, objects: map[string]appliedObject{}}
	if run.prev != nil {
		run.next.since = run.prev.since
	}
	run.sums = map[string][32]byte{}
	return run, nil
}

// revise makes a new revision when the spec, a used definition or the
// publishVersion changed, and otherwise keeps the latest.
func (run *appRun) revise(ctx context.Context, used []*definition.Definition) error {
	app := run.app
	hash, err := revision.Hash(app, used)
	if err != nil {
		return err
	}
	latest := app.Status.LatestRevision
	if latest != nil && latest.RevisionHash == hash {
		run.rev = *latest
		if app.Annotations[v1beta1.AnnotationPublishVersion] != "" {
			return run.useSnapshot(ctx)
		}
		return nil
	}
	n := int64(1)
	if latest != nil {
		n = latest.Revision + 1
		if err := run.markSucceeded(ctx, latest.Name); err != nil {
			return err
		}
	}
	store := run.r.revisions()
	// A garbage-collect policy may say how many revisions to keep.
	if p, err := tracker.PolicyOf(app); err == nil && p.ApplicationRevisionLimit > 0 {
		store.Limit = p.ApplicationRevisionLimit
	}
	rev, err := store.Create(ctx, app, n, hash, used)
	if err != nil {
		return err
	}
	run.rev = v1beta1.Revision{Name: rev.Name, Revision: n, RevisionHash: hash}
	run.newRevision = true
	app.Status.LatestRevision = run.rev.DeepCopy()
	app.Status.Workflow = nil
	run.r.event(app, "Normal", "Revised", "created revision %s", rev.Name)
	return nil
}

// markSucceeded records on the revision being replaced that its workflow
// succeeded (the GarbageCollected condition names the revision whose
// success it followed), for `velad workflow rollback`. Done here, when a
// revision is replaced, it costs a write only when the spec changes.
func (run *appRun) markSucceeded(ctx context.Context, rev string) error {
	c := meta.FindStatusCondition(run.app.Status.Conditions, ConditionCollected)
	if c == nil || c.Status != metav1.ConditionTrue || c.Message != rev {
		return nil
	}
	return run.r.revisions().MarkSucceeded(ctx, run.app.Namespace, rev)
}

// useSnapshot renders the revision's snapshot instead of the live spec:
// with a publishVersion, edits are rolled out only with a new version.
func (run *appRun) useSnapshot(ctx context.Context) error {
	rev, err := run.r.revisions().Get(ctx, run.app.Namespace, run.rev.Name)
	if err != nil {
		return err
	}
	snap := rev.Spec.Application.DeepCopy()
	snap.ObjectMeta = *run.app.ObjectMeta.DeepCopy()
	run.spec = snap
	set, err := revision.Definitions(rev)
	if err != nil {
		return fmt.Errorf("definitions of revision %s: %w", rev.Name, err)
	}
	run.defs = definition.Chain{set, run.defs}
	return nil
}

// applyOnce reports whether an enabled apply-once policy turns drift
// correction off.
func applyOnce(app *v1beta1.Application) bool {
	for _, p := range app.Spec.Policies {
		if p.Type != "apply-once" {
			continue
		}
		props, err := render.DecodeProperties(p.Properties)
		if err != nil {
			continue
		}
		if on, _ := props["enable"].(bool); on {
			return true
		}
	}
	return false
}

// isMissingDefinition reports whether err came from a definition that
// does not exist (yet).
func isMissingDefinition(err error) bool {
	var re *renderError
	return errors.As(err, &re) && re.missing
}
