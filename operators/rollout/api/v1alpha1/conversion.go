package v1alpha1

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/conversion"

	"github.com/velad-dev/velad/operators/rollout/api/v1beta1"
)

// AnnotationRollingStyle is Kruise's release mode annotation: "partition"
// (Kruise's batch mode) is v1beta1's enableExtraWorkloadForCanary=false;
// absent or "canary" is true, as Kruise converts it.
const AnnotationRollingStyle = "rollouts.kruise.io/rolling-style"

// AnnotationV1beta1 carries, on a Rollout read as v1alpha1, the v1beta1
// fields v1alpha1 cannot express (a traffic that is not "N%", path
// matches, v1beta1-only status fields), so that writing the object back
// as v1alpha1 loses none of them. It never reaches storage.
const AnnotationV1beta1 = "rollouts.velad.dev/v1beta1"

// v1beta1Only is AnnotationV1beta1's value.
type v1beta1Only struct {
	// Traffic by step index, where it is not "N%" with N in 0..100.
	Traffic map[int]string `json:"traffic,omitempty"`
	// Paths by step index, then match index.
	Paths map[int]map[int]*v1beta1.HTTPPathMatch `json:"paths,omitempty"`
	// EnableExtraWorkloadForCanary where the rolling-style annotation
	// does not tell it.
	EnableExtraWorkloadForCanary *bool `json:"enableExtraWorkloadForCanary,omitempty"`
	// StyleAdded: the rolling-style annotation was added by the
	// conversion and goes again on the way back.
	StyleAdded          bool   `json:"styleAdded,omitempty"`
	StableReplicas      int32  `json:"stableReplicas,omitempty"`
	StableReadyReplicas int32  `json:"stableReadyReplicas,omitempty"`
	CurrentTraffic      string `json:"currentTraffic,omitempty"`
	CurrentStepIndex    int32  `json:"currentStepIndex,omitempty"`
	CurrentStepState    string `json:"currentStepState,omitempty"`
}

// weightOf reads a v1beta1 traffic share: "N%" with N in 0..100 is exact
// (ok); anything else is read as well as it can be (ok false).
func weightOf(traffic string) (w *int32, ok bool) {
	s := strings.TrimSpace(traffic)
	n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if err != nil {
		return nil, false
	}
	v := int32(n)
	return &v, s == traffic && strings.HasSuffix(s, "%") && n >= 0 && n <= 100 && strconv.Itoa(n)+"%" == s
}

