package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/apply"
	"github.com/velad-dev/velad/controller/render"
	"github.com/velad-dev/velad/controller/tracker"
	"github.com/velad-dev/velad/controller/workflow"
)

// workflowResult is what the workflow pass decided.
type workflowResult struct {
	phase        workflow.Phase
	message      string
	requeueAfter time.Duration
}

// runWorkflow starts (for a new revision) or continues the workflow.
func (run *appRun) runWorkflow(ctx context.Context) (workflowResult, error) {
	plan := workflow.PlanFor(run.spec)
	st := run.app.Status.Workflow
	if st == nil || st.AppRevision != run.rev.Name {
		st = &v1beta1.WorkflowStatus{}
		workflow.Init(st, plan, run.rev.Name, run.r.now())
		run.app.Status.Workflow = st
	}
	if key := workflow.RunKey(st); run.wfctx == nil || run.wfctx.Revision != key {
		run.wfctx = workflow.NewContext(key)
	}
	eng := workflow.Engine{Exec: run, Now: run.r.now, Context: run.wfctx}
	res, err := eng.Run(ctx, plan, st)
	if serr := run.r.contexts().Save(ctx, run.app, run.wfctx); serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		return workflowResult{}, fmt.Errorf("run workflow of %s: %w", run.rev.Name, err)
	}
	run.deployed = run.deployedBy(res)
	out := workflowResult{phase: res.Phase, message: res.Message, requeueAfter: res.RequeueAfter}
	poll := HealthPoll
	if run.waited && !run.waitUnwatched {
		// Every change of what it waits for is an event.
		poll = WatchedHealthPoll
	}
	if res.Phase == workflow.PhaseExecuting && (out.requeueAfter == 0 || out.requeueAfter > poll) {
		out.requeueAfter = poll
	}
	return out, nil
}

// Execute implements workflow.Executor.
func (run *appRun) Execute(ctx context.Context, step v1beta1.WorkflowStepBase, in workflow.StepInput) (workflow.Outcome, error) {
	props, err := workflow.Properties(step)
	if err != nil {
		return failed("InvalidProperties", "step %q: properties: %v", step.Name, err), nil
	}
	switch step.Type {
	case workflow.TypeApplyComponent:
		name, _ := props["component"].(string)
		if name == "" {
			name = step.Name
		}
		return run.deployWithOutputs(ctx, []string{name}, in.Context)
	case workflow.TypeDeploy:
		if idx, ok := run.byStep[step.Name]; ok && run.multi {
			return run.deployIndices(ctx, idx)
		}
		var names []string
		for _, c := range run.spec.Spec.Components {
			names = append(names, c.Name)
		}
		return run.deployWithOutputs(ctx, names, in.Context)
	case workflow.TypeApplyObject:
		return run.applyObject(ctx, step, props)
	}
	return run.executeCUE(ctx, step, props, in)
}

// deployWithOutputs deploys components once their inputs are there
// (rendering them then), and records their outputs once healthy.
func (run *appRun) deployWithOutputs(ctx context.Context, names []string, c *workflow.Context) (workflow.Outcome, error) {
	for _, name := range names {
		if _, ok := run.pending[name]; !ok {
			continue
		}
		if err := run.render(ctx); err != nil {
			return failed("RenderFailed", "%v", err), nil
		}
		if in, ok := run.pending[name]; ok {
			return workflow.Outcome{Reason: "Input", Message: fmt.Sprintf("component %q waits for input %q", name, in)}, nil
		}
	}
	o, err := run.deployComponents(ctx, names)
	if err != nil || !o.Done {
		return o, err
	}
	for _, name := range names {
		if f := run.componentOutputs(ctx, name, c); f != nil {
			return *f, nil
		}
	}
	return o, nil
}

