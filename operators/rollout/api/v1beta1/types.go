// Package v1beta1 is Kruise Rollout's public API rollouts.kruise.io/v1beta1
// (the storage version), the subset velad's rollout controller honours:
// canary releases of a Deployment in steps, with traffic shifted through
// Gateway API HTTPRoutes. Field names, JSON names, phases and step states
// are Kruise's, so `kubectl-kruise rollout approve` and KubeVela's tools
// read and drive these objects unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=rollouts.kruise.io
package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

// GroupVersion is rollouts.kruise.io/v1beta1.
var GroupVersion = schema.GroupVersion{Group: "rollouts.kruise.io", Version: "v1beta1"}

var (
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}
	AddToScheme   = SchemeBuilder.AddToScheme
)

func init() { SchemeBuilder.Register(&Rollout{}, &RolloutList{}) }

// AnnotationBackendRefs marks an HTTPRoute whose rules' backendRefs a
// Rollout (named by the value) weighs during a release. Whoever else
// applies that route — velad's application controller — keeps the live
// backendRefs while the annotation is there, so the canary's share is not
// reset between two reconciles of the Rollout.
const AnnotationBackendRefs = "rollouts.velad.dev/backend-refs"

// Rollout phases (status.phase), as Kruise reports them.
const (
	PhaseInitial     = "Initial"
	PhaseHealthy     = "Healthy"
	PhaseProgressing = "Progressing"
	PhaseTerminating = "Terminating"
	PhaseDisabled    = "Disabled"
)

// Step states (status.canaryStatus.currentStepState).
const (
	StepUpgrade         = "StepUpgrade"
	StepTrafficRouting  = "StepTrafficRouting"
	StepMetricsAnalysis = "StepMetricsAnalysis"
	StepPaused          = "StepPaused"
	StepReady           = "StepReady"
	StepCompleted       = "Completed"
)

// Condition types and the Progressing condition's reasons.
const (
	ConditionProgressing = "Progressing"
	ConditionSucceeded   = "Succeeded"

	ReasonInitializing = "Initializing"
	ReasonInRolling    = "InRolling"
	ReasonFinalising   = "Finalising"
	ReasonCompleted    = "Completed"
	ReasonCancelling   = "Cancelling"
	ReasonPaused       = "Paused"
)

// Rollout runs a canary release of its workload whenever the workload's
// pod template changes.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
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
	// WorkloadRef is the workload (apps/v1 Deployment) in the Rollout's namespace.
	WorkloadRef ObjectRef `json:"workloadRef"`
	// Strategy is how a new template is released.
	Strategy RolloutStrategy `json:"strategy"`
	// Disabled turns the Rollout off: template changes roll as usual.
	// +optional
	Disabled bool `json:"disabled,omitempty"`
}

// ObjectRef names a workload.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
}

// RolloutStrategy holds the canary strategy.
type RolloutStrategy struct {
	// Paused stops the rollout where it is (vela workflow suspend).
	// +optional
	Paused bool `json:"paused,omitempty"`
	// Canary releases in steps.
	// +optional
	Canary *CanaryStrategy `json:"canary,omitempty"`
}

// CanaryStrategy is a list of steps and where traffic is shifted.
type CanaryStrategy struct {
	// Steps, in order; each sets the canary's share of traffic (and pods).
	Steps []CanaryStep `json:"steps,omitempty"`
	// TrafficRoutings are the Services and routes whose traffic is shifted.
	// +optional
	TrafficRoutings []TrafficRoutingRef `json:"trafficRoutings,omitempty"`
	// FailureThreshold is accepted for compatibility; not used.
	// +optional
	FailureThreshold *intstr.IntOrString `json:"failureThreshold,omitempty"`
	// EnableExtraWorkloadForCanary: canary pods run in their own
	// Deployment (always true for velad's controller).
	// +optional
	EnableExtraWorkloadForCanary bool `json:"enableExtraWorkloadForCanary,omitempty"`
	// DisableGenerateCanaryService is accepted for compatibility; a canary
	// Service is always made when traffic is routed.
	// +optional
	DisableGenerateCanaryService bool `json:"disableGenerateCanaryService,omitempty"`
}