func sameWeight(a, b *int32) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// ConvertTo turns a v1alpha1 Rollout into the v1beta1 hub.
func (src *Rollout) ConvertTo(h conversion.Hub) error {
	dst, ok := h.(*v1beta1.Rollout)
	if !ok {
		return fmt.Errorf("convert Rollout v1alpha1 to %T: not the v1beta1 hub", h)
	}
	var extra v1beta1Only
	dst.ObjectMeta = *src.ObjectMeta.DeepCopy()
	if raw, found := dst.Annotations[AnnotationV1beta1]; found {
		if err := json.Unmarshal([]byte(raw), &extra); err != nil {
			return fmt.Errorf("read annotation %s of Rollout %s: %w (remove the annotation)", AnnotationV1beta1, src.Name, err)
		}
		delete(dst.Annotations, AnnotationV1beta1)
	}
	style := dst.Annotations[AnnotationRollingStyle]
	if extra.StyleAdded {
		delete(dst.Annotations, AnnotationRollingStyle)
	}
	if len(dst.Annotations) == 0 {
		dst.Annotations = nil
	}

	s := src.Spec
	dst.Spec = v1beta1.RolloutSpec{
		Disabled: s.Disabled,
		Strategy: v1beta1.RolloutStrategy{Paused: s.Strategy.Paused},
	}
	if r := s.ObjectRef.WorkloadRef; r != nil {
		dst.Spec.WorkloadRef = v1beta1.ObjectRef{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name}
	}
	if c := s.Strategy.Canary; c != nil {
		dc := &v1beta1.CanaryStrategy{
			FailureThreshold:             copyIntOrString(c.FailureThreshold),
			DisableGenerateCanaryService: c.DisableGenerateCanaryService,
			EnableExtraWorkloadForCanary: !strings.EqualFold(style, "partition"),
		}
		if extra.EnableExtraWorkloadForCanary != nil {
			dc.EnableExtraWorkloadForCanary = *extra.EnableExtraWorkloadForCanary
		}
		for i, st := range c.Steps {
			ds := v1beta1.CanaryStep{
				Replicas: copyIntOrString(st.Replicas),
				Pause:    v1beta1.RolloutPause{Duration: copyInt32(st.Pause.Duration)},
			}
			if st.Weight != nil {
				t := fmt.Sprintf("%d%%", *st.Weight)
				ds.Traffic = &t
			}
			if t, found := extra.Traffic[i]; found {
				if w, _ := weightOf(t); sameWeight(w, st.Weight) {
					ds.Traffic = &t
				}
			}
			for j, m := range st.Matches {
				dm := v1beta1.HTTPRouteMatch{}
				for _, h := range m.Headers {
					dm.Headers = append(dm.Headers, v1beta1.HTTPHeaderMatch{Type: copyString(h.Type), Name: h.Name, Value: h.Value})
				}
				if p := extra.Paths[i][j]; p != nil {
					dm.Path = p.DeepCopy()
				}
				ds.Matches = append(ds.Matches, dm)
			}
			dc.Steps = append(dc.Steps, ds)
		}
		for _, r := range c.TrafficRoutings {
			dr := v1beta1.TrafficRoutingRef{Service: r.Service, GracePeriodSeconds: r.GracePeriodSeconds}
			if r.Ingress != nil {
				dr.Ingress = &v1beta1.IngressTrafficRouting{ClassType: r.Ingress.ClassType, Name: r.Ingress.Name}
			}
			if r.Gateway != nil {
				dr.Gateway = &v1beta1.GatewayTrafficRouting{HTTPRouteName: copyString(r.Gateway.HTTPRouteName)}
			}
			dc.TrafficRoutings = append(dc.TrafficRoutings, dr)
		}
		dst.Spec.Strategy.Canary = dc
	}

	st := src.Status
	dst.Status = v1beta1.RolloutStatus{
		ObservedGeneration: st.ObservedGeneration,
		Phase:              st.Phase,
		Message:            st.Message,
		CurrentStepIndex:   extra.CurrentStepIndex,
		CurrentStepState:   extra.CurrentStepState,
	}
	for _, c := range st.Conditions {
		dst.Status.Conditions = append(dst.Status.Conditions, v1beta1.RolloutCondition{
			Type: c.Type, Status: c.Status, LastUpdateTime: c.LastUpdateTime,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
		})
	}
	if c := st.CanaryStatus; c != nil {
		dst.Status.CanaryStatus = &v1beta1.CanaryStatus{
			ObservedWorkloadGeneration: c.ObservedWorkloadGeneration,
			RolloutHash:                c.RolloutHash,
			StableRevision:             c.StableRevision,
			CanaryRevision:             c.CanaryRevision,
			PodTemplateHash:            c.PodTemplateHash,
			CanaryReplicas:             c.CanaryReplicas,
			CanaryReadyReplicas:        c.CanaryReadyReplicas,
			StableReplicas:             extra.StableReplicas,
			StableReadyReplicas:        extra.StableReadyReplicas,
			CurrentTraffic:             extra.CurrentTraffic,
			CurrentStepIndex:           c.CurrentStepIndex,
			NextStepIndex:              c.NextStepIndex,
			CurrentStepState:           c.CurrentStepState,
			Message:                    c.Message,
			LastUpdateTime:             c.LastUpdateTime.DeepCopy(),
			FinalisingStep:             c.FinalisingStep,
		}
	}
	return nil
}

