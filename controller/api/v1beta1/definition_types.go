package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ComponentDefinitionSpec describes a component type.
type ComponentDefinitionSpec struct {
	// Workload is the kind of object the component's `output` produces.
	// +optional
	Workload WorkloadTypeDescriptor `json:"workload,omitempty"`
	// ChildResourceKinds lists kinds the workload creates itself.
	// +optional
	ChildResourceKinds []ChildResourceKind `json:"childResourceKinds,omitempty"`
	// PodSpecPath is where the pod spec lives in the workload.
	// +optional
	PodSpecPath string `json:"podSpecPath,omitempty"`
	// Status computes health and a message from live objects.
	// +optional
	Status *Status `json:"status,omitempty"`
	// Schematic holds the CUE template.
	// +optional
	Schematic *Schematic `json:"schematic,omitempty"`
	// Extension is free-form data for tools.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	Extension *runtime.RawExtension `json:"extension,omitempty"`
}

// ChildResourceKind is a kind a workload creates, with a selector.
type ChildResourceKind struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// +optional
	Selector map[string]string `json:"selector,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,categories={oam},shortName=comp
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="WORKLOAD-KIND",type=string,JSONPath=".spec.workload.definition.kind"
// +kubebuilder:printcolumn:name="DESCRIPTION",type=string,JSONPath=".metadata.annotations.definition\\.oam\\.dev/description"

// ComponentDefinition is a component type usable in Applications.
type ComponentDefinition struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ComponentDefinitionSpec `json:"spec,omitempty"`
	Status DefinitionStatus        `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ComponentDefinitionList is a list of ComponentDefinition.
type ComponentDefinitionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ComponentDefinition `json:"items"`
}

// Trait stages: when a trait's objects are dispatched relative to the
// workload.
const (
	StagePreDispatch     = "PreDispatch"
	StageDefaultDispatch = "DefaultDispatch"
	StagePostDispatch    = "PostDispatch"
)

// TraitDefinitionSpec describes a trait type.
type TraitDefinitionSpec struct {
	// AppliesToWorkloads lists the workloads the trait fits: "*", a
	// resource ("deployments.apps"), a kind ("Deployment") or a component
	// definition name. Empty means every workload.
	// +optional
	AppliesToWorkloads []string `json:"appliesToWorkloads,omitempty"`
	// ConflictsWith lists traits that cannot be used together with this one.
	// +optional
	ConflictsWith []string `json:"conflictsWith,omitempty"`
	// PodDisruptive says whether changing the trait restarts pods.
	// +optional
	PodDisruptive bool `json:"podDisruptive,omitempty"`
	// WorkloadRefPath is where to write a reference to the workload.
	// +optional
	WorkloadRefPath string `json:"workloadRefPath,omitempty"`
	// RevisionEnabled asks for component revisions.
	// +optional
	RevisionEnabled bool `json:"revisionEnabled,omitempty"`
	// ManageWorkload says the trait manages the workload itself.
	// +optional
	ManageWorkload bool `json:"manageWorkload,omitempty"`
	// ControlPlaneOnly keeps the trait's objects in the control plane.
	// +optional
	ControlPlaneOnly bool `json:"controlPlaneOnly,omitempty"`
	// Stage is PreDispatch, DefaultDispatch (default) or PostDispatch.
	// +optional
	// +kubebuilder:validation:Enum=PreDispatch;DefaultDispatch;PostDispatch
	Stage string `json:"stage,omitempty"`
	// Status computes health and a message from live objects.
	// +optional
	Status *Status `json:"status,omitempty"`
	// Schematic holds the CUE template.
	// +optional
	Schematic *Schematic `json:"schematic,omitempty"`
	// Extension is free-form data for tools.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	Extension *runtime.RawExtension `json:"extension,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,categories={oam},shortName=trait
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="APPLIES-TO",type=string,JSONPath=".spec.appliesToWorkloads"
// +kubebuilder:printcolumn:name="DESCRIPTION",type=string,JSONPath=".metadata.annotations.definition\\.oam\\.dev/description"

// TraitDefinition is a trait type usable on components.
type TraitDefinition struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   TraitDefinitionSpec `json:"spec,omitempty"`
	Status DefinitionStatus    `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// TraitDefinitionList is a list of TraitDefinition.
type TraitDefinitionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TraitDefinition `json:"items"`
}

// PolicyDefinitionSpec describes a policy type.
type PolicyDefinitionSpec struct {
	// ManageHealthCheck says the policy computes health itself.
	// +optional
	ManageHealthCheck bool `json:"manageHealthCheck,omitempty"`
	// Global policies apply to every Application.
	// +optional
	Global bool `json:"global,omitempty"`
	// Priority orders global policies.
	// +optional
	Priority int32 `json:"priority,omitempty"`
	// Schematic holds the CUE template.
	// +optional
	Schematic *Schematic `json:"schematic,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,categories={oam},shortName=def-policy
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="DESCRIPTION",type=string,JSONPath=".metadata.annotations.definition\\.oam\\.dev/description"

// PolicyDefinition is a policy type usable in Applications.
type PolicyDefinition struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   PolicyDefinitionSpec `json:"spec,omitempty"`
	Status DefinitionStatus     `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// PolicyDefinitionList is a list of PolicyDefinition.
type PolicyDefinitionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PolicyDefinition `json:"items"`
}

// WorkflowStepDefinitionSpec describes a workflow step type.
type WorkflowStepDefinitionSpec struct {
	// Schematic holds the CUE template.
	// +optional
	Schematic *Schematic `json:"schematic,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,categories={oam},shortName=workflowstep
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="DESCRIPTION",type=string,JSONPath=".metadata.annotations.definition\\.oam\\.dev/description"

// WorkflowStepDefinition is a workflow step type usable in Applications.
type WorkflowStepDefinition struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   WorkflowStepDefinitionSpec `json:"spec,omitempty"`
	Status DefinitionStatus           `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// WorkflowStepDefinitionList is a list of WorkflowStepDefinition.
type WorkflowStepDefinitionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WorkflowStepDefinition `json:"items"`
}

func init() {
	SchemeBuilder.Register(
		&ComponentDefinition{}, &ComponentDefinitionList{},
		&TraitDefinition{}, &TraitDefinitionList{},
		&PolicyDefinition{}, &PolicyDefinitionList{},
		&WorkflowStepDefinition{}, &WorkflowStepDefinitionList{},
	)
}
