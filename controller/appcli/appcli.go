// Package appcli is the library behind velad's application commands
// (up, status, ls, delete, workflow ...). It never prints: commands
// format what it returns.
package appcli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/scheme"
	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/revision"
	"github.com/velad-dev/velad/controller/rollouts"
	"github.com/velad-dev/velad/controller/tracker"
	"github.com/velad-dev/velad/controller/workflow"
)

// DefaultKubeconfig is where `velad server` writes its admin kubeconfig.
const DefaultKubeconfig = "/etc/velad/velad.yaml"

// Client is a controller-runtime client for the OAM types.
func Client(kubeconfig string) (client.Client, error) {
	cfg, err := Config(kubeconfig)
	if err != nil {
		return nil, err
	}
	scheme, err := scheme.New()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connect to the cluster: %w", err)
	}
	return c, nil
}

// Config loads a kubeconfig: the given path, else $KUBECONFIG, else
// DefaultKubeconfig.
func Config(kubeconfig string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	switch {
	case kubeconfig != "":
		rules.ExplicitPath = kubeconfig
	case os.Getenv(clientcmd.RecommendedConfigPathEnvVar) != "":
	default:
		if _, err := os.Stat(DefaultKubeconfig); err == nil {
			rules.ExplicitPath = DefaultKubeconfig
		}
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig (use --kubeconfig or $KUBECONFIG; default %s): %w", DefaultKubeconfig, err)
	}
	cfg.Timeout = 30 * time.Second
	return cfg, nil
}

// Namespace is the namespace to use when none is given: the kubeconfig's
// current context's, else "default".
func Namespace(kubeconfig string) string {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	ns, _, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).Namespace()
	if err != nil || ns == "" {
		return "default"
	}
	return ns
}

// Up creates app, or updates the spec, labels and annotations of the
// existing one. It returns true when it created it.
func Up(ctx context.Context, c client.Client, app *v1beta1.Application) (bool, error) {
	if app.Namespace == "" {
		app.Namespace = "default"
	}
	created := false
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur := &v1beta1.Application{}
		err := c.Get(ctx, client.ObjectKeyFromObject(app), cur)
		if apierrors.IsNotFound(err) {
			obj := app.DeepCopy()
			obj.ResourceVersion = ""
			obj.Status = v1beta1.AppStatus{}
			if err := c.Create(ctx, obj); err != nil {
				return err
			}
			created = true
			return nil
		}
		if err != nil {
			return err
		}
		cur.Spec = app.Spec
		cur.Labels = merge(cur.Labels, app.Labels)
		cur.Annotations = merge(cur.Annotations, app.Annotations)
		return c.Update(ctx, cur)
	})
	if err != nil {
		return false, fmt.Errorf("apply application %s/%s: %w%s", app.Namespace, app.Name, err, hint(err))
	}
	return created, nil
}

// hint says what to do when the API server could not ask the controller's
// admission webhook (the controller is down or still starting).
func hint(err error) string {
	if strings.Contains(err.Error(), "failed calling webhook") {
		return "; the velad controller is not answering: check 'velad status' (or kubectl -n vela-system get pods) and try again"
	}
	return ""
}

func merge(a, b map[string]string) map[string]string {
	if len(b) == 0 {
		return a
	}
	if a == nil {
		a = map[string]string{}
	}
	for k, v := range b {
		a[k] = v
	}
	return a
}

// Get returns one application.
func Get(ctx context.Context, c client.Client, ns, name string) (*v1beta1.Application, error) {
	app := &v1beta1.Application{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, app); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("application %q not found in namespace %q", name, ns)
		}
		return nil, fmt.Errorf("get application %s/%s: %w", ns, name, err)
	}
	return app, nil
}

// List returns the applications of ns ("" = every namespace).
func List(ctx context.Context, c client.Client, ns string) ([]v1beta1.Application, error) {
	var l v1beta1.ApplicationList
	var opts []client.ListOption
	if ns != "" {
		opts = append(opts, client.InNamespace(ns))
	}
	if err := c.List(ctx, &l, opts...); err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	return l.Items, nil
}

