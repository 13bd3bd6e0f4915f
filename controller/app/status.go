package app

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/workflow"
)

// Condition types on an Application.
const (
	ConditionRendered = "Rendered"
	ConditionReady    = "Ready"
)

// renderFailed reports an error found before the workflow: the app goes
// to workflowFailed with the message (naming the component) and an
// Event. A missing definition is retried soon; other user errors wait
// for the app to change. Errors talking to the API server are retried
// with backoff.
func (r *Reconciler) renderFailed(_ context.Context, app *v1beta1.Application, err error) (ctrl.Result, error) {
	var re *renderError
	if !asRenderError(err, &re) {
		return ctrl.Result{}, err
	}
	msg := err.Error()
	if app.Status.Phase != v1beta1.ApplicationWorkflowFailed || conditionMessage(app, ConditionRendered) != msg {
		r.event(app, "Warning", "RenderFailed", "%s", msg)
	}
	app.Status.Phase = v1beta1.ApplicationWorkflowFailed
	setCondition(app, ConditionRendered, false, "RenderFailed", msg)
	setCondition(app, ConditionReady, false, "RenderFailed", msg)
	if isMissingDefinition(err) {
		return ctrl.Result{RequeueAfter: MissingDefinitionRetry}, nil
	}
	return r.requeue(app, workflowResult{}), nil
}

func asRenderError(err error, re **renderError) bool {
	e, ok := err.(*renderError)
	if ok {
		*re = e
	}
	return ok
}

// setPhase derives status.status from the workflow and the services.
func (r *Reconciler) setPhase(ctx context.Context, app *v1beta1.Application, wf workflowResult) {
	setCondition(app, ConditionRendered, true, "Rendered", "")
	old := app.Status.Phase
	switch wf.phase {
	case workflow.PhaseTerminated:
		app.Status.Phase = v1beta1.ApplicationWorkflowTerminated
	case workflow.PhaseFailed:
		app.Status.Phase = v1beta1.ApplicationWorkflowFailed
	case workflow.PhaseSuspending:
		app.Status.Phase = v1beta1.ApplicationWorkflowSuspending
	case workflow.PhaseSucceeded:
		app.Status.Phase = v1beta1.ApplicationRunning
		if !healthy(app) {
			app.Status.Phase = v1beta1.ApplicationUnhealthy
			if msg := r.pausedRollout(ctx, app); msg != "" {
				app.Status.Phase, wf.message = v1beta1.ApplicationWorkflowSuspending, msg
			}
		}
	default:
		app.Status.Phase = v1beta1.ApplicationRunningWorkflow
		// A canary release paused at a step (the apply step waits for
		// it to be healthy) waits for `velad workflow resume`, as a
		// suspend step does.
		if msg := r.pausedRollout(ctx, app); msg != "" {
			app.Status.Phase, wf.message = v1beta1.ApplicationWorkflowSuspending, msg
		}
	}
	ready := app.Status.Phase == v1beta1.ApplicationRunning
	msg := wf.message
	if !ready && msg == "" {
		msg = "phase " + string(app.Status.Phase)
	}
	if ready {
		msg = ""
	}
	setCondition(app, ConditionReady, ready, string(app.Status.Phase), msg)
	if old != app.Status.Phase {
		switch app.Status.Phase {
		case v1beta1.ApplicationWorkflowFailed:
			r.event(app, "Warning", "WorkflowFailed", "%s", wf.message)
		case v1beta1.ApplicationRunning:
			r.event(app, "Normal", "Running", "application is running (%s)", app.Status.LatestRevision.Name)
		}
	}
}

func setCondition(app *v1beta1.Application, typ string, ok bool, reason, msg string) {
	s := metav1.ConditionFalse
	if ok {
		s = metav1.ConditionTrue
	}
	if reason == "" {
		reason = typ
	}
	meta.SetStatusCondition(&app.Status.Conditions, metav1.Condition{Type: typ, Status: s, Reason: reason, Message: msg,
		ObservedGeneration: app.Generation})
}

func conditionMessage(app *v1beta1.Application, typ string) string {
	if c := meta.FindStatusCondition(app.Status.Conditions, typ); c != nil {
		return c.Message
	}
	return ""
}

// event records an Event on app (nil recorder: none).
func (r *Reconciler) event(app *v1beta1.Application, typ, reason, format string, args ...any) {
	if r.Recorder == nil {
		return
	}
	r.Recorder.Eventf(app, nil, typ, reason, "Reconcile", "%s", fmt.Sprintf(format, args...))
}