// CanaryStep is one step of a canary release.
type CanaryStep struct {
	// Traffic is the canary's share of traffic, e.g. "20%".
	// +optional
	Traffic *string `json:"traffic,omitempty"`
	// Matches are accepted for compatibility; header routing is not done.
	// +optional
	Matches []HTTPRouteMatch `json:"matches,omitempty"`
	// Replicas is the number (or share, "20%") of canary pods; by default
	// the traffic share of the workload's replicas, at least 1.
	// +optional
	Replicas *intstr.IntOrString `json:"replicas,omitempty"`
	// Pause after the step: for Duration seconds, or (no duration) until
	// approved.
	// +optional
	Pause RolloutPause `json:"pause,omitempty"`
}

// HTTPRouteMatch is a request match (kept, not acted on).
type HTTPRouteMatch struct {
	// +optional
	Path *HTTPPathMatch `json:"path,omitempty"`
	// +optional
	Headers []HTTPHeaderMatch `json:"headers,omitempty"`
}

// HTTPPathMatch matches a path.
type HTTPPathMatch struct {
	// +optional
	Type *string `json:"type,omitempty"`
	// +optional
	Value *string `json:"value,omitempty"`
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
	// Service is the stable Service; the canary Service is <service>-canary.
	Service string `json:"service"`
	// GracePeriodSeconds to wait after a traffic change before the next
	// move (default 3).
	// +optional
	GracePeriodSeconds int32 `json:"gracePeriodSeconds,omitempty"`
	// Ingress: the Ingress in front of the Service.
	// +optional
	Ingress *IngressTrafficRouting `json:"ingress,omitempty"`
	// Gateway: the Gateway API HTTPRoute in front of the Service.
	// +optional
	Gateway *GatewayTrafficRouting `json:"gateway,omitempty"`
}

// IngressTrafficRouting names an Ingress.
type IngressTrafficRouting struct {
	// ClassType is Kruise's traffic provider ("nginx" by default); velad
	// shifts the Ingress's traffic with an HTTPRoute whatever it says.
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
	Phase string `json:"phase,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
	// +optional
	Conditions []RolloutCondition `json:"conditions,omitempty"`
	// +optional
	CanaryStatus *CanaryStatus `json:"canaryStatus,omitempty"`
	// CurrentStepIndex and CurrentStepState mirror canaryStatus (v1beta1).
	// +optional
	CurrentStepIndex int32 `json:"currentStepIndex,omitempty"`
	// +optional
	CurrentStepState string `json:"currentStepState,omitempty"`
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
	// StableRevision is the hash of the stable pod template.
	// +optional
	StableRevision string `json:"stableRevision,omitempty"`
	// CanaryRevision is the hash of the pod template being released.
	// +optional
	CanaryRevision string `json:"canaryRevision,omitempty"`
	// +optional
	PodTemplateHash string `json:"podTemplateHash,omitempty"`
	// +optional
	CanaryReplicas int32 `json:"canaryReplicas"`
	// +optional
	CanaryReadyReplicas int32 `json:"canaryReadyReplicas"`
	// +optional
	StableReplicas int32 `json:"stableReplicas,omitempty"`
	// +optional
	StableReadyReplicas int32 `json:"stableReadyReplicas,omitempty"`
	// CurrentTraffic is the canary's share of traffic now, e.g. "20%".
	// +optional
	CurrentTraffic string `json:"currentTraffic,omitempty"`
	// CurrentStepIndex counts from 1.
	// +optional
	CurrentStepIndex int32 `json:"currentStepIndex,omitempty"`
	// +optional
	NextStepIndex int32 `json:"nextStepIndex,omitempty"`
	// +optional
	CurrentStepState string `json:"currentStepState,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
	// +optional
	LastUpdateTime *metav1.Time `json:"lastUpdateTime,omitempty"`
	// FinalisingStep is where a finishing or cancelled release is.
	// +optional
	FinalisingStep string `json:"finalisingStep,omitempty"`
}
