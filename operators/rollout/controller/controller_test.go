package controller_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/internal/testenv"
	"github.com/velad-dev/velad/operators/rollout/api/v1beta1"
	"github.com/velad-dev/velad/operators/rollout/controller"
	"github.com/velad-dev/velad/operators/rollout/manager"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const wait = 60 * time.Second

// brokenImage marks pods that never become ready (the test's kubelet
// leaves them be).
const brokenImage = "docker.io/velad/hello:broken"

func repoDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// setup starts a control plane (no kubelet), the Rollout and HTTPRoute
// CRDs, the controller, and a stand-in kubelet that marks every pod
// Ready unless it runs brokenImage.
//
// configure, if given, changes the manager's options and the CRDs before
// they are installed.
func setup(t *testing.T, configure ...func(*manager.Options, *apiextensionsv1.CustomResourceDefinition)) client.Client {
	srv := testenv.New(t)
	cfg, err := srv.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	scheme, _ := manager.Scheme()
	_ = apiextensionsv1.AddToScheme(scheme)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := context.WithCancel(context.Background())
	opts := manager.Options{MetricsAddr: "0", ProbeAddr: "0", SkipNameValidation: true}
	for _, f := range []string{
		filepath.Join(repoDir(), "charts", "rollout", "crds", "rollouts.kruise.io_rollouts.yaml"),
		filepath.Join(repoDir(), "charts", "ingress", "crds", "gateway.networking.k8s.io_httproutes.yaml"),
	} {
		installCRD(t, c, f, func(crd *apiextensionsv1.CustomResourceDefinition) {
			for _, f := range configure {
				f(&opts, crd)
			}
		})
	}
	mgr, err := manager.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	go kubelet(ctx, c)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	return c
}

func installCRD(t *testing.T, c client.Client, file string, edit func(*apiextensionsv1.CustomResourceDefinition)) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run scripts/generate.sh, scripts/build-traefik.sh)", err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	edit(&crd)
	if err := c.Create(context.Background(), &crd); err != nil {
		t.Fatal(err)
	}
	eventually(t, "CRD "+crd.Name+" established", func() (bool, string) {
		got := &apiextensionsv1.CustomResourceDefinition{}
		if err := c.Get(context.Background(), client.ObjectKey{Name: crd.Name}, got); err != nil {
			return false, err.Error()
		}
		for _, cond := range got.Status.Conditions {
			if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
				return true, ""
			}
		}
		return false, "not established"
	})
}

// kubelet plays the node: pods become Ready (the control plane has no
// kubelet), except those running brokenImage.
func kubelet(ctx context.Context, c client.Client) {
	for ctx.Err() == nil {
		var pods corev1.PodList
		if err := c.List(ctx, &pods); err == nil {
			for i := range pods.Items {
				p := &pods.Items[i]
				if p.Spec.Containers[0].Image == brokenImage || p.Status.Phase == corev1.PodRunning || !p.DeletionTimestamp.IsZero() {
					continue
				}
				now := metav1.Now()
				p.Status.Phase = corev1.PodRunning
				p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now}}
				_ = c.Status().Update(ctx, p)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func eventually(t *testing.T, what string, f func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(wait)
	last := ""
	for time.Now().Before(deadline) {
		ok, msg := f()
		if ok {
			return
		}
		last = msg
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s: %s", what, last)
}

// app is one namespace's Deployment "web" (2 pods), Service "web",
// HTTPRoute "web" and Rollout "web".
type app struct {
	t  *testing.T
	c  client.Client
	ns string
}

func newApp(t *testing.T, c client.Client, ns string, steps []v1beta1.CanaryStep, progressDeadline int32) *app {
	ctx := context.Background()
	a := &app{t: t, c: c, ns: ns}
	must(t, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	labels := map[string]string{"app.oam.dev/component": "web"}
	must(t, c.Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: labels},
			ProgressDeadlineSeconds: ptr.To(progressDeadline),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "docker.io/velad/hello:v1"}}},
			},
		},
	}))
	must(t, c.Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec:       corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Name: "http", Port: 8000, TargetPort: intstr.FromInt(8000)}}},
	}))
	route := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": "web", "namespace": ns},
		"spec": map[string]any{
			"parentRefs": []any{map[string]any{"name": "traefik-gateway", "namespace": "vela-system"}},
			"rules":      []any{map[string]any{"backendRefs": []any{map[string]any{"name": "web", "port": int64(8000)}}}},
		},
	}}
	must(t, c.Create(ctx, route))
	// The first version rolls out as usual before the Rollout exists.
	eventually(t, "web v1 available", func() (bool, string) {
		d := a.deployment("web")
		return d.Status.AvailableReplicas == 2, fmt.Sprintf("%+v", d.Status)
	})
	must(t, c.Create(ctx, &v1beta1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: v1beta1.RolloutSpec{
			WorkloadRef: v1beta1.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			Strategy: v1beta1.RolloutStrategy{Canary: &v1beta1.CanaryStrategy{
				Steps: steps,
				TrafficRoutings: []v1beta1.TrafficRoutingRef{{
					Service: "web", GracePeriodSeconds: 1,
					Gateway: &v1beta1.GatewayTrafficRouting{HTTPRouteName: ptr.To("web")},
				}},
			}},
		},
	}))
	a.waitPhase(v1beta1.PhaseHealthy, "")
	return a
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (a *app) deployment(name string) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	if err := a.c.Get(context.Background(), types.NamespacedName{Namespace: a.ns, Name: name}, d); err != nil && !apierrors.IsNotFound(err) {
		a.t.Fatal(err)
	}
	return d
}

