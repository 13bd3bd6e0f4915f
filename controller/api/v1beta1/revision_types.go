package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ApplicationRevisionSpec is a snapshot of an Application and every
// definition it used.
type ApplicationRevisionSpec struct {
	Application Application `json:"application"`
	// +optional
	ComponentDefinitions map[string]ComponentDefinition `json:"componentDefinitions,omitempty"`
	// +optional
	TraitDefinitions map[string]TraitDefinition `json:"traitDefinitions,omitempty"`
	// +optional
	PolicyDefinitions map[string]PolicyDefinition `json:"policyDefinitions,omitempty"`
	// +optional
	WorkflowStepDefinitions map[string]WorkflowStepDefinition `json:"workflowStepDefinitions,omitempty"`
	// Policies are the rendered policies of the revision.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	Policies map[string]runtime.RawExtension `json:"policies,omitempty"`
}

// ApplicationRevisionStatus is the observed state of a revision.
type ApplicationRevisionStatus struct {
	// Succeeded says the revision's workflow finished successfully.
	// +optional
	Succeeded bool `json:"succeeded"`
	// +optional
	Workflow *WorkflowStatus `json:"workflow,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,categories={oam},shortName=apprev
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="AGE",type=date,JSONPath=".metadata.creationTimestamp"

// ApplicationRevision is an immutable snapshot of an Application
// (`<app>-v<N>`).
type ApplicationRevision struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ApplicationRevisionSpec   `json:"spec,omitempty"`
	Status ApplicationRevisionStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ApplicationRevisionList is a list of ApplicationRevision.
type ApplicationRevisionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ApplicationRevision `json:"items"`
}

// Definition types as stored in a DefinitionRevision.
const (
	DefinitionTypeComponent    = "Component"
	DefinitionTypeTrait        = "Trait"
	DefinitionTypePolicy       = "Policy"
	DefinitionTypeWorkflowStep = "WorkflowStep"
)

// DefinitionRevisionSpec is a snapshot of one definition.
type DefinitionRevisionSpec struct {
	Revision     int64  `json:"revision"`
	RevisionHash string `json:"revisionHash"`
	// +kubebuilder:validation:Enum=Component;Trait;Policy;WorkflowStep
	DefinitionType string `json:"definitionType"`
	// +optional
	ComponentDefinition *ComponentDefinition `json:"componentDefinition,omitempty"`
	// +optional
	TraitDefinition *TraitDefinition `json:"traitDefinition,omitempty"`
	// +optional
	PolicyDefinition *PolicyDefinition `json:"policyDefinition,omitempty"`
	// +optional
	WorkflowStepDefinition *WorkflowStepDefinition `json:"workflowStepDefinition,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,categories={oam},shortName=defrev
// +kubebuilder:printcolumn:name="REVISION",type=integer,JSONPath=".spec.revision"
// +kubebuilder:printcolumn:name="HASH",type=string,JSONPath=".spec.revisionHash"
// +kubebuilder:printcolumn:name="TYPE",type=string,JSONPath=".spec.definitionType"

// DefinitionRevision is an immutable snapshot of a definition
// (`<definition>-v<N>`), selected by `type@vN`.
type DefinitionRevision struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec DefinitionRevisionSpec `json:"spec,omitempty"`
}

// +kubebuilder:object:root=true

// DefinitionRevisionList is a list of DefinitionRevision.
type DefinitionRevisionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DefinitionRevision `json:"items"`
}

// ResourceTrackerType says what a tracker records.
type ResourceTrackerType string

// ResourceTracker types.
const (
	ResourceTrackerTypeRoot              ResourceTrackerType = "root"
	ResourceTrackerTypeVersioned         ResourceTrackerType = "versioned"
	ResourceTrackerTypeComponentRevision ResourceTrackerType = "component-revision"
)

// ManagedResource is one object an Application applied.
type ManagedResource struct {
	ClusterObjectReference `json:",inline"`
	// +optional
	Component string `json:"component,omitempty"`
	// +optional
	Trait string `json:"trait,omitempty"`
	// +optional
	Env string `json:"env,omitempty"`
	// Data is the rendered manifest that was applied.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	Data *runtime.RawExtension `json:"raw,omitempty"`
	// Deleted marks a resource already removed.
	// +optional
	Deleted bool `json:"deleted,omitempty"`
	// SkipGC keeps the resource when the app no longer needs it.
	// +optional
	SkipGC bool `json:"skipGC,omitempty"`
}

// ResourceTrackerSpec is what an Application applied.
type ResourceTrackerSpec struct {
	// +kubebuilder:validation:Enum=root;versioned;component-revision
	Type ResourceTrackerType `json:"type,omitempty"`
	// +optional
	ApplicationGeneration int64 `json:"applicationGeneration"`
	// +optional
	ManagedResources []ManagedResource `json:"managedResources,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories={oam},shortName=rt
// +kubebuilder:printcolumn:name="TYPE",type=string,JSONPath=".spec.type"
// +kubebuilder:printcolumn:name="AGE",type=date,JSONPath=".metadata.creationTimestamp"

// ResourceTracker records what an Application applied, for garbage
// collection and drift correction. It is cluster-scoped.
type ResourceTracker struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ResourceTrackerSpec `json:"spec,omitempty"`
}

// +kubebuilder:object:root=true

// ResourceTrackerList is a list of ResourceTracker.
type ResourceTrackerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ResourceTracker `json:"items"`
}

func init() {
	SchemeBuilder.Register(
		&ApplicationRevision{}, &ApplicationRevisionList{},
		&DefinitionRevision{}, &DefinitionRevisionList{},
		&ResourceTracker{}, &ResourceTrackerList{},
	)
}