// Delete deletes an application; with wait, until it is gone (the
// controller has deleted what it applied) or timeout.
func Delete(ctx context.Context, c client.Client, ns, name string, wait bool, timeout time.Duration) error {
	app := &v1beta1.Application{}
	app.Namespace, app.Name = ns, name
	if err := c.Delete(ctx, app); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("application %q not found in namespace %q", name, ns)
		}
		return fmt.Errorf("delete application %s/%s: %w", ns, name, err)
	}
	if !wait {
		return nil
	}
	deadline := time.Now().Add(timeout)
	for {
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, app)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("application %s/%s still exists after %s (phase %s)", ns, name, timeout, app.Status.Phase)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Done reports whether phase ends a `--wait`: running or a failure.
func Done(p v1beta1.ApplicationPhase) bool {
	switch p {
	case v1beta1.ApplicationRunning, v1beta1.ApplicationWorkflowFailed, v1beta1.ApplicationWorkflowTerminated:
		return true
	}
	return false
}

// Wait polls app until its phase is Done for the current generation or
// timeout; progress is called whenever the status changes.
func Wait(ctx context.Context, c client.Client, ns, name string, timeout time.Duration, progress func(*v1beta1.Application)) (*v1beta1.Application, error) {
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		app, err := Get(ctx, c, ns, name)
		if err != nil {
			return nil, err
		}
		current := app.Status.ObservedGeneration == app.Generation
		if key := fmt.Sprintf("%s/%d/%v", app.Status.Phase, app.Status.ObservedGeneration, stepPhases(app)); key != last && progress != nil {
			last = key
			progress(app)
		}
		if current && Done(app.Status.Phase) {
			return app, nil
		}
		if time.Now().After(deadline) {
			return app, fmt.Errorf("application %s/%s is %s after %s", ns, name, app.Status.Phase, timeout)
		}
		select {
		case <-ctx.Done():
			return app, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func stepPhases(app *v1beta1.Application) []string {
	var out []string
	if app.Status.Workflow != nil {
		for _, s := range app.Status.Workflow.Steps {
			out = append(out, s.Name+"="+string(s.Phase))
		}
	}
	return out
}

// WorkflowOp changes a running workflow.
type WorkflowOp string

// Workflow operations.
const (
	Suspend   WorkflowOp = "suspend"
	Resume    WorkflowOp = "resume"
	Terminate WorkflowOp = "terminate"
	Restart   WorkflowOp = "restart"
)

// Workflow applies op to the workflow of an application by editing its
// status, which the controller reads on its next reconcile.
func Workflow(ctx context.Context, c client.Client, ns, name string, op WorkflowOp) error {
	if op == Resume {
		approved, err := resumeRollouts(ctx, c, ns, name)
		if err != nil || approved {
			return err
		}
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		app, err := Get(ctx, c, ns, name)
		if err != nil {
			return err
		}
		if err := applyOp(app, op); err != nil {
			return err
		}
		return c.Status().Update(ctx, app)
	})
	if err != nil {
		return fmt.Errorf("%s workflow of %s/%s: %w", op, ns, name, err)
	}
	return nil
}

// resumeRollouts approves the application's canary releases paused at a
// step (Kruise Rollout's approve); approved says whether one was, and the
// workflow, not suspended itself, has nothing more to resume.
func resumeRollouts(ctx context.Context, c client.Client, ns, name string) (bool, error) {
	app, err := Get(ctx, c, ns, name)
	if err != nil {
		return false, err
	}
	rs, err := rollouts.Of(ctx, c, app.Status.AppliedResources)
	if err != nil {
		return false, fmt.Errorf("resume workflow of %s/%s: %w", ns, name, err)
	}
	approved := false
	for _, r := range rs {
		if !r.WaitsForApproval() {
			continue
		}
		if err := rollouts.Approve(ctx, c, r); err != nil {
			return false, fmt.Errorf("resume workflow of %s/%s: %w", ns, name, err)
		}
		approved = true
	}
	if approved && app.Status.Workflow != nil && suspended(app.Status.Workflow) {
		return false, nil // the workflow's own suspension goes on to be resumed
	}
	return approved, nil
}

// rolloutPaused says whether a canary release of app waits at a step: its
// workflow runs (the apply step waits for health) but may be rolled back,
// as one suspended may.
func rolloutPaused(ctx context.Context, c client.Client, app *v1beta1.Application) bool {
	rs, err := rollouts.Of(ctx, c, app.Status.AppliedResources)
	return err == nil && rollouts.Paused(rs) != nil
}

// Rollback puts back the spec of the newest earlier revision whose
// workflow succeeded; the controller delivers it as a new revision (and
// collects what only the abandoned one applied). It returns the name of
// the revision rolled back to.
func Rollback(ctx context.Context, c client.Client, ns, name string) (string, error) {
	var target string
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		app, err := Get(ctx, c, ns, name)
		if err != nil {
			return err
		}
		cur := app.Status.LatestRevision
		if cur == nil {
			return fmt.Errorf("the application has no revision yet")
		}
		if st := app.Status.Workflow; st != nil && !st.Terminated && !st.Suspend && !st.Finished && !rolloutPaused(ctx, c, app) {
			return fmt.Errorf("the workflow of %s is still running: suspend or terminate it first ('velad workflow suspend %s'), or wait until it finishes", cur.Name, name)
		}
		rev, err := revision.LastSucceeded(ctx, c, app, cur.Revision)
		if err != nil {
			return err
		}
		if rev == nil {
			return fmt.Errorf("no revision before %s succeeded: nothing to roll back to", cur.Name)
		}
		target = rev.Name
		app.Spec = *rev.Spec.Application.Spec.DeepCopy()
		return c.Update(ctx, app)
	})
	if err != nil {
		return "", fmt.Errorf("roll back %s/%s: %w%s", ns, name, err, hint(err))
	}
	return target, nil
}

