package rollouts

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func rollout(state, traffic string, paused bool) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rollouts.kruise.io/v1beta1", "kind": "Rollout",
		"metadata": map[string]any{"name": "hello", "namespace": "default"},
		"spec": map[string]any{"strategy": map[string]any{
			"paused": paused,
			"canary": map[string]any{"steps": []any{map[string]any{}, map[string]any{}, map[string]any{}}},
		}},
		"status": map[string]any{"phase": "Progressing", "canaryStatus": map[string]any{
			"currentStepIndex": int64(1), "currentStepState": state, "currentTraffic": traffic,
		}},
	}}
}

func TestPausedAndDescribe(t *testing.T) {
	cases := []struct {
		name     string
		obj      *unstructured.Unstructured
		waits    bool
		describe string
	}{
		{"paused at a step", rollout(StepPaused, "20%", false), true, "rollout hello: step 1/3 StepPaused, canary traffic 20%"},
		{"suspended by hand", rollout("StepUpgrade", "", true), true, "rollout hello: step 1/3 StepUpgrade, canary traffic 0%"},
		{"moving", rollout("StepTrafficRouting", "20%", false), false, "rollout hello: step 1/3 StepTrafficRouting, canary traffic 20%"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := parse(tc.obj)
			if r.WaitsForApproval() != tc.waits {
				t.Errorf("WaitsForApproval = %v, want %v", r.WaitsForApproval(), tc.waits)
			}
			if got := r.Describe(); got != tc.describe {
				t.Errorf("Describe = %q, want %q", got, tc.describe)
			}
			if got := Paused([]*Rollout{r}); (got != nil) != tc.waits {
				t.Errorf("Paused = %v", got)
			}
		})
	}
}
