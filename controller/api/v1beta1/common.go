package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Schematic is how a definition is implemented. Only CUE is supported.
type Schematic struct {
	// +optional
	CUE *CUE `json:"cue,omitempty"`
}

// CUE holds a CUE template.
type CUE struct {
	// Template is the CUE source of the definition's template.
	Template string `json:"template"`
}

// Status describes how to compute health and a status message of a
// component or trait from its live objects.
type Status struct {
	// CustomStatus is CUE yielding `message`.
	// +optional
	CustomStatus string `json:"customStatus,omitempty"`
	// HealthPolicy is CUE yielding `isHealth: bool`.
	// +optional
	HealthPolicy string `json:"healthPolicy,omitempty"`
	// Details is CUE yielding string fields shown in the service status.
	// +optional
	Details string `json:"details,omitempty"`
}

// WorkloadTypeDescriptor names the kind of object a component produces.
type WorkloadTypeDescriptor struct {
	// Type is the workload in resource form, e.g. "deployments.apps".
	// +optional
	Type string `json:"type,omitempty"`
	// Definition is the workload's apiVersion and kind.
	// +optional
	Definition WorkloadGVK `json:"definition,omitempty"`
}

// WorkloadGVK is an apiVersion and kind.
type WorkloadGVK struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// ConditionedStatus holds conditions.
type ConditionedStatus struct {
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// DefinitionStatus is the status shared by every X-Definition.
type DefinitionStatus struct {
	ConditionedStatus `json:",inline"`
	// LatestRevision is the newest DefinitionRevision of the definition.
	// +optional
	LatestRevision *Revision `json:"latestRevision,omitempty"`
}

// Revision names one revision of an object.
type Revision struct {
	Name     string `json:"name"`
	Revision int64  `json:"revision"`
	// RevisionHash is the hash of the revision's content.
	// +optional
	RevisionHash string `json:"revisionHash,omitempty"`
}