func (a *app) rollout() *v1beta1.Rollout {
	ro := &v1beta1.Rollout{}
	must(a.t, a.c.Get(context.Background(), types.NamespacedName{Namespace: a.ns, Name: "web"}, ro))
	return ro
}

// setImage changes the workload's template, as an application update does.
func (a *app) setImage(image string) {
	a.t.Helper()
	must(a.t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d := a.deployment("web")
		d.Spec.Template.Spec.Containers[0].Image = image
		return a.c.Update(context.Background(), d)
	}))
}

func (a *app) waitPhase(phase, msg string) *v1beta1.Rollout {
	a.t.Helper()
	var ro *v1beta1.Rollout
	eventually(a.t, "Rollout phase "+phase+" "+msg, func() (bool, string) {
		ro = a.rollout()
		return ro.Status.Phase == phase && strings.Contains(ro.Status.Message, msg) && ro.Status.ObservedGeneration == ro.Generation,
			fmt.Sprintf("%s: %s", ro.Status.Phase, ro.Status.Message)
	})
	return ro
}

// waitStep waits for step index (from 1) in state.
func (a *app) waitStep(index int32, state string) *v1beta1.Rollout {
	a.t.Helper()
	var ro *v1beta1.Rollout
	eventually(a.t, fmt.Sprintf("step %d %s", index, state), func() (bool, string) {
		ro = a.rollout()
		cs := ro.Status.CanaryStatus
		if cs == nil {
			return false, "no canaryStatus: " + ro.Status.Message
		}
		return cs.CurrentStepIndex == index && cs.CurrentStepState == state, fmt.Sprintf("step %d %s: %s", cs.CurrentStepIndex, cs.CurrentStepState, ro.Status.Message)
	})
	return ro
}

// approve is `kubectl-kruise rollout approve`: StepPaused → StepReady
// on the status subresource.
func (a *app) approve() {
	a.t.Helper()
	ro := a.rollout()
	if ro.Status.CanaryStatus == nil || ro.Status.CanaryStatus.CurrentStepState != v1beta1.StepPaused {
		a.t.Fatalf("approve: rollout is not paused: %+v", ro.Status)
	}
	patch := []byte(`{"status":{"canaryStatus":{"currentStepState":"StepReady"}}}`)
	must(a.t, a.c.Status().Patch(context.Background(), ro, client.RawPatch(types.MergePatchType, patch)))
}

// weights is the HTTPRoute's backendRefs: service → weight (the API
// server defaults an absent weight to 1).
func (a *app) weights() map[string]int64 {
	route := &unstructured.Unstructured{}
	route.SetGroupVersionKind(controller.HTTPRouteGVK)
	must(a.t, a.c.Get(context.Background(), types.NamespacedName{Namespace: a.ns, Name: "web"}, route))
	rules, _, _ := unstructured.NestedSlice(route.Object, "spec", "rules")
	out := map[string]int64{}
	for _, ref := range rules[0].(map[string]any)["backendRefs"].([]any) {
		m := ref.(map[string]any)
		w, ok := m["weight"].(int64)
		if !ok {
			w = -1
		}
		out[m["name"].(string)] = w
	}
	return out
}

