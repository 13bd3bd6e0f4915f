package appcli_test

import (
	"context"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/velad-dev/velad/controller/api/scheme"
	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/appcli"
)

func appWith(st *v1beta1.WorkflowStatus) *v1beta1.Application {
	app := &v1beta1.Application{Spec: v1beta1.ApplicationSpec{Components: []v1beta1.ApplicationComponent{{Name: "web", Type: "webservice"}}}}
	app.Name, app.Namespace = "shop", "default"
	app.Status.LatestRevision = &v1beta1.Revision{Name: "shop-v2", Revision: 2}
	app.Status.Workflow = st
	return app
}

func newClient(t *testing.T, app *v1beta1.Application) client.Client {
	t.Helper()
	s, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(s).WithObjects(app).WithStatusSubresource(&v1beta1.Application{}).Build()
}

// Operations that make no sense in the workflow's state are refused with
// what the state is, and change nothing.
func TestWorkflowOpsRefusedInTheWrongState(t *testing.T) {
	running := &v1beta1.WorkflowStatus{Phase: "executing", Steps: []v1beta1.WorkflowStepStatus{{StepStatus: v1beta1.StepStatus{Name: "web", Phase: v1beta1.WorkflowStepRunning}}}}
	finished := &v1beta1.WorkflowStatus{Phase: "succeeded", Finished: true}
	atSuspendStep := &v1beta1.WorkflowStatus{Phase: "suspending", Steps: []v1beta1.WorkflowStepStatus{{StepStatus: v1beta1.StepStatus{Name: "hold", Phase: v1beta1.WorkflowStepSuspending}}}}
	byHand := &v1beta1.WorkflowStatus{Phase: "executing", Suspend: true}
	tests := []struct {
		name string
		st   *v1beta1.WorkflowStatus
		op   string // a WorkflowOp, or "rollback"
		want string // "" = done
	}{
		{"resume a running workflow", running, "resume", `the workflow is not suspended (it is executing): nothing to resume`},
		{"resume a finished workflow", finished, "resume", `the workflow is not suspended (it has finished)`},
		{"resume at a suspend step", atSuspendStep, "resume", ""},
		{"resume a workflow suspended by hand", byHand, "resume", ""},
		{"roll back while running", running, "rollback", `the workflow of shop-v2 is still running: suspend or terminate it first`},
		{"roll back while suspended gets past the running check", byHand, "rollback", `nothing to roll back to`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := appWith(tc.st.DeepCopy())
			c := newClient(t, app)
			var err error
			if tc.op == "rollback" {
				_, err = appcli.Rollback(context.Background(), c, "default", "shop")
			} else {
				err = appcli.Workflow(context.Background(), c, "default", "shop", appcli.WorkflowOp(tc.op))
			}
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				got := &v1beta1.Application{}
				if err := c.Get(context.Background(), client.ObjectKeyFromObject(app), got); err != nil {
					t.Fatal(err)
				}
				if got.Status.Workflow.Suspend || got.Status.Workflow.Steps != nil && got.Status.Workflow.Steps[0].Phase == v1beta1.WorkflowStepSuspending {
					t.Errorf("still suspended after resume: %+v", got.Status.Workflow)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