func applyOp(app *v1beta1.Application, op WorkflowOp) error {
	st := app.Status.Workflow
	if op == Restart {
		app.Status.Workflow = nil
		return nil
	}
	if st == nil {
		return fmt.Errorf("application has no workflow status yet")
	}
	switch op {
	case Suspend:
		if st.Finished {
			return fmt.Errorf("the workflow has already finished")
		}
		st.Suspend = true
	case Resume:
		if st.Terminated {
			return fmt.Errorf("the workflow is terminated; restart it instead")
		}
		if !suspended(st) {
			return fmt.Errorf("the workflow is not suspended (%s): nothing to resume", workflowState(st))
		}
		st.Suspend = false
		forSteps(st, func(s *v1beta1.StepStatus) {
			if s.Phase == v1beta1.WorkflowStepSuspending {
				s.Phase = v1beta1.WorkflowStepSucceeded
				s.Reason, s.Message = "", ""
			}
		})
	case Terminate:
		st.Terminated, st.Suspend = true, false
		forSteps(st, func(s *v1beta1.StepStatus) {
			if s.Phase == v1beta1.WorkflowStepSuspending || s.Phase == v1beta1.WorkflowStepRunning {
				s.Phase, s.Reason = v1beta1.WorkflowStepFailed, workflow.ReasonTerminate
			}
		})
	default:
		return fmt.Errorf("unknown workflow operation %q: want suspend, resume, terminate or restart", op)
	}
	return nil
}

// suspended reports whether the workflow waits to be resumed: suspended
// by hand or at a suspend step.
func suspended(st *v1beta1.WorkflowStatus) bool {
	if st.Suspend {
		return true
	}
	found := false
	forSteps(st, func(s *v1beta1.StepStatus) {
		found = found || s.Phase == v1beta1.WorkflowStepSuspending
	})
	return found
}

// workflowState says in words what a workflow that is not suspended does.
func workflowState(st *v1beta1.WorkflowStatus) string {
	switch {
	case st.Finished:
		return "it has finished"
	case st.Phase != "":
		return "it is " + st.Phase
	}
	return "it is running"
}

func forSteps(st *v1beta1.WorkflowStatus, f func(*v1beta1.StepStatus)) {
	for i := range st.Steps {
		f(&st.Steps[i].StepStatus)
		for j := range st.Steps[i].SubStepsStatus {
			f(&st.Steps[i].SubStepsStatus[j])
		}
	}
}

// Resource is one object an application applied.
type Resource struct {
	Component string
	Trait     string
	Ref       v1beta1.ClusterObjectReference
	// Children are objects made on its behalf (a HelmRelease's chart's).
	Children []Resource
}

// Resources lists what the latest revision of app applied, from its
// ResourceTracker, in the order it was recorded, each with its children.
func Resources(ctx context.Context, c client.Client, app *v1beta1.Application) ([]Resource, error) {
	if app.Status.LatestRevision == nil {
		return nil, nil
	}
	rt := &v1beta1.ResourceTracker{}
	name := tracker.Name(app, app.Status.LatestRevision.Name)
	if err := c.Get(ctx, client.ObjectKey{Name: name}, rt); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get resource tracker %s: %w", name, err)
	}
	var out []Resource
	for _, m := range rt.Spec.ManagedResources {
		kids, err := children(ctx, c, m.ClusterObjectReference)
		if err != nil {
			return nil, err
		}
		out = append(out, Resource{Component: m.Component, Trait: m.Trait, Ref: m.ClusterObjectReference, Children: kids})
	}
	return out, nil
}
