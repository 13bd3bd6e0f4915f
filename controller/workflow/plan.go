// Package workflow runs an application's delivery workflow one reconcile
// at a time: each Run advances the steps as far as they can go and
// records their phases in the WorkflowStatus, so that a workflow survives
// controller restarts and can be suspended, resumed, terminated and
// restarted by editing that status.
package workflow

import (
	"encoding/json"
	"slices"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// Step types the engine runs itself.
const (
	TypeSuspend        = "suspend"
	TypeStepGroup      = "step-group"
	TypeApplyComponent = "apply-component"
	TypeDeploy         = "deploy"
	TypeApplyObject    = "apply-object"
)

// Plan is the workflow to run: the declared one, or one apply-component
// step per component run as a DAG honouring dependsOn.
type Plan struct {
	Steps []v1beta1.WorkflowStep
	Mode  v1beta1.WorkflowExecuteMode
}

// PlanFor returns the workflow of app.
func PlanFor(app *v1beta1.Application) Plan {
	if wf := app.Spec.Workflow; wf != nil && len(wf.Steps) > 0 {
		mode := v1beta1.WorkflowExecuteMode{Steps: v1beta1.WorkflowModeStep, SubSteps: v1beta1.WorkflowModeDAG}
		if wf.Mode != nil {
			if wf.Mode.Steps != "" {
				mode.Steps = wf.Mode.Steps
			}
			if wf.Mode.SubSteps != "" {
				mode.SubSteps = wf.Mode.SubSteps
			}
		}
		return Plan{Steps: wf.Steps, Mode: mode}
	}
	p := Plan{Mode: v1beta1.WorkflowExecuteMode{Steps: v1beta1.WorkflowModeDAG, SubSteps: v1beta1.WorkflowModeDAG}}
	// A component whose input is another's output comes after it.
	producer := map[string]string{}
	for _, c := range app.Spec.Components {
		for _, o := range c.Outputs {
			producer[o.Name] = c.Name
		}
	}
	for _, c := range app.Spec.Components {
		deps := c.DependsOn
		for _, in := range c.Inputs {
			if pc, ok := producer[in.From]; ok && pc != c.Name && !slices.Contains(deps, pc) {
				deps = append(slices.Clip(deps), pc)
			}
		}
		p.Steps = append(p.Steps, v1beta1.WorkflowStep{WorkflowStepBase: v1beta1.WorkflowStepBase{
			Name: c.Name, Type: TypeApplyComponent, DependsOn: deps,
			Properties: rawJSON(map[string]any{"component": c.Name}),
		}})
	}
	return p
}

func rawJSON(v any) *runtime.RawExtension {
	b, _ := json.Marshal(v)
	return &runtime.RawExtension{Raw: b}
}

// Properties decodes a step's properties (nil → empty).
func Properties(s v1beta1.WorkflowStepBase) (map[string]any, error) {
	out := map[string]any{}
	if s.Properties == nil || len(s.Properties.Raw) == 0 {
		return out, nil
	}
	if err := json.Unmarshal(s.Properties.Raw, &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}
