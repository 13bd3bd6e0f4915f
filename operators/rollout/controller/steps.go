package controller

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/velad-dev/velad/operators/rollout/api/v1beta1"
)

// plan is a validated canary strategy: each step's traffic share (0–100)
// and canary pod count, for a workload of `replicas` pods.
type plan struct {
	steps []planStep
}

type planStep struct {
	weight   int32 // canary's share of traffic, percent
	replicas int32 // canary pods
	pause    *int32
}

// validate checks the strategy and computes its plan: every step has a
// traffic share of 0–100 % that never goes down, replicas of at most the
// workload's (or 100 %), and one route (gateway or ingress) with a Service.
func validate(r *v1beta1.Rollout, replicas int32) (*plan, error) {
	if r.Spec.WorkloadRef.Kind != "Deployment" || !strings.HasPrefix(r.Spec.WorkloadRef.APIVersion, "apps/") {
		return nil, fmt.Errorf("workloadRef %s %s is not supported: only apps/v1 Deployment is", r.Spec.WorkloadRef.APIVersion, r.Spec.WorkloadRef.Kind)
	}
	if r.Spec.WorkloadRef.Name == "" {
		return nil, fmt.Errorf("workloadRef.name is empty: name the Deployment to release")
	}
	c := r.Spec.Strategy.Canary
	if c == nil || len(c.Steps) == 0 {
		return nil, fmt.Errorf("strategy.canary.steps is empty: give at least one step, e.g. traffic: 20%%")
	}
	if len(c.TrafficRoutings) > 1 {
		return nil, fmt.Errorf("strategy.canary.trafficRoutings has %d entries: velad shifts traffic of one Service", len(c.TrafficRoutings))
	}
	for _, t := range c.TrafficRoutings {
		if t.Service == "" {
			return nil, fmt.Errorf("trafficRoutings[0].service is empty: name the stable Service")
		}
		if (t.Gateway == nil) == (t.Ingress == nil) {
			return nil, fmt.Errorf("trafficRoutings[0] needs exactly one of gateway.httpRouteName or ingress.name")
		}
		if t.Gateway != nil && (t.Gateway.HTTPRouteName == nil || *t.Gateway.HTTPRouteName == "") {
			return nil, fmt.Errorf("trafficRoutings[0].gateway.httpRouteName is empty: name the HTTPRoute in front of %s", t.Service)
		}
		if t.Ingress != nil && t.Ingress.Name == "" {
			return nil, fmt.Errorf("trafficRoutings[0].ingress.name is empty: name the Ingress in front of %s", t.Service)
		}
	}
	p := &plan{}
	var last int32 = -1
	for i, s := range c.Steps {
		var w int32 = -1
		if s.Traffic != nil {
			v, err := percent(*s.Traffic)
			if err != nil {
				return nil, fmt.Errorf("steps[%d].traffic: %w", i, err)
			}
			w = v
		}
		n, err := stepReplicas(s.Replicas, w, replicas)
		if err != nil {
			return nil, fmt.Errorf("steps[%d].replicas: %w", i, err)
		}
		if w < 0 { // no traffic given: traffic follows the pods
			w = 100
			if replicas > 0 && n < replicas {
				w = int32(math.Round(float64(n) * 100 / float64(replicas)))
			}
		}
		if w < last {
			return nil, fmt.Errorf("steps[%d] gives the canary %d%% of traffic, less than steps[%d] (%d%%): steps go up in order", i, w, i-1, last)
		}
		last = w
		if s.Pause.Duration != nil && *s.Pause.Duration < 0 {
			return nil, fmt.Errorf("steps[%d].pause.duration is negative", i)
		}
		p.steps = append(p.steps, planStep{weight: w, replicas: n, pause: s.Pause.Duration})
	}
	return p, nil
}

// percent parses "20%" (or "20") to 20, refusing anything outside 0–100.
func percent(s string) (int32, error) {
	v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	if err != nil {
		return 0, fmt.Errorf("%q is not a percentage like \"20%%\"", s)
	}
	if v < 0 || v > 100 {
		return 0, fmt.Errorf("%q is outside 0%%–100%%", s)
	}
	return int32(v), nil
}

// stepReplicas is a step's canary pod count: given, a share of the
// workload's replicas, or the traffic share of them; at least 1.
func stepReplicas(v *intstr.IntOrString, weight, replicas int32) (int32, error) {
	if replicas < 1 {
		replicas = 1
	}
	var n int32
	switch {
	case v == nil && weight < 0:
		n = replicas
	case v == nil:
		n = int32(math.Ceil(float64(weight) * float64(replicas) / 100))
	case v.Type == intstr.Int:
		if v.IntVal < 0 || v.IntVal > replicas {
			return 0, fmt.Errorf("%d is outside 0–%d (the workload's replicas)", v.IntVal, replicas)
		}
		n = v.IntVal
	default:
		p, err := percent(v.StrVal)
		if err != nil {
			return 0, err
		}
		n = int32(math.Ceil(float64(p) * float64(replicas) / 100))
	}
	if n < 1 {
		n = 1
	}
	return n, nil
}
