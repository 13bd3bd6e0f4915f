package app

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/appcheck"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
	"github.com/velad-dev/velad/controller/revision"
	"github.com/velad-dev/velad/controller/tracker"
	"github.com/velad-dev/velad/controller/workflow"
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
	// deployed are the components the workflow has applied in this
	// revision so far (its run records them).
	deployed map[string]bool
	// current is the tracker of rev, loaded when first needed.
	current *tracker.Current
	// live holds the objects applied or read in this reconcile.
	live      map[string]*unstructured.Unstructured
	applyOnce bool
	// book remembers what is applied, to skip what is unchanged.
	book applyBook
	// waited: a component is not healthy yet; waitUnwatched: one of those
	// has objects whose changes the controller does not watch.
	waited, waitUnwatched bool
	// newRevision: the revision is made in this reconcile (its tracker
	// most likely does not exist yet).
	newRevision bool
	// wfctx is the workflow's context (outputs, variables, logs), loaded
	// with the run; pending are components left out of the render until
	// their inputs are there (name → a missing input).
	wfctx   *workflow.Context
	pending map[string]string
	// finalized waits for the finalizer (written meanwhile when missing);
	// revised waits for the new revision to be stored. Both may be called
	// more than once.
	finalized, revised func() error
}

// renderError is a user error found before the workflow runs.
type renderError struct {
	err error
	// missing: a definition is not there (yet); try again soon.
	missing bool
}

func (e *renderError) Error() string { return e.err.Error() }
func (e *renderError) Unwrap() error { return e.err }

// newRun starts one reconcile of app: it starts writing the finalizer
// (when missing), which the run waits for before it applies anything.
func (r *Reconciler) newRun(ctx context.Context, app *v1beta1.Application) *appRun {
	return &appRun{r: r, app: app, spec: app, live: map[string]*unstructured.Unstructured{},
		finalized: r.addFinalizer(ctx, app), revised: func() error { return nil }}
}

// prepare picks (or makes) the revision and renders it.
func (run *appRun) prepare(ctx context.Context) error {
	r, app := run.r, run.app
	// What the webhook refuses, for apps admitted without it.
	if err := appcheck.Application(app); err != nil {
		return &renderError{err: err}
	}
	run.defs = r.sourceFor(app.Namespace)
	used, missing, err := usedDefinitions(ctx, app, run.defs)
	if err != nil {
		return err
	}
	if err := run.revise(ctx, used); err != nil {
		return err
	}
	if err := run.loadContext(ctx); err != nil {
		return err
	}
	if err := run.render(ctx); err != nil {
		return &renderError{err: err, missing: missing}
	}
	run.applyOnce = applyOnce(run.spec)
	run.book = r.applied.begin(app, run.rev.Name, r.now(), r.fullApplyEvery(app))
	return nil
}

// render renders the application (its components whose inputs are
// there) into run.comps.
func (run *appRun) render(ctx context.Context) error {
	r, app := run.r, run.app
	spec, err := run.withInputs(run.spec)
	if err != nil {
		return err
	}
	policies, err := deployPolicies(spec)
	if err != nil {
		return err
	}
	comps, err := r.Renderer.RenderApp(ctx, spec, run.defs, render.Options{Revision: run.rev.Name, RevisionNum: run.rev.Revision, Policies: policies})
	if err != nil {
		return err
	}
	if err := r.checkHosts(ctx, app, comps); err != nil {
		return err
	}
	run.comps = comps
	run.byName = map[string][]int{}
	for i := range comps {
		run.byName[comps[i].Name] = append(run.byName[comps[i].Name], i)
		for _, o := range comps[i].Objects() {
			if err := r.applier().Default(o, app.Namespace); err != nil {
				return fmt.Errorf("component %q: %w", comps[i].Name, err)
			}
			if err := checkObjectName(o); err != nil {
				return &renderError{err: fmt.Errorf("component %q: %w", comps[i].Name, err)}
			}
			if err := r.checkLane(app, o); err != nil {
				return &renderError{err: fmt.Errorf("component %q: %w", comps[i].Name, err)}
			}
		}
	}
	return nil
}

// revise makes a new revision when the spec, a used definition or the
// publishVersion changed, and otherwise keeps the latest. A new revision
// is written while the run goes on (nothing but the status refers to it);
// run.revised waits for it.
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
	// The revision being replaced is marked succeeded (for rollback) if
	// its workflow did: a write only when the spec changes.
	markPrev := ""
	if latest != nil {
		n = latest.Revision + 1
		if run.succeeded(latest.Name) {
			markPrev = latest.Name
		}
	}
	run.rev = v1beta1.Revision{Name: revision.Name(app.Name, n), Revision: n, RevisionHash: hash}
	run.newRevision = true
	snap := app.DeepCopy()
	store := run.r.revisions()
	// A garbage-collect policy may say how many revisions to keep.
	if p, err := tracker.PolicyOf(app); err == nil && p.ApplicationRevisionLimit > 0 {
		store.Limit = p.ApplicationRevisionLimit
	}
	done := make(chan error, 1)
	go func() {
		_, err := store.Create(ctx, snap, n, hash, used)
		if err == nil && markPrev != "" {
			err = store.MarkSucceeded(ctx, snap.Namespace, markPrev)
		}
		done <- err
	}()
	run.revised = sync.OnceValue(func() error {
		if err := <-done; err != nil {
			return err
		}
		run.r.event(app, "Normal", "Revised", "created revision %s", run.rev.Name)
		return nil
	})
	app.Status.LatestRevision = run.rev.DeepCopy()
	app.Status.Workflow = nil
	return nil
}

// succeeded reports whether the workflow of revision rev succeeded: the
// GarbageCollected condition names the revision whose success it followed.
func (run *appRun) succeeded(rev string) bool {
	c := meta.FindStatusCondition(run.app.Status.Conditions, ConditionCollected)
	return c != nil && c.Status == metav1.ConditionTrue && c.Message == rev
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

// deployPolicies are the policies the deploy steps of app's workflow
// name (its override and replication policies), each once, in the order
// first named. The run renders the application once, so each deploy step
// applies the components after the policies of every deploy step; one
// render per deploy step is still to come. Without deploy steps the
// components render as declared.
func deployPolicies(app *v1beta1.Application) ([]string, error) {
	var names []string
	seen := map[string]bool{}
	add := func(s v1beta1.WorkflowStepBase) error {
		if s.Type != workflow.TypeDeploy {
			return nil
		}
		ps, err := workflow.DeployPolicies(s)
		for _, p := range ps {
			if !seen[p] {
				seen[p] = true
				names = append(names, p)
			}
		}
		return err
	}
	for _, s := range workflow.PlanFor(app).Steps {
		if err := add(s.WorkflowStepBase); err != nil {
			return nil, err
		}
		for _, sub := range s.SubSteps {
			if err := add(sub); err != nil {
				return nil, err
			}
		}
	}
	return names, nil
}
