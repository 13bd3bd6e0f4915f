// Package v1alpha1 is Kruise Rollout's older public API
// rollouts.kruise.io/v1alpha1, served (not stored) so that KubeVela's
// kruise-rollout trait, which writes v1alpha1, works unchanged. Objects
// are stored as v1beta1; the rollout controller's conversion webhook
// translates (conversion.go). The subset is the one v1beta1 honours; the
// schema refuses a weight above 100 and steps whose weights go down.
//
// +kubebuilder:object:generate=true
// +groupName=rollouts.kruise.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

// GroupVersion is rollouts.kruise.io/v1alpha1.
var GroupVersion = schema.GroupVersion{Group: "rollouts.kruise.io", Version: "v1alpha1"}

var (
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}
	AddToScheme   = SchemeBuilder.AddToScheme
)

func init() { SchemeBuilder.Register(&Rollout{}, &RolloutList{}) }

// Rollout runs a canary release of its workload whenever the workload's
// pod template changes (v1alpha1 shape).
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="STATUS",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="CANARY_STEP",type=integer,JSONPath=`.status.canaryStatus.currentStepIndex`
// +kubebuilder:printcolumn:name="CANARY_STATE",type=string,JSONPath=`.status.canaryStatus.currentStepState`
// +kubebuilder:printcolumn:name="MESSAGE",type=string,JSONPath=`.status.message`,priority=1
// +kubebuilder:printcolumn:name="AGE",type=date,JSONPath=`.metadata.creationTimestamp`
type Rollout struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RolloutSpec   `json:"spec,omitempty"`
	Status RolloutStatus `json:"status,omitempty"`
}

// RolloutList is a list of Rollouts.
//
// +kubebuilder:object:root=true
type RolloutList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Rollout `json:"items"`
}

// RolloutSpec names the workload and how to release it.
type RolloutSpec struct {
	// ObjectRef names the workload.
	ObjectRef ObjectRef `json:"objectRef"`
	// Strategy is how a new template is released.
	Strategy RolloutStrategy `json:"strategy"`
	// Disabled turns the Rollout off.
	// +optional
	Disabled bool `json:"disabled,omitempty"`
}

// ObjectRef holds the workload reference.
type ObjectRef struct {
	// +optional
	WorkloadRef *WorkloadRef `json:"workloadRef,omitempty"`
}

// WorkloadRef names a workload (apps/v1 Deployment).
type WorkloadRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
}

// RolloutStrategy holds the canary strategy.
type RolloutStrategy struct {
	// +optional
	Paused bool `json:"paused,omitempty"`
	// +optional
	Canary *CanaryStrategy `json:"canary,omitempty"`
}

// CanaryStrategy is a list of steps and where traffic is shifted.
type CanaryStrategy struct {
	// Steps, in order; weights never go down.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:XValidation:rule="self.filter(s, has(s.weight)).map(s, s.weight).isSorted()",message="steps are out of order: a step's weight must not be below an earlier step's (e.g. 20, 50, 100)"
	// +optional
	Steps []CanaryStep `json:"steps,omitempty"`
	// +optional
	TrafficRoutings []TrafficRoutingRef `json:"trafficRoutings,omitempty"`
	// +optional
	FailureThreshold *intstr.IntOrString `json:"failureThreshold,omitempty"`
	// +optional
	DisableGenerateCanaryService bool `json:"disableGenerateCanaryService,omitempty"`
}

// CanaryStep is one step of a canary release.
type CanaryStep struct {
	// Weight is the canary's share of traffic in percent.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	Weight *int32 `json:"weight,omitempty"`
	// Matches are kept, not acted on.
	// +optional
	Matches []HTTPRouteMatch `json:"matches,omitempty"`
	// +optional
	Replicas *intstr.IntOrString `json:"replicas,omitempty"`
	// +optional
	Pause RolloutPause `json:"pause,omitempty"`
}

// HTTPRouteMatch is a header match (kept, not acted on).
type HTTPRouteMatch struct {
	// +optional
	Headers []HTTPHeaderMatch `json:"headers,omitempty"`
}

// HTTPHeaderMatch matches a header.
type HTTPHeaderMatch struct {
	// +optional
	Type  *string `json:"type,omitempty"`
	Name  string  `json:"name"`
	Value string  `json:"value"`
}

// RolloutPause is a step's pause.
type RolloutPause struct {
	// Duration in seconds; absent: wait for approval.
	// +optional
	Duration *int32 `json:"duration,omitempty"`
}

// TrafficRoutingRef is the stable Service and the route in front of it.
type TrafficRoutingRef struct {
	Service string `json:"service"`
	// +optional
	GracePeriodSeconds int32 `json:"gracePeriodSeconds,omitempty"`
	// +optional
	Ingress *IngressTrafficRouting `json:"ingress,omitempty"`
	// +optional
	Gateway *GatewayTrafficRouting `json:"gateway,omitempty"`
}

// IngressTrafficRouting names an Ingress.
type IngressTrafficRouting struct {
	// +optional
	ClassType string `json:"classType,omitempty"`
	Name      string `json:"name"`
}

// GatewayTrafficRouting names an HTTPRoute.
type GatewayTrafficRouting struct {
	// +optional
	HTTPRouteName *string `json:"httpRouteName,omitempty"`
}

// RolloutStatus is what the controller observed and did.
type RolloutStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	CanaryStatus *CanaryStatus `json:"canaryStatus,omitempty"`
	// +optional
	Conditions []RolloutCondition `json:"conditions,omitempty"`
	// +optional
	Phase string `json:"phase,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
}

// RolloutCondition is a condition of a Rollout.
type RolloutCondition struct {
	Type   string                 `json:"type"`
	Status metav1.ConditionStatus `json:"status"`
	// +optional
	LastUpdateTime metav1.Time `json:"lastUpdateTime,omitempty"`
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
	// +optional
	Reason string `json:"reason,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
}

// CanaryStatus is the state of a canary release.
type CanaryStatus struct {
	// +optional
	ObservedWorkloadGeneration int64 `json:"observedWorkloadGeneration,omitempty"`
	// +optional
	RolloutHash string `json:"rolloutHash,omitempty"`
	// +optional
	StableRevision string `json:"stableRevision,omitempty"`
	// +optional
	CanaryRevision string `json:"canaryRevision,omitempty"`
	// +optional
	PodTemplateHash string `json:"podTemplateHash,omitempty"`
	// +optional
	CanaryReplicas int32 `json:"canaryReplicas"`
	// +optional
	CanaryReadyReplicas int32 `json:"canaryReadyReplicas"`
	// +optional
	NextStepIndex int32 `json:"nextStepIndex,omitempty"`
	// +optional
	CurrentStepIndex int32 `json:"currentStepIndex,omitempty"`
	// +optional
	CurrentStepState string `json:"currentStepState,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
	// +optional
	LastUpdateTime *metav1.Time `json:"lastUpdateTime,omitempty"`
	// +optional
	FinalisingStep string `json:"finalisingStep,omitempty"`
}