func (a *app) wantWeights(want map[string]int64) {
	a.t.Helper()
	eventually(a.t, fmt.Sprintf("route weights %v", want), func() (bool, string) {
		got := a.weights()
		return fmt.Sprint(got) == fmt.Sprint(want), fmt.Sprint(got)
	})
}

// replicaSets counts the Deployment's ReplicaSets with pods.
func (a *app) stableImages() []string {
	var rsl appsv1.ReplicaSetList
	must(a.t, a.c.List(context.Background(), &rsl, client.InNamespace(a.ns)))
	var imgs []string
	for _, rs := range rsl.Items {
		if ref := metav1.GetControllerOf(&rs); ref != nil && ref.Name == "web" && rs.Spec.Replicas != nil && *rs.Spec.Replicas > 0 {
			imgs = append(imgs, rs.Spec.Template.Spec.Containers[0].Image)
		}
	}
	return imgs
}

func (a *app) wantCanaryGone() {
	a.t.Helper()
	eventually(a.t, "canary objects gone", func() (bool, string) {
		d := a.deployment("web-canary")
		svc := &corev1.Service{}
		err := a.c.Get(context.Background(), types.NamespacedName{Namespace: a.ns, Name: "web-canary"}, svc)
		return d.Name == "" && apierrors.IsNotFound(err), fmt.Sprintf("deployment %q, service: %v", d.Name, err)
	})
	svc := &corev1.Service{}
	must(a.t, a.c.Get(context.Background(), types.NamespacedName{Namespace: a.ns, Name: "web"}, svc))
	if _, ok := svc.Spec.Selector["pod-template-hash"]; ok {
		a.t.Errorf("stable Service still pinned: %v", svc.Spec.Selector)
	}
}

func step(traffic string, pause *int32) v1beta1.CanaryStep {
	return v1beta1.CanaryStep{Traffic: ptr.To(traffic), Pause: v1beta1.RolloutPause{Duration: pause}}
}

const (
	v1 = "docker.io/velad/hello:v1"
	v2 = "docker.io/velad/hello:v2"
)