func failed(reason, format string, args ...any) workflow.Outcome {
	return workflow.Outcome{Failed: true, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// deployComponents applies the named components and reports done when
// all of them are healthy.
func (run *appRun) deployComponents(ctx context.Context, names []string) (workflow.Outcome, error) {
	var idx []int
	for _, name := range names {
		if len(run.byName[name]) == 0 {
			return failed("ComponentNotFound", "component %q is not in the application", name), nil
		}
		idx = append(idx, run.byName[name]...)
	}
	return run.deployIndices(ctx, idx)
}

// deployIndices applies the components run.comps[idx] and reports done
// when all of them are healthy. A joined cluster that does not answer
// fails only its own components: the others are applied and waited for,
// and the outcome names the cluster (retried with backoff).
func (run *appRun) deployIndices(ctx context.Context, idx []int) (workflow.Outcome, error) {
	var entries []tracker.Entry
	for _, i := range idx {
		entries = append(entries, entriesOf(&run.comps[i])...)
	}
	if !run.book.recordedBefore(entries) {
		if out, ok := run.claim(ctx, entries); !ok {
			return out, nil
		}
		if err := run.record(ctx, entries); err != nil {
			return workflow.Outcome{}, err
		}
	}
	down, out, err := run.applyAll(ctx, entries)
	if err != nil || out.Failed {
		return out, err
	}
	var wait *workflow.Outcome
	for _, i := range idx {
		rc := &run.comps[i]
		if run.down(rc.Cluster) != nil {
			continue
		}
		if rc.Cluster != "" {
			run.r.backoff.reset(run.app, rc.Cluster)
		}
		if wait != nil {
			continue
		}
		st := run.componentStatus(ctx, rc)
		if !st.Healthy {
			run.waited = true
			if !onlyWatched(rc) {
				run.waitUnwatched = true
			}
			msg := fmt.Sprintf("waiting for component %q to be healthy", rc.Name)
			if rc.Cluster != "" {
				msg = fmt.Sprintf("waiting for component %q in cluster %q to be healthy", rc.Name, rc.Cluster)
			}
			if st.Message != "" {
				msg += ": " + st.Message
			}
			wait = &workflow.Outcome{Reason: "Wait", Message: msg}
		}
	}
	if len(down) > 0 {
		msg := down[0].Error()
		for _, d := range down[1:] {
			if d.cluster != down[0].cluster {
				msg += "; " + d.Error()
			}
		}
		return workflow.Outcome{Reason: "ClusterUnreachable", Message: msg, RequeueAfter: run.r.backoff.failed(run.app, down[0].cluster)}, nil
	}
	if wait != nil {
		return *wait, nil
	}
	return run.deployPostDispatch(ctx, idx)
}

// deployPostDispatch applies the PostDispatch traits of healthy components
// and reports done when they are healthy too.
func (run *appRun) deployPostDispatch(ctx context.Context, idx []int) (workflow.Outcome, error) {
	var post []tracker.Entry
	var with []int
	for _, i := range idx {
		entries, err := run.postDispatch(ctx, i)
		if err != nil {
			return failed("RenderFailed", "component %q: PostDispatch traits: %v", run.comps[i].Name, err), nil
		}
		if len(entries) > 0 {
			post = append(post, entries...)
			with = append(with, i)
		}
	}
	if len(post) == 0 {
		return workflow.Outcome{Done: true}, nil
	}
	if !run.book.recordedBefore(post) {
		if out, ok := run.claim(ctx, post); !ok {
			return out, nil
		}
		if err := run.record(ctx, post); err != nil {
			return workflow.Outcome{}, err
		}
	}
	for _, e := range post {
		if out, err := run.applyEntry(ctx, e); err != nil || out.Failed {
			return out, err
		}
	}
	for _, i := range with {
		if st := run.componentStatus(ctx, &run.comps[i]); !st.Healthy {
			run.waited, run.waitUnwatched = true, true
			return workflow.Outcome{Reason: "Wait", Message: fmt.Sprintf("waiting for the PostDispatch traits of component %q: %s", run.comps[i].Name, st.Message)}, nil
		}
	}
	return workflow.Outcome{Done: true}, nil
}

func entriesOf(rc *render.RenderedComponent) []tracker.Entry {
	var out []tracker.Entry
	if rc.Workload != nil {
		out = append(out, tracker.Entry{Object: rc.Workload, Component: rc.Name})
	}
	for _, a := range rc.Auxiliaries {
		out = append(out, tracker.Entry{Object: a.Object, Component: rc.Name, Trait: a.Trait})
	}
	return out
}

// record writes entries into the tracker of the current revision.
func (run *appRun) record(ctx context.Context, entries []tracker.Entry) error {
	marked := make([]tracker.Entry, len(entries))
	for i, e := range entries {
		e.ReadOnly = run.writeStrategy(e).ReadOnly
		marked[i] = e
	}
	entries = marked
	if run.current == nil && run.newRevision {
		cur := run.r.tracker().New(run.app, run.rev.Name, run.app.Generation)
		err := cur.Record(ctx, entries)
		if err == nil {
			run.current = cur
			return nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return err
		}
		// Left over from an earlier attempt: read it.
	}
	if run.current == nil {
		cur, err := run.r.tracker().Load(ctx, run.app, run.rev.Name, run.app.Generation)
		if err != nil {
			return err
		}
		run.current = cur
	}
	return run.current.Record(ctx, entries)
}

// dropTracker deletes the tracker this run created when the finalizer
// could not be added: it records objects that were not applied, and
// without the finalizer nothing would delete it with the app. (The next
// reconcile records them again.)
func (run *appRun) dropTracker(ctx context.Context) {
	if run.current == nil {
		return
	}
	if err := run.current.Discard(ctx); err != nil {
		log.FromContext(ctx).Error(err, "delete resource tracker of an application without finalizer", "application", run.app.Namespace+"/"+run.app.Name)
	}
}

// applyEntry applies one object once per reconcile, unless an earlier
// reconcile applied it and nobody changed it since (applyBook.skip). A
// permanent error fails the step with a message naming the component;
// anything else is returned to be retried with backoff.
func (run *appRun) applyEntry(ctx context.Context, e tracker.Entry) (workflow.Outcome, error) {
	key := tracker.Key(tracker.Ref(e.Object))
	if _, ok := run.liveOf(key); ok {
		return workflow.Outcome{}, nil
	}
	ws := run.writeStrategy(e)
	if ws.ReadOnly {
		return run.readOnly(ctx, key, e)
	}
	if run.book.skip(key, e.Object, func() *unstructured.Unstructured { return run.liveObject(ctx, e.Object) }) {
		return workflow.Outcome{}, nil
	}
	// Nothing is applied before the finalizer is there to delete it.
	if err := run.finalized(); err != nil {
		return workflow.Outcome{}, err
	}
	// Not over an object another app manages (took over since).
	known, _ := run.liveOf(key)
	if out, ok := run.owns(ctx, e, known); !ok {
		return out, nil
	}
	applier, cl, err := run.applierFor(ctx, e.Object)
	if err == nil {
		var live *unstructured.Unstructured
		live, err = run.write(ctx, applier, e, ws)
		if cl != "" && apierrors.IsNotFound(err) && e.Object.GetNamespace() != "" {
			// A joined cluster may not have the namespace yet.
			if err = createNamespace(ctx, applier, e.Object.GetNamespace()); err == nil {
				live, err = run.write(ctx, applier, e, ws)
			}
		}
		if err == nil {
			run.setLive(key, live)
			run.book.applied(key, e.Object, live)
			return workflow.Outcome{}, nil
		}
	}
	if isPolicyError(err) {
		return failed("PolicyInvalid", "%s: %v", entryWhat(e), err), nil
	}
	// A Conflict is no outage: a weighed route changed under the apply
	// (weighedRoute); it is retried.
	if cl != "" && !apply.IsPermanent(err) && !apierrors.IsConflict(err) {
		run.markUnreachable(cl, err)
		return workflow.Outcome{}, &clusterError{cluster: cl, err: err}
	}
	what := "component " + quote(e.Component)
	if e.Component == "" {
		what = "object"
	}
	if e.Trait != "" {
		what += " trait " + quote(e.Trait)
	}
	if cl != "" {
		what += " in cluster " + quote(cl)
	}
	if apply.IsPermanent(err) {
		return failed("ApplyFailed", "%s: %v", what, err), nil
	}
	return workflow.Outcome{}, fmt.Errorf("%s: %w", what, err)
}

// createNamespace creates namespace ns through applier's client (it may
// exist by now).
func createNamespace(ctx context.Context, applier *apply.Applier, ns string) error {
	n := &corev1.Namespace{}
	n.Name = ns
	if err := applier.Client.Create(ctx, n); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	return nil
}

// onlyWatched reports whether every object of a component is a
// Deployment, whose changes the controller watches.
func onlyWatched(rc *render.RenderedComponent) bool {
	if rc.Cluster != "" {
		return false // only local objects are watched
	}
	for _, o := range rc.Objects() {
		if gvk := o.GroupVersionKind(); gvk.Group != "apps" || gvk.Kind != "Deployment" {
			return false
		}
	}
	return true
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// applyObject applies the object of an apply-object step.
func (run *appRun) applyObject(ctx context.Context, step v1beta1.WorkflowStepBase, props map[string]any) (workflow.Outcome, error) {
	v, ok := props["value"].(map[string]any)
	if !ok {
		return failed("InvalidProperties", "step %q: apply-object needs an object in properties.value", step.Name), nil
	}
	u := &unstructured.Unstructured{Object: v}
	if u.GetKind() == "" || u.GetAPIVersion() == "" || u.GetName() == "" {
		return failed("InvalidProperties", "step %q: properties.value needs apiVersion, kind and metadata.name", step.Name), nil
	}
	labels := u.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[v1beta1.LabelAppName] = run.app.Name
	labels[v1beta1.LabelAppNamespace] = run.app.Namespace
	u.SetLabels(labels)
	if err := run.r.applier().Default(u, run.app.Namespace); err != nil {
		if apply.IsPermanent(err) {
			return failed("ApplyFailed", "step %q: %v", step.Name, err), nil
		}
		return workflow.Outcome{}, err
	}
	if err := run.r.checkLane(run.app, u); err != nil {
		return failed("OutsideNamespace", "step %q: %v", step.Name, err), nil
	}
	e := tracker.Entry{Object: u}
	if out, ok := run.claim(ctx, []tracker.Entry{e}); !ok {
		out.Message = fmt.Sprintf("step %q: %s", step.Name, out.Message)
		return out, nil
	}
	if err := run.record(ctx, []tracker.Entry{e}); err != nil {
		return workflow.Outcome{}, err
	}
	out, err := run.applyEntry(ctx, e)
	if err != nil || out.Failed {
		if out.Failed {
			out.Message = fmt.Sprintf("step %q: %s", step.Name, out.Message)
		}
		return out, err
	}
	return workflow.Outcome{Done: true}, nil
}

// deployedBy lists the components the workflow has applied so far in
// this revision: all once it succeeded, else those of its started apply
// steps.
func (run *appRun) deployedBy(res workflow.Result) map[int]bool {
	out := map[int]bool{}
	all := func() {
		for i := range run.comps {
			out[i] = true
		}
	}
	if res.Phase == workflow.PhaseSucceeded {
		all()
		return out
	}
	for _, s := range res.Started {
		switch s.Type {
		case workflow.TypeDeploy:
			idx, ok := run.byStep[s.Name]
			if !ok {
				all()
			}
			for _, i := range idx {
				out[i] = true
			}
		case workflow.TypeApplyComponent:
			props, _ := workflow.Properties(s)
			name, _ := props["component"].(string)
			if name == "" {
				name = s.Name
			}
			for _, i := range run.byName[name] {
				out[i] = true
			}
		}
	}
	return out
}

// keepState re-applies the objects of deployed components that this
// reconcile has not applied yet (drift correction), unless apply-once.
func (run *appRun) keepState(ctx context.Context) error {
	if run.applyOnce {
		return nil
	}
	for i := range run.comps {
		rc := &run.comps[i]
		if !run.deployed[i] || run.down(rc.Cluster) != nil {
			continue
		}
		// PostDispatch objects are kept as they are too (done once per
		// reconcile: the workflow may have rendered them already).
		post, err := run.postDispatch(ctx, i)
		if err != nil {
			run.r.event(run.app, "Warning", "RenderFailed", "component %q: PostDispatch traits: %v", rc.Name, err)
		}
		if len(post) > 0 && !run.book.recordedBefore(post) {
			if err := run.record(ctx, post); err != nil {
				return err
			}
		}
		for _, e := range entriesOf(rc) {
			out, err := run.applyEntry(ctx, e)
			var ce *clusterError
			if errors.As(err, &ce) {
				// Its deploy step says so; the other clusters go on.
				run.r.event(run.app, "Warning", "ClusterUnreachable", "%v", ce)
				break
			}
			if err != nil {
				return err
			}
			if out.Failed {
				run.r.event(run.app, "Warning", "ApplyFailed", "%s", out.Message)
			}
		}
	}
	return nil
}