// ConvertFrom turns the v1beta1 hub into a v1alpha1 Rollout.
func (dst *Rollout) ConvertFrom(h conversion.Hub) error {
	src, ok := h.(*v1beta1.Rollout)
	if !ok {
		return fmt.Errorf("convert %T to Rollout v1alpha1: not the v1beta1 hub", h)
	}
	var extra v1beta1Only
	dst.ObjectMeta = *src.ObjectMeta.DeepCopy()
	s := src.Spec
	dst.Spec = RolloutSpec{
		ObjectRef: ObjectRef{WorkloadRef: &WorkloadRef{
			APIVersion: s.WorkloadRef.APIVersion, Kind: s.WorkloadRef.Kind, Name: s.WorkloadRef.Name,
		}},
		Disabled: s.Disabled,
		Strategy: RolloutStrategy{Paused: s.Strategy.Paused},
	}
	if c := s.Strategy.Canary; c != nil {
		dc := &CanaryStrategy{
			FailureThreshold:             copyIntOrString(c.FailureThreshold),
			DisableGenerateCanaryService: c.DisableGenerateCanaryService,
		}
		style, styled := dst.Annotations[AnnotationRollingStyle]
		switch {
		case !c.EnableExtraWorkloadForCanary && !styled:
			if dst.Annotations == nil {
				dst.Annotations = map[string]string{}
			}
			dst.Annotations[AnnotationRollingStyle] = "partition"
			extra.StyleAdded = true
		case c.EnableExtraWorkloadForCanary == strings.EqualFold(style, "partition"):
			v := c.EnableExtraWorkloadForCanary
			extra.EnableExtraWorkloadForCanary = &v
		}
		for i, st := range c.Steps {
			ds := CanaryStep{
				Replicas: copyIntOrString(st.Replicas),
				Pause:    RolloutPause{Duration: copyInt32(st.Pause.Duration)},
			}
			if st.Traffic != nil {
				w, exact := weightOf(*st.Traffic)
				ds.Weight = w
				if !exact {
					if extra.Traffic == nil {
						extra.Traffic = map[int]string{}
					}
					extra.Traffic[i] = *st.Traffic
				}
			}
			for j, m := range st.Matches {
				dm := HTTPRouteMatch{}
				for _, h := range m.Headers {
					dm.Headers = append(dm.Headers, HTTPHeaderMatch{Type: copyString(h.Type), Name: h.Name, Value: h.Value})
				}
				if m.Path != nil {
					if extra.Paths == nil {
						extra.Paths = map[int]map[int]*v1beta1.HTTPPathMatch{}
					}
					if extra.Paths[i] == nil {
						extra.Paths[i] = map[int]*v1beta1.HTTPPathMatch{}
					}
					extra.Paths[i][j] = m.Path.DeepCopy()
				}
				ds.Matches = append(ds.Matches, dm)
			}
			dc.Steps = append(dc.Steps, ds)
		}
		for _, r := range c.TrafficRoutings {
			dr := TrafficRoutingRef{Service: r.Service, GracePeriodSeconds: r.GracePeriodSeconds}
			if r.Ingress != nil {
				dr.Ingress = &IngressTrafficRouting{ClassType: r.Ingress.ClassType, Name: r.Ingress.Name}
			}
			if r.Gateway != nil {
				dr.Gateway = &GatewayTrafficRouting{HTTPRouteName: copyString(r.Gateway.HTTPRouteName)}
			}
			dc.TrafficRoutings = append(dc.TrafficRoutings, dr)
		}
		dst.Spec.Strategy.Canary = dc
	}

	st := src.Status
	dst.Status = RolloutStatus{ObservedGeneration: st.ObservedGeneration, Phase: st.Phase, Message: st.Message}
	extra.CurrentStepIndex, extra.CurrentStepState = st.CurrentStepIndex, st.CurrentStepState
	for _, c := range st.Conditions {
		dst.Status.Conditions = append(dst.Status.Conditions, RolloutCondition{
			Type: c.Type, Status: c.Status, LastUpdateTime: c.LastUpdateTime,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
		})
	}
	if c := st.CanaryStatus; c != nil {
		dst.Status.CanaryStatus = &CanaryStatus{
			ObservedWorkloadGeneration: c.ObservedWorkloadGeneration,
			RolloutHash:                c.RolloutHash,
			StableRevision:             c.StableRevision,
			CanaryRevision:             c.CanaryRevision,
			PodTemplateHash:            c.PodTemplateHash,
			CanaryReplicas:             c.CanaryReplicas,
			CanaryReadyReplicas:        c.CanaryReadyReplicas,
			CurrentStepIndex:           c.CurrentStepIndex,
			NextStepIndex:              c.NextStepIndex,
			CurrentStepState:           c.CurrentStepState,
			Message:                    c.Message,
			LastUpdateTime:             c.LastUpdateTime.DeepCopy(),
			FinalisingStep:             c.FinalisingStep,
		}
		extra.StableReplicas, extra.StableReadyReplicas = c.StableReplicas, c.StableReadyReplicas
		extra.CurrentTraffic = c.CurrentTraffic
	}
	raw, err := json.Marshal(extra)
	if err != nil {
		return fmt.Errorf("convert Rollout %s to v1alpha1: %w", src.Name, err)
	}
	if string(raw) != "{}" {
		if dst.Annotations == nil {
			dst.Annotations = map[string]string{}
		}
		dst.Annotations[AnnotationV1beta1] = string(raw)
	}
	return nil
}

func copyInt32(p *int32) *int32 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func copyString(p *string) *string {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func copyIntOrString(p *intstr.IntOrString) *intstr.IntOrString {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
