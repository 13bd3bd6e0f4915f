package app

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/tracker"
	"github.com/velad-dev/velad/controller/workflow"
)

// ConditionCollected is true once the objects of older revisions that
// the latest does not keep are deleted; its reason names the revision.
const ConditionCollected = "GarbageCollected"

// collect deletes what older revisions applied and the latest does not,
// once the latest revision's workflow has succeeded (once per revision).
func (run *appRun) collect(ctx context.Context, wf workflowResult) error {
	if wf.phase != workflow.PhaseSucceeded {
		return nil
	}
	c := meta.FindStatusCondition(run.app.Status.Conditions, ConditionCollected)
	if c != nil && c.Status == metav1.ConditionTrue && c.Message == run.rev.Name {
		return nil
	}
	// The first revision has no older one to collect from. (Listing the
	// trackers reads every tracker of the cluster on the API server:
	// costly with many apps.) Trackers left by an earlier object of the
	// same name are collected with the next revision.
	n := 0
	if run.rev.Revision != 1 {
		policy, err := tracker.PolicyOf(run.spec)
		if err != nil {
			return err
		}
		if n, err = run.r.tracker().Collect(ctx, run.app, run.rev.Name, policy); err != nil {
			return fmt.Errorf("garbage-collect resources of %s/%s: %w", run.app.Namespace, run.app.Name, err)
		}
	}
	if n > 0 {
		run.r.event(run.app, "Normal", "GarbageCollected", "deleted %d resources no longer in %s", n, run.rev.Name)
	}
	meta.SetStatusCondition(&run.app.Status.Conditions, metav1.Condition{
		Type: ConditionCollected, Status: metav1.ConditionTrue, Reason: "Collected", Message: run.rev.Name,
		ObservedGeneration: run.app.Generation,
	})
	return nil
}

// finalize deletes everything the app applied, then lets it go.
func (r *Reconciler) finalize(ctx context.Context, app *v1beta1.Application) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(app, Finalizer) {
		return ctrl.Result{}, nil
	}
	if app.Status.Phase != v1beta1.ApplicationDeleting {
		app.Status.Phase = v1beta1.ApplicationDeleting
		// Best effort: the status only informs `velad status` meanwhile.
		_ = r.Client.Status().Update(ctx, app)
	}
	// A policy the app cannot be read with (it is being deleted) keeps
	// nothing back: everything it applied goes.
	policy, err := tracker.PolicyOf(app)
	if err != nil {
		policy = tracker.Policy{}
	}
	if err := r.tracker().DeleteAll(ctx, app, policy); err != nil {
		return ctrl.Result{}, fmt.Errorf("delete resources of application %s/%s: %w", app.Namespace, app.Name, err)
	}
	if needsContext(app) {
		if err := r.contexts().Delete(ctx, app); err != nil {
			return ctrl.Result{}, err
		}
	}
	controllerutil.RemoveFinalizer(app, Finalizer)
	if err := r.Client.Update(ctx, app); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(fmt.Errorf("remove finalizer of application %s/%s: %w", app.Namespace, app.Name, err))
	}
	return ctrl.Result{}, nil
}
