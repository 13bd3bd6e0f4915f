package v1alpha1

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/velad-dev/velad/operators/rollout/api/v1beta1"
)

func ptr[T any](v T) *T { return &v }

var when = metav1.NewTime(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))

// kubevela is what KubeVela's kruise-rollout trait writes (v1alpha1).
func kubevela() *Rollout {
	return &Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "default", Labels: map[string]string{"app": "hello"}},
		Spec: RolloutSpec{
			ObjectRef: ObjectRef{WorkloadRef: &WorkloadRef{APIVersion: "apps/v1", Kind: "Deployment", Name: "hello"}},
			Strategy: RolloutStrategy{Canary: &CanaryStrategy{
				Steps: []CanaryStep{
					{Weight: ptr[int32](20), Replicas: ptr(intstr.FromInt32(1))},
					{Weight: ptr[int32](90), Pause: RolloutPause{Duration: ptr[int32](30)},
						Matches: []HTTPRouteMatch{{Headers: []HTTPHeaderMatch{{Type: ptr("Exact"), Name: "x-canary", Value: "on"}}}}},
					{Weight: ptr[int32](100), Replicas: ptr(intstr.FromString("100%"))},
				},
				TrafficRoutings: []TrafficRoutingRef{
					{Service: "hello", GracePeriodSeconds: 5, Gateway: &GatewayTrafficRouting{HTTPRouteName: ptr("hello")}},
					{Service: "hello", Ingress: &IngressTrafficRouting{ClassType: "nginx", Name: "hello"}},
				},
				FailureThreshold:             ptr(intstr.FromString("10%")),
				DisableGenerateCanaryService: true,
			}},
		},
		Status: RolloutStatus{
			ObservedGeneration: 3,
			Phase:              v1beta1.PhaseProgressing,
			Message:            "step 1",
			Conditions: []RolloutCondition{{Type: "Progressing", Status: metav1.ConditionTrue,
				LastUpdateTime: when, LastTransitionTime: when, Reason: "InRolling", Message: "rolling"}},
			CanaryStatus: &CanaryStatus{
				ObservedWorkloadGeneration: 2, RolloutHash: "h", StableRevision: "s", CanaryRevision: "c",
				PodTemplateHash: "p", CanaryReplicas: 1, CanaryReadyReplicas: 1, CurrentStepIndex: 1,
				NextStepIndex: 2, CurrentStepState: v1beta1.StepPaused, Message: "paused",
				LastUpdateTime: &when, FinalisingStep: "",
			},
		},
	}
}

// full is a v1beta1 Rollout using what v1alpha1 cannot say.
func full() *v1beta1.Rollout {
	return &v1beta1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "default"},
		Spec: v1beta1.RolloutSpec{
			WorkloadRef: v1beta1.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Name: "hello"},
			Disabled:    true,
			Strategy: v1beta1.RolloutStrategy{Paused: true, Canary: &v1beta1.CanaryStrategy{
				Steps: []v1beta1.CanaryStep{
					{Traffic: ptr("20%")},
					{Traffic: ptr("50"), Matches: []v1beta1.HTTPRouteMatch{
						{Path: &v1beta1.HTTPPathMatch{Type: ptr("PathPrefix"), Value: ptr("/beta")}},
						{Headers: []v1beta1.HTTPHeaderMatch{{Name: "x", Value: "y"}}},
					}},
					{Traffic: ptr("100%"), Pause: v1beta1.RolloutPause{Duration: ptr[int32](0)}},
				},
				TrafficRoutings:              []v1beta1.TrafficRoutingRef{{Service: "hello", GracePeriodSeconds: 3, Gateway: &v1beta1.GatewayTrafficRouting{HTTPRouteName: ptr("r")}}},
				EnableExtraWorkloadForCanary: false,
			}},
		},
		Status: v1beta1.RolloutStatus{
			Phase: v1beta1.PhaseProgressing, CurrentStepIndex: 2, CurrentStepState: v1beta1.StepTrafficRouting,
			CanaryStatus: &v1beta1.CanaryStatus{
				CurrentStepIndex: 2, CurrentStepState: v1beta1.StepTrafficRouting, StableReplicas: 3,
				StableReadyReplicas: 2, CurrentTraffic: "50%", CanaryReplicas: 1,
			},
		},
	}
}

