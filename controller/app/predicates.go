package app

import (
	"maps"
	"slices"

	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// appChanged lets through the updates of an Application that need a
// reconcile: spec (generation), labels, annotations, deletion, and the
// workflow operations `velad workflow` writes into the status (suspend,
// resume, terminate, restart). Status writes of the controller itself are
// dropped: they would only reconcile the app again for nothing.
func appChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		o, n := e.ObjectOld, e.ObjectNew
		if o == nil || n == nil {
			return true
		}
		if o.GetGeneration() != n.GetGeneration() ||
			!maps.Equal(o.GetLabels(), n.GetLabels()) ||
			!maps.Equal(o.GetAnnotations(), n.GetAnnotations()) ||
			!o.GetDeletionTimestamp().Equal(n.GetDeletionTimestamp()) {
			return true
		}
		if n.GetDeletionTimestamp() != nil && !slices.Equal(o.GetFinalizers(), n.GetFinalizers()) {
			return true
		}
		oa, ok1 := o.(*v1beta1.Application)
		na, ok2 := n.(*v1beta1.Application)
		if !ok1 || !ok2 {
			return true
		}
		return workflowOperated(oa.Status.Workflow, na.Status.Workflow)
	}}
}

// workflowOperated reports whether a status update carries a workflow
// operation: restart (the workflow status removed), suspend, resume (a
// suspending step marked succeeded) or terminate.
func workflowOperated(o, n *v1beta1.WorkflowStatus) bool {
	if o == nil || n == nil {
		return o != nil && n == nil
	}
	if o.Suspend != n.Suspend || o.Terminated != n.Terminated {
		return true
	}
	return suspendingSteps(o) != suspendingSteps(n)
}

func suspendingSteps(st *v1beta1.WorkflowStatus) int {
	n := 0
	for _, s := range st.Steps {
		if s.Phase == v1beta1.WorkflowStepSuspending {
			n++
		}
		for _, sub := range s.SubStepsStatus {
			if sub.Phase == v1beta1.WorkflowStepSuspending {
				n++
			}
		}
	}
	return n
}
