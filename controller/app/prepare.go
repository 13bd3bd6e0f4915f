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
	// byName indexes comps by component name (replicas, and copies in
	// other clusters, share a name); byStep by the deploy step that
	// delivers them. multi: a deploy step names a topology policy.
	byName map[string][]int
	byStep map[string][]int
	multi  bool
	// deployed are the components (indices of comps) the workflow has
	// applied in this revision so far (its run records them).
	deployed map[int]bool
	// unreachable are the clusters that failed a request in this
	// reconcile (name → why): nothing more is sent there.
	unreachable map[string]error
	// current is the tracker of rev, loaded when first needed.
	current *tracker.Current
	// live holds the objects applied or read in this reconcile; mu
	// guards it and unreachable (clusters are applied in parallel).
	live      map[string]*unstructured.Unstructured
	mu        sync.Mutex
	applyOnce bool
	// writes: how objects are written (read-only and resource-update
	// policies).
	writes tracker.WritePolicy
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
		return &renderError{err: err, missing: missing || isMissingRef(err)}
	}
	if run.writes, err = tracker.WritePolicyOf(run.spec); err != nil {
		return &renderError{err: err}
	}
	run.applyOnce = applyOnce(run.spec)
	run.book = r.applied.begin(app, run.rev.Name, r.now(), r.fullApplyEvery(app))
	return nil
}

// render renders the application (its components whose inputs are
// there) into run.comps: once per deploy step and place it delivers to
// when a deploy step names a topology policy, else once.
func (run *appRun) render(ctx context.Context) error {
	r := run.r
	spec, err := run.withInputs(run.spec)
	if err != nil {
		return err
	}
	steps, err := deploySteps(spec)
	if err != nil {
		return err
	}
	run.comps, run.byName, run.byStep, run.multi = nil, map[string][]int{}, map[string][]int{}, hasTopology(spec, steps)
	if !run.multi {
		comps, err := r.Renderer.RenderApp(ctx, spec, run.defs, render.Options{Revision: run.rev.Name, RevisionNum: run.rev.Revision, Policies: deployPolicies(steps), ReadObjects: r.objectReader(run.spec)})
		if err != nil {
			return err
		}
		if err := r.checkHosts(ctx, run.app, comps); err != nil {
			return err
		}
		idx, err := run.place(comps, render.Placement{Cluster: render.LocalCluster})
		if err != nil {
			return err
		}
		for _, s := range steps {
			run.byStep[s.name] = idx
		}
		return nil
	}
	clusters, err := r.clusterInfos(ctx)
	if err != nil {
		return err
	}
	for _, s := range steps {
		places, err := render.Placements(spec, s.policies, clusters)
		if err != nil {
			// (A cluster may be joined or labelled later: try again soon.)
			return &renderError{err: fmt.Errorf("deploy step %q: %w", s.name, err), missing: true}
		}
		run.byStep[s.name] = []int{}
		for _, p := range places {
			opts := render.Options{Revision: run.rev.Name, RevisionNum: run.rev.Revision, Policies: s.policies, ReadObjects: r.objectReader(run.spec)}
			if p.Cluster != render.LocalCluster {
				opts.Cluster = p.Cluster
			}
			comps, err := r.Renderer.RenderApp(ctx, spec, run.defs, opts)
			if err != nil {
				return err
			}
			if p.Cluster == render.LocalCluster {
				// Host claims are this cluster's (a joined cluster's
				// Ingresses route its own traffic).
				if err := r.checkHosts(ctx, run.app, comps); err != nil {
					return err
				}
			}
			idx, err := run.place(comps, p)
			if err != nil {
				return err
			}
			run.byStep[s.name] = append(run.byStep[s.name], idx...)
		}
	}
	return nil
}

// place adds components rendered for placement p to run.comps: their
// objects in its namespace and, outside local, labelled with its cluster.
func (run *appRun) place(comps []render.RenderedComponent, p render.Placement) ([]int, error) {
	r, app := run.r, run.app
	var idx []int
	for _, rc := range comps {
		i := len(run.comps)
		for _, o := range rc.Objects() {
			if err := r.applier().Default(o, app.Namespace); err != nil {
				return nil, fmt.Errorf("component %q: %w", rc.Name, err)
			}
			if p.Namespace != "" && o.GetNamespace() == app.Namespace {
				o.SetNamespace(p.Namespace)
			}
			if p.Cluster != render.LocalCluster {
				l := o.GetLabels()
				if l == nil {
					l = map[string]string{}
				}
				l[tracker.LabelCluster] = p.Cluster
				o.SetLabels(l)
			}
			if err := checkObjectName(o); err != nil {
				return nil, &renderError{err: fmt.Errorf("component %q: %w", rc.Name, err)}
			}
			if err := r.checkLane(app, o); err != nil {
				return nil, &renderError{err: fmt.Errorf("component %q: %w", rc.Name, err)}
			}
		}
		run.comps = append(run.comps, rc)
		run.byName[rc.Name] = append(run.byName[rc.Name], i)
		idx = append(idx, i)
	}
	return idx, nil
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

// deployStep is a deploy step of the workflow and the policies it names.
type deployStep struct {
	name     string
	policies []string
}

// deploySteps lists the deploy steps of app's workflow (sub-steps
// included).
func deploySteps(app *v1beta1.Application) ([]deployStep, error) {
	var out []deployStep
	add := func(s v1beta1.WorkflowStepBase) error {
		if s.Type != workflow.TypeDeploy {
			return nil
		}
		ps, err := workflow.DeployPolicies(s)
		out = append(out, deployStep{name: s.Name, policies: ps})
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
	return out, nil
}

// hasTopology reports whether a deploy step names a topology policy:
// the application is then rendered per step and place.
func hasTopology(app *v1beta1.Application, steps []deployStep) bool {
	types := map[string]string{}
	for _, p := range app.Spec.Policies {
		types[p.Name] = p.Type
	}
	for _, s := range steps {
		for _, p := range s.policies {
			if types[p] == render.PolicyTopology {
				return true
			}
		}
	}
	return false
}

// deployPolicies are the policies the deploy steps name (their override
// and replication policies), each once, in the order first named. Without
// a topology the run renders the application once, so each deploy step
// applies the components after the policies of every deploy step.
// Without deploy steps the components render as declared.
func deployPolicies(steps []deployStep) []string {
	var names []string
	seen := map[string]bool{}
	for _, s := range steps {
		for _, p := range s.policies {
			if !seen[p] {
				seen[p] = true
				names = append(names, p)
			}
		}
	}
	return names
}
