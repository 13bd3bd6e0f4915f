// Package workflow runs an application's delivery workflow one reconcile
// at a time: each Run advances the steps as far as they can go and
// records their phases in the WorkflowStatus, so that a workflow survives
// controller restarts and can be suspended, resumed, terminated and
// restarted by editing that status.
package workflow

import (
	"encoding/json"
	"fmt"
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

// Plan is the workflow to run: the declared one, or the one KubeVela
// generates (DefaultSteps), run as a DAG.
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
	return Plan{Steps: DefaultSteps(app), Mode: v1beta1.WorkflowExecuteMode{Steps: v1beta1.WorkflowModeDAG, SubSteps: v1beta1.WorkflowModeDAG}}
}

// Policy types that decide the default workflow.
const (
	PolicyTopology = "topology"
	PolicyOverride = "override"
	// ComponentRefObjects is the component type whose components are
	// always delivered by a deploy step.
	ComponentRefObjects = "ref-objects"
)

// DefaultSteps is the workflow of an application that declares none, as
// KubeVela generates it: a deploy step per topology policy
// ("deploy-<topology>", with every override policy and that topology);
// without topology policies, one "deploy" step with every override
// policy when there are override policies or ref-objects components;
// otherwise one apply-component step per component, honouring dependsOn.
func DefaultSteps(app *v1beta1.Application) []v1beta1.WorkflowStep {
	var topologies, overrides []string
	for _, p := range app.Spec.Policies {
		switch p.Type {
		case PolicyTopology:
			topologies = append(topologies, p.Name)
		case PolicyOverride:
			overrides = append(overrides, p.Name)
		}
	}
	deploy := func(name string, policies []string) v1beta1.WorkflowStep {
		return v1beta1.WorkflowStep{WorkflowStepBase: v1beta1.WorkflowStepBase{
			Name: name, Type: TypeDeploy, Properties: rawJSON(map[string]any{"policies": policies}),
		}}
	}
	var steps []v1beta1.WorkflowStep
	for _, t := range topologies {
		steps = append(steps, deploy("deploy-"+t, append(append([]string{}, overrides...), t)))
	}
	if len(steps) > 0 {
		return steps
	}
	refObjects := false
	for _, c := range app.Spec.Components {
		refObjects = refObjects || c.Type == ComponentRefObjects
	}
	if refObjects || len(overrides) > 0 {
		return []v1beta1.WorkflowStep{deploy("deploy", append([]string{}, overrides...))}
	}
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
		steps = append(steps, v1beta1.WorkflowStep{WorkflowStepBase: v1beta1.WorkflowStepBase{
			Name: c.Name, Type: TypeApplyComponent, DependsOn: deps,
			Properties: rawJSON(map[string]any{"component": c.Name}),
		}})
	}
	return steps
}

// DeployPolicies returns the policies a deploy step names
// (properties.policies).
func DeployPolicies(s v1beta1.WorkflowStepBase) ([]string, error) {
	var props struct {
		Policies []string `json:"policies"`
	}
	if s.Properties == nil || len(s.Properties.Raw) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(s.Properties.Raw, &props); err != nil {
		return nil, fmt.Errorf("deploy step %q: properties.policies: %w", s.Name, err)
	}
	return props.Policies, nil
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