// The step machine, one namespace per case on one control plane.
func TestStepMachine(t *testing.T) {
	c := setup(t)
	cases := []struct {
		name  string
		steps []v1beta1.CanaryStep
		// deadline is the workload's progressDeadlineSeconds.
		deadline int32
		run      func(t *testing.T, a *app)
	}{
		{
			name:  "template change, approve each step, promote",
			steps: []v1beta1.CanaryStep{step("20%", nil), step("90%", nil), step("100%", nil)},
			run: func(t *testing.T, a *app) {
				a.setImage(v2)
				ro := a.waitStep(1, v1beta1.StepPaused)
				if !strings.Contains(ro.Status.Message, "you need manually confirm") || ro.Status.Phase != v1beta1.PhaseProgressing {
					t.Errorf("paused status: %s %q", ro.Status.Phase, ro.Status.Message)
				}
				a.wantWeights(map[string]int64{"web": 80, "web-canary": 20})
				if got := a.stableImages(); fmt.Sprint(got) != "["+v1+"]" {
					t.Errorf("stable pods changed under the rollout: %v", got)
				}
				if cd := a.deployment("web-canary"); cd.Spec.Template.Spec.Containers[0].Image != v2 || *cd.Spec.Replicas != 1 {
					t.Errorf("canary Deployment: %s × %d", cd.Spec.Template.Spec.Containers[0].Image, *cd.Spec.Replicas)
				}
				if !a.deployment("web").Spec.Paused {
					t.Error("the workload is not paused during the release")
				}
				a.approve()
				a.waitStep(2, v1beta1.StepPaused)
				a.wantWeights(map[string]int64{"web": 10, "web-canary": 90})
				if cd := a.deployment("web-canary"); *cd.Spec.Replicas != 2 {
					t.Errorf("canary replicas at 90%%: %d", *cd.Spec.Replicas)
				}
				a.approve()
				a.waitStep(3, v1beta1.StepPaused)
				a.wantWeights(map[string]int64{"web": 0, "web-canary": 100})
				a.approve()
				ro = a.waitPhase(v1beta1.PhaseHealthy, "completed")
				a.wantWeights(map[string]int64{"web": 1})
				a.wantCanaryGone()
				if got := a.stableImages(); fmt.Sprint(got) != "["+v2+"]" {
					t.Errorf("stable pods after promotion: %v", got)
				}
				if cs := ro.Status.CanaryStatus; cs.CurrentStepState != v1beta1.StepCompleted || cs.StableRevision != cs.CanaryRevision {
					t.Errorf("canaryStatus after promotion: %+v", cs)
				}
			},
		},
		{
			name:  "pause duration moves on without approval",
			steps: []v1beta1.CanaryStep{step("50%", ptr.To[int32](1)), step("100%", ptr.To[int32](1))},
			run: func(t *testing.T, a *app) {
				a.setImage(v2)
				a.waitPhase(v1beta1.PhaseHealthy, "completed")
				a.wantCanaryGone()
				if got := a.stableImages(); fmt.Sprint(got) != "["+v2+"]" {
					t.Errorf("stable pods after promotion: %v", got)
				}
			},
		},
		{
			name:  "rollback mid-step: template set back",
			steps: []v1beta1.CanaryStep{step("20%", nil), step("100%", nil)},
			run: func(t *testing.T, a *app) {
				a.setImage(v2)
				a.waitStep(1, v1beta1.StepPaused)
				a.wantWeights(map[string]int64{"web": 80, "web-canary": 20})
				a.setImage(v1)
				a.waitPhase(v1beta1.PhaseHealthy, "rolled back")
				a.wantWeights(map[string]int64{"web": 1})
				a.wantCanaryGone()
				if got := a.stableImages(); fmt.Sprint(got) != "["+v1+"]" {
					t.Errorf("stable pods after rollback: %v", got)
				}
			},
		},
		{
			name:     "canary never ready: the step times out, traffic stays on stable",
			steps:    []v1beta1.CanaryStep{step("20%", nil)},
			deadline: 2,
			run: func(t *testing.T, a *app) {
				a.setImage(brokenImage)
				ro := a.waitPhase(v1beta1.PhaseProgressing, "did not become ready")
				if cs := ro.Status.CanaryStatus; cs.CurrentStepState != v1beta1.StepUpgrade || cs.CurrentStepIndex != 1 {
					t.Errorf("canaryStatus: %+v", cs)
				}
				if !strings.Contains(ro.Status.Message, "traffic stays where it was") {
					t.Errorf("message: %q", ro.Status.Message)
				}
				a.wantWeights(map[string]int64{"web": 1})
			},
		},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			deadline := tc.deadline
			if deadline == 0 {
				deadline = 600
			}
			a := newApp(t, c, fmt.Sprintf("case%d", i), tc.steps, deadline)
			tc.run(t, a)
		})
	}
}

// Bad input gets a status that says what is wrong; nothing is touched.
func TestBadInput(t *testing.T) {
	c := setup(t)
	ctx := context.Background()
	must(t, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bad"}}))
	cases := []struct {
		name  string
		ref   string
		steps []v1beta1.CanaryStep
		want  string
	}{
		{"workload missing", "nothing", []v1beta1.CanaryStep{step("20%", nil)}, "workload Deployment nothing not found"},
		{"steps out of order", "", []v1beta1.CanaryStep{step("50%", nil), step("20%", nil)}, "steps go up in order"},
		{"over 100 %", "", []v1beta1.CanaryStep{step("120%", nil)}, "outside 0%–100%"},
		{"no steps", "", nil, "strategy.canary.steps is empty"},
	}
	a := &app{t: t, c: c, ns: "bad"}
	labels := map[string]string{"app": "w"}
	must(t, c.Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "w", Namespace: "bad"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "w", Image: v1}}}},
		},
	}))
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ref := tc.ref
			if ref == "" {
				ref = "w"
			}
			name := fmt.Sprintf("r%d", i)
			must(t, c.Create(ctx, &v1beta1.Rollout{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "bad"},
				Spec: v1beta1.RolloutSpec{
					WorkloadRef: v1beta1.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Name: ref},
					Strategy:    v1beta1.RolloutStrategy{Canary: &v1beta1.CanaryStrategy{Steps: tc.steps}},
				},
			}))
			eventually(t, tc.want, func() (bool, string) {
				ro := &v1beta1.Rollout{}
				must(t, c.Get(ctx, types.NamespacedName{Namespace: "bad", Name: name}, ro))
				return ro.Status.Phase == v1beta1.PhaseInitial && strings.Contains(ro.Status.Message, tc.want), ro.Status.Phase + ": " + ro.Status.Message
			})
			if a.deployment("w").Spec.Paused {
				t.Error("an invalid Rollout paused the workload")
			}
		})
	}
}
