package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ApplicationComponent is one component of an Application.
type ApplicationComponent struct {
	// Name is unique within the Application.
	Name string `json:"name"`
	// Type is a ComponentDefinition name, optionally pinned to a
	// revision: "webservice@v2".
	Type string `json:"type"`
	// ExternalRevision names the component revision to create.
	// +optional
	ExternalRevision string `json:"externalRevision,omitempty"`
	// Properties are the component's parameters.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	Properties *runtime.RawExtension `json:"properties,omitempty"`
	// DependsOn lists components that must be healthy first.
	// +optional
	DependsOn []string `json:"dependsOn,omitempty"`
	// Inputs fill parameters from outputs of other components or steps.
	// +optional
	Inputs []InputItem `json:"inputs,omitempty"`
	// Outputs export values of this component.
	// +optional
	Outputs []OutputItem `json:"outputs,omitempty"`
	// Traits augment the component.
	// +optional
	Traits []ApplicationTrait `json:"traits,omitempty"`
}

// ApplicationTrait is one trait on a component.
type ApplicationTrait struct {
	// Type is a TraitDefinition name.
	Type string `json:"type"`
	// Properties are the trait's parameters.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	Properties *runtime.RawExtension `json:"properties,omitempty"`
}

// InputItem fills the parameter at ParameterKey from the output From.
type InputItem struct {
	// +optional
	ParameterKey string `json:"parameterKey,omitempty"`
	From         string `json:"from"`
}

// OutputItem exports the value at ValueFrom under Name.
type OutputItem struct {
	ValueFrom string `json:"valueFrom"`
	Name      string `json:"name"`
}

// AppPolicy is one policy of an Application.
type AppPolicy struct {
	// Name is unique among the policies; a policy without one cannot be
	// named by a deploy step.
	// +optional
	Name string `json:"name,omitempty"`
	Type string `json:"type"`
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	Properties *runtime.RawExtension `json:"properties,omitempty"`
}

// Workflow step modes.
const (
	WorkflowModeStep = "StepByStep"
	WorkflowModeDAG  = "DAG"
)

// Workflow is the ordered delivery of an Application.
type Workflow struct {
	// +optional
	Ref string `json:"ref,omitempty"`
	// +optional
	Mode *WorkflowExecuteMode `json:"mode,omitempty"`
	// +optional
	Steps []WorkflowStep `json:"steps,omitempty"`
}

// WorkflowExecuteMode says how steps and sub-steps run.
type WorkflowExecuteMode struct {
	// +optional
	// +kubebuilder:validation:Enum=StepByStep;DAG
	Steps string `json:"steps,omitempty"`
	// +optional
	// +kubebuilder:validation:Enum=StepByStep;DAG
	SubSteps string `json:"subSteps,omitempty"`
}

// WorkflowStepBase is what steps and sub-steps share.
type WorkflowStepBase struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// +optional
	Meta *WorkflowStepMeta `json:"meta,omitempty"`
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	Properties *runtime.RawExtension `json:"properties,omitempty"`
	// +optional
	DependsOn []string `json:"dependsOn,omitempty"`
	// +optional
	Inputs []InputItem `json:"inputs,omitempty"`
	// +optional
	Outputs []OutputItem `json:"outputs,omitempty"`
	// If is a condition deciding whether the step runs.
	// +optional
	If string `json:"if,omitempty"`
	// Timeout is a duration like "10m".
	// +optional
	Timeout string `json:"timeout,omitempty"`
}

// WorkflowStepMeta is metadata of a step.
type WorkflowStepMeta struct {
	// +optional
	Alias string `json:"alias,omitempty"`
}

// WorkflowStep is one step of a workflow, possibly a group of sub-steps.
type WorkflowStep struct {
	WorkflowStepBase `json:",inline"`
	// +optional
	Mode string `json:"mode,omitempty"`
	// +optional
	SubSteps []WorkflowStepBase `json:"subSteps,omitempty"`
}

// ApplicationSpec is the desired state of an Application.
type ApplicationSpec struct {
	Components []ApplicationComponent `json:"components"`
	// +optional
	Policies []AppPolicy `json:"policies,omitempty"`
	// +optional
	Workflow *Workflow `json:"workflow,omitempty"`
}

// ApplicationPhase is the overall state of an Application.
type ApplicationPhase string

// Application phases.
const (
	ApplicationStarting           ApplicationPhase = "starting"
	ApplicationRendering          ApplicationPhase = "rendering"
	ApplicationRunningWorkflow    ApplicationPhase = "runningWorkflow"
	ApplicationWorkflowSuspending ApplicationPhase = "workflowSuspending"
	ApplicationWorkflowTerminated ApplicationPhase = "workflowTerminated"
	ApplicationWorkflowFailed     ApplicationPhase = "workflowFailed"
	ApplicationRunning            ApplicationPhase = "running"
	ApplicationUnhealthy          ApplicationPhase = "unhealthy"
	ApplicationDeleting           ApplicationPhase = "deleting"
)

// WorkflowStepPhase is the state of one step.
type WorkflowStepPhase string

