package cli

import (
	"bytes"
	"testing"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/appcli"
)

// Logs print in the order of the workflow's steps (sub-steps after their
// group), then those of steps no longer in it.
func TestPrintStepLogs(t *testing.T) {
	app := &v1beta1.Application{}
	app.Status.Workflow = &v1beta1.WorkflowStatus{Steps: []v1beta1.WorkflowStepStatus{
		{StepStatus: v1beta1.StepStatus{Name: "b"}, SubStepsStatus: []v1beta1.StepStatus{{Name: "b1"}}},
		{StepStatus: v1beta1.StepStatus{Name: "a"}},
	}}
	var out bytes.Buffer
	printStepLogs(&out, app, map[string][]string{"a": {"a one"}, "b1": {"b1 one", "b1 two"}, "gone": {"old"}})
	want := "[b1] b1 one\n[b1] b1 two\n[a] a one\n[gone] old\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	out.Reset()
	printStepLogs(&out, app, nil)
	if out.String() != "no step has logged anything\n" {
		t.Errorf("no logs: %q", out.String())
	}
}

func TestPrintWorkflowIO(t *testing.T) {
	var out bytes.Buffer
	printWorkflowIO(&out, []appcli.StepIO{{Step: "read", Outputs: []appcli.NameValue{{Name: "token", Value: "(sensitive)"}}},
		{Step: "component web", Inputs: []appcli.NameValue{{Name: "host", Value: `"db"`}}}})
	want := "\nInputs and outputs:\n  read           output  token  (sensitive)\n  component web  input   host   \"db\"\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}