func TestConvertToV1beta1(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    func() *Rollout
		check func(t *testing.T, b *v1beta1.Rollout)
	}{
		{"kubevela trait", kubevela, func(t *testing.T, b *v1beta1.Rollout) {
			want := v1beta1.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Name: "hello"}
			if b.Spec.WorkloadRef != want {
				t.Errorf("workloadRef = %+v, want %+v", b.Spec.WorkloadRef, want)
			}
			c := b.Spec.Strategy.Canary
			var traffic []string
			for _, s := range c.Steps {
				traffic = append(traffic, *s.Traffic)
			}
			if d := cmp.Diff([]string{"20%", "90%", "100%"}, traffic); d != "" {
				t.Errorf("traffic (-want +got):\n%s", d)
			}
			if !c.EnableExtraWorkloadForCanary {
				t.Error("enableExtraWorkloadForCanary false without the partition annotation")
			}
			if c.Steps[0].Replicas.IntVal != 1 || c.Steps[1].Replicas != nil {
				t.Errorf("replicas = %v, %v; want 1, unset", c.Steps[0].Replicas, c.Steps[1].Replicas)
			}
			if h := c.Steps[1].Matches[0].Headers[0]; h.Name != "x-canary" || *h.Type != "Exact" {
				t.Errorf("header match = %+v", h)
			}
			if r := c.TrafficRoutings; len(r) != 2 || *r[0].Gateway.HTTPRouteName != "hello" || r[1].Ingress.ClassType != "nginx" || r[0].GracePeriodSeconds != 5 {
				t.Errorf("trafficRoutings = %+v", r)
			}
			if s := b.Status.CanaryStatus; s.CurrentStepIndex != 1 || s.CurrentStepState != v1beta1.StepPaused || s.NextStepIndex != 2 {
				t.Errorf("canaryStatus = %+v", s)
			}
			if len(b.Annotations) != 0 {
				t.Errorf("annotations = %v, want none", b.Annotations)
			}
		}},
		{"batch release mode", func() *Rollout {
			r := kubevela()
			r.Annotations = map[string]string{AnnotationRollingStyle: "partition"}
			return r
		}, func(t *testing.T, b *v1beta1.Rollout) {
			if b.Spec.Strategy.Canary.EnableExtraWorkloadForCanary {
				t.Error("enableExtraWorkloadForCanary true with rolling-style partition")
			}
			if b.Annotations[AnnotationRollingStyle] != "partition" {
				t.Errorf("the user's annotation was dropped: %v", b.Annotations)
			}
		}},
		{"no workloadRef, no canary", func() *Rollout { return &Rollout{ObjectMeta: metav1.ObjectMeta{Name: "x"}} }, func(t *testing.T, b *v1beta1.Rollout) {
			if b.Spec.WorkloadRef.Name != "" || b.Spec.Strategy.Canary != nil {
				t.Errorf("spec = %+v", b.Spec)
			}
		}},
		{"a stale traffic in the annotation yields to a changed weight", func() *Rollout {
			a := &Rollout{}
			if err := a.ConvertFrom(full()); err != nil {
				t.Fatal(err)
			}
			a.Spec.Strategy.Canary.Steps[1].Weight = ptr[int32](60)
			return a
		}, func(t *testing.T, b *v1beta1.Rollout) {
			if got := *b.Spec.Strategy.Canary.Steps[1].Traffic; got != "60%" {
				t.Errorf("traffic = %q, want 60%%", got)
			}
			if _, found := b.Annotations[AnnotationV1beta1]; found {
				t.Error("the v1beta1 annotation reached v1beta1")
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in()
			before := in.DeepCopy()
			b := &v1beta1.Rollout{}
			if err := in.ConvertTo(b); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(before, in); d != "" {
				t.Errorf("ConvertTo changed its source:\n%s", d)
			}
			tc.check(t, b)
		})
	}
}