// Workflow step phases.
const (
	WorkflowStepSucceeded  WorkflowStepPhase = "succeeded"
	WorkflowStepFailed     WorkflowStepPhase = "failed"
	WorkflowStepSkipped    WorkflowStepPhase = "skipped"
	WorkflowStepRunning    WorkflowStepPhase = "running"
	WorkflowStepPending    WorkflowStepPhase = "pending"
	WorkflowStepSuspending WorkflowStepPhase = "suspending"
)

// ApplicationComponentStatus is the observed state of one component.
type ApplicationComponentStatus struct {
	Name string `json:"name"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// +optional
	Cluster string `json:"cluster,omitempty"`
	// +optional
	Env string `json:"env,omitempty"`
	// +optional
	WorkloadDefinition WorkloadGVK `json:"workloadDefinition,omitempty"`
	Healthy            bool        `json:"healthy"`
	// +optional
	Message string `json:"message,omitempty"`
	// +optional
	Details map[string]string `json:"details,omitempty"`
	// +optional
	Traits []ApplicationTraitStatus `json:"traits,omitempty"`
}

// ApplicationTraitStatus is the observed state of one trait.
type ApplicationTraitStatus struct {
	Type    string `json:"type"`
	Healthy bool   `json:"healthy"`
	// +optional
	Message string `json:"message,omitempty"`
	// +optional
	Details map[string]string `json:"details,omitempty"`
}

// StepStatus is the observed state of a step.
type StepStatus struct {
	// +optional
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	// +optional
	Type string `json:"type,omitempty"`
	// +optional
	Phase WorkflowStepPhase `json:"phase,omitempty"`
	// +optional
	Reason string `json:"reason,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
	// +optional
	FirstExecuteTime metav1.Time `json:"firstExecuteTime,omitempty"`
	// +optional
	LastExecuteTime metav1.Time `json:"lastExecuteTime,omitempty"`
}

// WorkflowStepStatus is a step with its sub-steps.
type WorkflowStepStatus struct {
	StepStatus `json:",inline"`
	// +optional
	SubStepsStatus []StepStatus `json:"subSteps,omitempty"`
}

// WorkflowStatus is the observed state of the workflow.
type WorkflowStatus struct {
	// +optional
	AppRevision string `json:"appRevision,omitempty"`
	// +optional
	Mode string `json:"mode,omitempty"`
	// +optional
	Phase string `json:"status,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
	// +optional
	Suspend bool `json:"suspend"`
	// +optional
	SuspendState string `json:"suspendState,omitempty"`
	// +optional
	Terminated bool `json:"terminated"`
	// +optional
	Finished bool `json:"finished"`
	// +optional
	ContextBackend *ObjectReference `json:"contextBackend,omitempty"`
	// +optional
	Steps []WorkflowStepStatus `json:"steps,omitempty"`
	// +optional
	StartTime metav1.Time `json:"startTime,omitempty"`
	// +optional
	EndTime metav1.Time `json:"endTime,omitempty"`
}

// ObjectReference points at an object, possibly in another cluster.
type ObjectReference struct {
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`
	// +optional
	Kind string `json:"kind,omitempty"`
	// +optional
	Name string `json:"name,omitempty"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// +optional
	UID string `json:"uid,omitempty"`
	// +optional
	ResourceVersion string `json:"resourceVersion,omitempty"`
}

// ClusterObjectReference is an object in a named cluster.
type ClusterObjectReference struct {
	// +optional
	Cluster         string `json:"cluster,omitempty"`
	ObjectReference `json:",inline"`
}

// AppStatus is the observed state of an Application.
type AppStatus struct {
	ConditionedStatus `json:",inline"`
	// +optional
	Phase ApplicationPhase `json:"status,omitempty"`
	// +optional
	Services []ApplicationComponentStatus `json:"services,omitempty"`
	// +optional
	Workflow *WorkflowStatus `json:"workflow,omitempty"`
	// +optional
	LatestRevision *Revision `json:"latestRevision,omitempty"`
	// +optional
	AppliedResources []ClusterObjectReference `json:"appliedResources,omitempty"`
	// +optional
	PolicyStatus []PolicyStatus `json:"policy,omitempty"`
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// PolicyStatus is state a policy keeps.
type PolicyStatus struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	Status *runtime.RawExtension `json:"status,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,categories={oam},shortName=app
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="COMPONENT",type=string,JSONPath=".spec.components[*].name"
// +kubebuilder:printcolumn:name="TYPE",type=string,JSONPath=".spec.components[*].type"
// +kubebuilder:printcolumn:name="PHASE",type=string,JSONPath=".status.status"
// +kubebuilder:printcolumn:name="AGE",type=date,JSONPath=".metadata.creationTimestamp"

// Application is a set of components, their traits, policies and the
// workflow that delivers them.
type Application struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ApplicationSpec `json:"spec,omitempty"`
	Status AppStatus       `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ApplicationList is a list of Application.
type ApplicationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Application `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Application{}, &ApplicationList{})
}
