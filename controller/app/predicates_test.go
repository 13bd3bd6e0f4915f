package app

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

func TestAppChangedPredicate(t *testing.T) {
	base := func() *v1beta1.Application {
		a := &v1beta1.Application{}
		a.Name, a.Namespace, a.Generation = "a", "ns", 1
		a.Labels = map[string]string{"x": "1"}
		a.Status.Phase = v1beta1.ApplicationRunningWorkflow
		a.Status.Workflow = &v1beta1.WorkflowStatus{Steps: []v1beta1.WorkflowStepStatus{{StepStatus: v1beta1.StepStatus{Phase: v1beta1.WorkflowStepSuspending}}}}
		return a
	}
	now := metav1.Now()
	cases := []struct {
		name   string
		change func(a *v1beta1.Application)
		want   bool
	}{
		{"status written by the controller", func(a *v1beta1.Application) { a.Status.Phase = v1beta1.ApplicationRunning }, false},
		{"finalizer added", func(a *v1beta1.Application) { a.Finalizers = []string{Finalizer} }, false},
		{"spec changed", func(a *v1beta1.Application) { a.Generation = 2 }, true},
		{"label changed", func(a *v1beta1.Application) { a.Labels["x"] = "2" }, true},
		{"annotation added", func(a *v1beta1.Application) { a.Annotations = map[string]string{"y": "1"} }, true},
		{"deleted", func(a *v1beta1.Application) { a.DeletionTimestamp = &now }, true},
		{"workflow suspended", func(a *v1beta1.Application) { a.Status.Workflow.Suspend = true }, true},
		{"workflow terminated", func(a *v1beta1.Application) { a.Status.Workflow.Terminated = true }, true},
		{"workflow restarted", func(a *v1beta1.Application) { a.Status.Workflow = nil }, true},
		{"workflow resumed", func(a *v1beta1.Application) {
			a.Status.Workflow.Steps[0].Phase = v1beta1.WorkflowStepSucceeded
		}, true},
	}
	p := appChanged()
	for _, tc := range cases {
		old, n := base(), base()
		tc.change(n)
		if got := p.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: n}); got != tc.want {
			t.Errorf("%s: reconcile = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestAppliedObjectUnchanged(t *testing.T) {
	desired := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "labels": map[string]any{"app.oam.dev/name": "a"}}}}
	live := func(gen int64, rv string, labels map[string]any) *unstructured.Unstructured {
		u := desired.DeepCopy()
		u.SetUID("u1")
		u.SetGeneration(gen)
		u.SetResourceVersion(rv)
		_ = unstructured.SetNestedMap(u.Object, labels, "metadata", "labels")
		return u
	}
	rec := appliedObject{uid: "u1", generation: 2, resourceVersion: "10"}
	ours := map[string]any{"app.oam.dev/name": "a"}
	if !rec.unchanged(desired, live(2, "11", ours)) {
		t.Error("a status update (new resourceVersion, same generation) counts as drift")
	}
	if rec.unchanged(desired, live(3, "12", ours)) {
		t.Error("a spec change (new generation) is not drift")
	}
	if rec.unchanged(desired, live(2, "12", map[string]any{})) {
		t.Error("removed labels are not drift")
	}
	if rec.unchanged(desired, nil) {
		t.Error("a deleted object is not drift")
	}
	recreated := live(2, "11", ours)
	recreated.SetUID("u2")
	if rec.unchanged(desired, recreated) {
		t.Error("a recreated object is not drift")
	}
	noGen := appliedObject{uid: "u1", resourceVersion: "10"}
	if !noGen.unchanged(desired, live(0, "10", ours)) || noGen.unchanged(desired, live(0, "11", ours)) {
		t.Error("objects without generation: any change of resourceVersion must count as drift")
	}
}

func TestAppliedStatesExpire(t *testing.T) {
	var s appliedStates
	app := &v1beta1.Application{}
	app.Name, app.Namespace, app.UID = "a", "ns", "u1"
	t0 := time.Unix(1000, 0)
	s.put(app, &appliedState{uid: "u1", revision: "a-v1", since: t0})
	if s.get(app, "a-v1", t0.Add(time.Minute), 4*time.Minute) == nil {
		t.Error("state forgotten within the resync interval")
	}
	if s.get(app, "a-v1", t0.Add(4*time.Minute), 4*time.Minute) != nil {
		t.Error("state kept past the resync interval: drift would never be corrected")
	}
	if s.get(app, "a-v2", t0, 4*time.Minute) != nil {
		t.Error("state of another revision used")
	}
	other := app.DeepCopy()
	other.UID = "u2"
	if s.get(other, "a-v1", t0, 4*time.Minute) != nil {
		t.Error("state of a deleted app with the same name used")
	}
}