func TestConvertFromV1beta1(t *testing.T) {
	a := &Rollout{}
	if err := a.ConvertFrom(full()); err != nil {
		t.Fatal(err)
	}
	var w []any
	for _, s := range a.Spec.Strategy.Canary.Steps {
		w = append(w, *s.Weight)
	}
	if d := cmp.Diff([]any{int32(20), int32(50), int32(100)}, w); d != "" {
		t.Errorf("weights (-want +got):\n%s", d)
	}
	if got := *a.Spec.ObjectRef.WorkloadRef; got != (WorkloadRef{APIVersion: "apps/v1", Kind: "Deployment", Name: "hello"}) {
		t.Errorf("objectRef.workloadRef = %+v", got)
	}
	if a.Annotations[AnnotationRollingStyle] != "partition" {
		t.Errorf("rolling-style = %q, want partition", a.Annotations[AnnotationRollingStyle])
	}
	var extra map[string]any
	if err := json.Unmarshal([]byte(a.Annotations[AnnotationV1beta1]), &extra); err != nil {
		t.Fatalf("annotation %s: %v", AnnotationV1beta1, err)
	}
	for _, k := range []string{"traffic", "paths", "stableReplicas", "currentTraffic", "currentStepIndex"} {
		if _, ok := extra[k]; !ok {
			t.Errorf("annotation %s lacks %s: %v", AnnotationV1beta1, k, extra)
		}
	}
}

// TestRoundTrip: every field survives v1alpha1 → v1beta1 → v1alpha1 and
// v1beta1 → v1alpha1 → v1beta1.
func TestRoundTrip(t *testing.T) {
	alphas := map[string]func() *Rollout{
		"kubevela trait": kubevela,
		"partition": func() *Rollout {
			r := kubevela()
			r.Annotations = map[string]string{AnnotationRollingStyle: "partition", "other": "x"}
			return r
		},
		"empty": func() *Rollout { return &Rollout{Spec: RolloutSpec{ObjectRef: ObjectRef{WorkloadRef: &WorkloadRef{}}}} },
	}
	for name, in := range alphas {
		t.Run("v1alpha1/"+name, func(t *testing.T) {
			a := in()
			b := &v1beta1.Rollout{}
			if err := a.ConvertTo(b); err != nil {
				t.Fatal(err)
			}
			back := &Rollout{}
			if err := back.ConvertFrom(b); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(a, back); d != "" {
				t.Errorf("round trip (-in +out):\n%s", d)
			}
		})
	}
	betas := map[string]func() *v1beta1.Rollout{
		"full": full,
		"canary style, annotated partition": func() *v1beta1.Rollout {
			r := full()
			r.Annotations = map[string]string{AnnotationRollingStyle: "partition"}
			r.Spec.Strategy.Canary.EnableExtraWorkloadForCanary = true
			return r
		},
		"traffic out of range": func() *v1beta1.Rollout {
			r := full()
			r.Spec.Strategy.Canary.Steps[0].Traffic = ptr("150%")
			r.Spec.Strategy.Canary.Steps[2].Traffic = ptr("half")
			return r
		},
		"no canary": func() *v1beta1.Rollout {
			r := full()
			r.Spec.Strategy.Canary = nil
			r.Status = v1beta1.RolloutStatus{}
			return r
		},
	}
	for name, in := range betas {
		t.Run("v1beta1/"+name, func(t *testing.T) {
			b := in()
			a := &Rollout{}
			if err := a.ConvertFrom(b); err != nil {
				t.Fatal(err)
			}
			// Through JSON, as the API server does between the two calls.
			raw, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			a = &Rollout{}
			if err := json.Unmarshal(raw, a); err != nil {
				t.Fatal(err)
			}
			back := &v1beta1.Rollout{}
			if err := a.ConvertTo(back); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(b, back); d != "" {
				t.Errorf("round trip (-in +out):\n%s", d)
			}
		})
	}
}

func TestConvertBadAnnotation(t *testing.T) {
	a := kubevela()
	a.Annotations = map[string]string{AnnotationV1beta1: "{not json"}
	err := a.ConvertTo(&v1beta1.Rollout{})
	if err == nil {
		t.Fatal("a broken annotation converted")
	}
	t.Log(err)
}
