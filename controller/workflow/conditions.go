package workflow

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// IfAlways runs a step even after an earlier step failed.
const IfAlways = "always"

// Reasons a step ends with when the engine decides, not the step.
const (
	ReasonTimeout      = "Timeout"
	ReasonSkip         = "Skip"
	ReasonInvalidIf    = "InvalidIf"
	ReasonInvalidTimer = "InvalidTimeout"
)

// evalIf evaluates a step's `if` as a CUE boolean expression over the
// steps finished so far, as KubeVela's: `status.deploy.failed`,
// `status["canary-check"].timeout`, `status.a.phase == "succeeded"`,
// or the keyword `always`.
func evalIf(cond string, steps []v1beta1.StepStatus, inputs map[string]any) (bool, error) {
	cond = strings.TrimSpace(cond)
	if cond == IfAlways {
		return true, nil
	}
	status := map[string]any{}
	for _, s := range steps {
		status[s.Name] = map[string]any{
			"phase":     string(s.Phase),
			"succeeded": s.Phase == v1beta1.WorkflowStepSucceeded,
			"failed":    s.Phase == v1beta1.WorkflowStepFailed,
			"skipped":   s.Phase == v1beta1.WorkflowStepSkipped,
			"timeout":   s.Phase == v1beta1.WorkflowStepFailed && s.Reason == ReasonTimeout,
			"reason":    s.Reason,
			"message":   s.Message,
		}
	}
	data, err := json.Marshal(status)
	if err != nil {
		return false, err
	}
	if inputs == nil {
		inputs = map[string]any{}
	}
	in, err := json.Marshal(inputs)
	if err != nil {
		return false, err
	}
	v := cuecontext.New().CompileString(fmt.Sprintf("status: %s\ninputs: %s\nresult: %s\n", data, in, cond))
	if err := v.Err(); err != nil {
		return false, fmt.Errorf("if %q: %v", cond, err)
	}
	res := v.LookupPath(cue.ParsePath("result"))
	b, err := res.Bool()
	if err != nil {
		return false, fmt.Errorf("if %q is not a boolean over status.<step>.(succeeded|failed|skipped|timeout|phase) and inputs.<name>: %v", cond, err)
	}
	return b, nil
}

// deadline is when a step with a `timeout` fails if it is not done.
func deadline(spec v1beta1.WorkflowStepBase, s *v1beta1.StepStatus) (time.Time, bool, error) {
	if spec.Timeout == "" {
		return time.Time{}, false, nil
	}
	d, err := time.ParseDuration(spec.Timeout)
	if err != nil || d <= 0 {
		return time.Time{}, false, fmt.Errorf("step %q: invalid timeout %q (want a duration like 30s or 10m)", spec.Name, spec.Timeout)
	}
	return s.FirstExecuteTime.Add(d), true, nil
}
