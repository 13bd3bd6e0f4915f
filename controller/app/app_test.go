package app_test

import (
	"context"
	"fmt"
	"k8s.io/client-go/util/retry"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/appcli"
)

var ctx = context.Background()

func webApp(name, image string, replicas int) string {
	return fmt.Sprintf(`
metadata: {name: %s}
spec:
  components:
  - name: web
    type: webservice
    properties: {image: %s, port: 80}
    traits:
    - type: scaler
      properties: {replicas: %d}
`, name, image, replicas)
}

func getApp(t *testing.T, c client.Client, ns, name string) *v1beta1.Application {
	t.Helper()
	app := &v1beta1.Application{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, app); err != nil {
		t.Fatalf("get app: %v", err)
	}
	return app
}

// deployment returns the Deployment or nil when it does not exist.
func deployment(t *testing.T, c client.Client, ns, name string) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		t.Fatalf("get deployment: %v", err)
	}
	return d
}

func up(t *testing.T, c client.Client, app *v1beta1.Application) {
	t.Helper()
	if _, err := appcli.Up(ctx, c, app); err != nil {
		t.Fatal(err)
	}
}

func describe(app *v1beta1.Application) string {
	s := fmt.Sprintf("phase=%s gen=%d observed=%d", app.Status.Phase, app.Generation, app.Status.ObservedGeneration)
	if r := app.Status.LatestRevision; r != nil {
		s += " rev=" + r.Name
	}
	if wf := app.Status.Workflow; wf != nil {
		s += fmt.Sprintf(" wf=%s suspend=%v msg=%q", wf.Phase, wf.Suspend, wf.Message)
		for _, st := range wf.Steps {
			s += fmt.Sprintf(" [%s %s %q]", st.Name, st.Phase, st.Message)
		}
	}
	for _, c := range app.Status.Conditions {
		s += fmt.Sprintf(" {%s=%s %q}", c.Type, c.Status, c.Message)
	}
	return s
}

// waitPhase waits until the app has observed its generation and is in phase.
func waitPhase(t *testing.T, c client.Client, ns, name string, phase v1beta1.ApplicationPhase) *v1beta1.Application {
	t.Helper()
	var app *v1beta1.Application
	eventually(t, fmt.Sprintf("app %s to be %s", name, phase), func() (bool, string) {
		app = getApp(t, c, ns, name)
		return app.Status.ObservedGeneration == app.Generation && app.Status.Phase == phase, describe(app)
	})
	return app
}

func waitReplicas(t *testing.T, c client.Client, ns, name string, want int32) {
	t.Helper()
	eventually(t, fmt.Sprintf("deployment %s with %d replicas", name, want), func() (bool, string) {
		d := deployment(t, c, ns, name)
		if d == nil {
			return false, "no deployment"
		}
		return d.Spec.Replicas != nil && *d.Spec.Replicas == want, fmt.Sprintf("replicas=%v", *d.Spec.Replicas)
	})
}

func TestScalerReplicasThenImage(t *testing.T) {
	c, ns := start(t)
	up(t, c, parseApp(t, ns, webApp("hello", "nginx:1.0", 2)))
	waitReplicas(t, c, ns, "web", 2)
	// No node: 2 replicas never get ready, the step waits for health.
	eventually(t, "workflow waiting for web", func() (bool, string) {
		app := getApp(t, c, ns, "hello")
		return app.Status.Phase == v1beta1.ApplicationRunningWorkflow && app.Status.Workflow != nil &&
			strings.Contains(app.Status.Workflow.Steps[0].Message, `waiting for component "web" to be healthy`), describe(app)
	})

	up(t, c, parseApp(t, ns, webApp("hello", "nginx:1.0", 0)))
	waitReplicas(t, c, ns, "web", 0)
	app := waitPhase(t, c, ns, "hello", v1beta1.ApplicationRunning)
	if len(app.Status.Services) != 1 || !app.Status.Services[0].Healthy || app.Status.Services[0].Name != "web" {
		t.Errorf("services = %+v, want web healthy", app.Status.Services)
	}
	if len(app.Status.AppliedResources) != 1 || app.Status.AppliedResources[0].Kind != "Deployment" {
		t.Errorf("appliedResources = %+v", app.Status.AppliedResources)
	}

	up(t, c, parseApp(t, ns, webApp("hello", "nginx:2.0", 0)))
	eventually(t, "image nginx:2.0", func() (bool, string) {
		d := deployment(t, c, ns, "web")
		img := d.Spec.Template.Spec.Containers[0].Image
		return img == "nginx:2.0", img
	})
	app = waitPhase(t, c, ns, "hello", v1beta1.ApplicationRunning)
	if got := app.Status.LatestRevision.Name; got != "hello-v3" {
		t.Errorf("latest revision = %s, want hello-v3", got)
	}
}

func TestRemovedComponentIsCollected(t *testing.T) {
	c, ns := start(t)
	two := parseApp(t, ns, `
metadata: {name: two}
spec:
  components:
  - name: a
    type: webservice
    properties: {image: nginx, cpu: "0.1"}
    traits: [{type: scaler, properties: {replicas: 0}}]
  - name: b
    type: worker
    properties: {image: busybox}
    traits: [{type: scaler, properties: {replicas: 0}}]
`)
	up(t, c, two)
	waitPhase(t, c, ns, "two", v1beta1.ApplicationRunning)
	if deployment(t, c, ns, "b") == nil {
		t.Fatal("deployment b missing")
	}
	one := two.DeepCopy()
	one.Spec.Components = one.Spec.Components[:1]
	up(t, c, one)
	eventually(t, "deployment b deleted", func() (bool, string) {
		return deployment(t, c, ns, "b") == nil, describe(getApp(t, c, ns, "two"))
	})
	app := waitPhase(t, c, ns, "two", v1beta1.ApplicationRunning)
	if deployment(t, c, ns, "a") == nil {
		t.Error("deployment a was deleted too")
	}
	var rts v1beta1.ResourceTrackerList
	if err := c.List(ctx, &rts, client.MatchingLabels{v1beta1.LabelAppName: "two", v1beta1.LabelAppNamespace: ns}); err != nil {
		t.Fatal(err)
	}
	if len(rts.Items) != 1 || rts.Items[0].Name != "two-v2-"+ns {
		t.Errorf("resource trackers after GC: %d, want only two-v2-%s (app %s)", len(rts.Items), ns, describe(app))
	}
}

func TestDeleteRemovesEverything(t *testing.T) {
	c, ns := start(t)
	app := parseApp(t, ns, `
metadata: {name: gone}
spec:
  components:
  - name: web
    type: webservice
    properties: {image: nginx, ports: [{port: 80, expose: true}]}
    traits: [{type: scaler, properties: {replicas: 0}}]
`)
	up(t, c, app)
	waitPhase(t, c, ns, "gone", v1beta1.ApplicationRunning)
	svc := &corev1.Service{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, svc); err != nil {
		t.Fatalf("service web: %v", err)
	}
	if err := appcli.Delete(ctx, c, ns, "gone", true, Wait); err != nil {
		t.Fatal(err)
	}
	if deployment(t, c, ns, "web") != nil {
		t.Error("deployment web still exists")
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, svc); !apierrors.IsNotFound(err) {
		t.Errorf("service web: %v, want not found", err)
	}
	var rts v1beta1.ResourceTrackerList
	if err := c.List(ctx, &rts, client.MatchingLabels{v1beta1.LabelAppName: "gone", v1beta1.LabelAppNamespace: ns}); err != nil {
		t.Fatal(err)
	}
	if len(rts.Items) != 0 {
		t.Errorf("%d resource trackers left", len(rts.Items))
	}
}

// scale sets a Deployment's replicas by hand, as `kubectl scale` would.
func scale(t *testing.T, c client.Client, ns, name string, n int32) {
	t.Helper()
	d := deployment(t, c, ns, name)
	d.Spec.Replicas = &n
	if err := c.Update(ctx, d, client.FieldOwner("kubectl")); err != nil {
		t.Fatal(err)
	}
}

func TestDriftIsCorrected(t *testing.T) {
	c, ns := start(t)
	up(t, c, parseApp(t, ns, webApp("drift", "nginx", 0)))
	waitPhase(t, c, ns, "drift", v1beta1.ApplicationRunning)
	scale(t, c, ns, "web", 3)
	waitReplicas(t, c, ns, "web", 0)
}

func TestApplyOnceLeavesDriftAlone(t *testing.T) {
	c, ns := start(t)
	app := parseApp(t, ns, webApp("once", "nginx", 0))
	app.Spec.Policies = []v1beta1.AppPolicy{{Name: "once", Type: "apply-once", Properties: raw(`{"enable": true}`)}}
	up(t, c, app)
	waitPhase(t, c, ns, "once", v1beta1.ApplicationRunning)
	scale(t, c, ns, "web", 3)
	// The controller sees the change (the app turns unhealthy: 0/3
	// ready) and leaves the replicas alone.
	waitPhase(t, c, ns, "once", v1beta1.ApplicationUnhealthy)
	if d := deployment(t, c, ns, "web"); *d.Spec.Replicas != 3 {
		t.Errorf("replicas = %d, want 3 (left alone)", *d.Spec.Replicas)
	}
}

const suspendApp = `
metadata: {name: %s}
spec:
  components:
  - name: first
    type: worker
    properties: {image: busybox}
    traits: [{type: scaler, properties: {replicas: 0}}]
  - name: second
    type: worker
    properties: {image: busybox}
    traits: [{type: scaler, properties: {replicas: 0}}]
  workflow:
    steps:
    - {name: first, type: apply-component, properties: {component: first}}
    - {name: hold, type: suspend, properties: %s}
    - {name: second, type: apply-component, properties: {component: second}}
`

func TestSuspendThenResume(t *testing.T) {
	c, ns := start(t)
	up(t, c, parseApp(t, ns, fmt.Sprintf(suspendApp, "held", `{message: "approve me"}`)))
	app := waitPhase(t, c, ns, "held", v1beta1.ApplicationWorkflowSuspending)
	if deployment(t, c, ns, "first") == nil || deployment(t, c, ns, "second") != nil {
		t.Fatalf("while suspended want only first deployed; %s", describe(app))
	}
	if got := app.Status.Workflow.Steps[1].Phase; got != v1beta1.WorkflowStepSuspending {
		t.Errorf("suspend step phase = %s", got)
	}
	if err := appcli.Workflow(ctx, c, ns, "held", appcli.Resume); err != nil {
		t.Fatal(err)
	}
	waitPhase(t, c, ns, "held", v1beta1.ApplicationRunning)
	if deployment(t, c, ns, "second") == nil {
		t.Error("second not deployed after resume")
	}
}

func TestSuspendWithDurationResumesByItself(t *testing.T) {
	c, ns := start(t)
	up(t, c, parseApp(t, ns, fmt.Sprintf(suspendApp, "nap", `{duration: "3s"}`)))
	app := waitPhase(t, c, ns, "nap", v1beta1.ApplicationRunning)
	if deployment(t, c, ns, "second") == nil {
		t.Error("second not deployed")
	}
	if got := app.Status.Workflow.Steps[1].Phase; got != v1beta1.WorkflowStepSucceeded {
		t.Errorf("suspend step phase = %s, want succeeded", got)
	}
}

func TestDependsOnOrder(t *testing.T) {
	c, ns := start(t)
	y := `
metadata: {name: order}
spec:
  components:
  - name: db
    type: worker
    properties: {image: busybox}
    traits: [{type: scaler, properties: {replicas: %d}}]
  - name: api
    type: worker
    dependsOn: [db]
    properties: {image: busybox}
    traits: [{type: scaler, properties: {replicas: 0}}]
`
	// db never becomes healthy (no node for its pod): api must wait.
	up(t, c, parseApp(t, ns, fmt.Sprintf(y, 1)))
	eventually(t, "db applied and waiting", func() (bool, string) {
		app := getApp(t, c, ns, "order")
		wf := app.Status.Workflow
		return deployment(t, c, ns, "db") != nil && wf != nil && len(wf.Steps) == 2 &&
			wf.Steps[0].Phase == v1beta1.WorkflowStepRunning, describe(app)
	})
	app := getApp(t, c, ns, "order")
	if deployment(t, c, ns, "api") != nil || app.Status.Workflow.Steps[1].Phase != v1beta1.WorkflowStepPending {
		t.Fatalf("api deployed before db is healthy: %s", describe(app))
	}
	up(t, c, parseApp(t, ns, fmt.Sprintf(y, 0)))
	waitPhase(t, c, ns, "order", v1beta1.ApplicationRunning)
	if deployment(t, c, ns, "api") == nil {
		t.Error("api not deployed")
	}
}

func TestRenderErrorFailsWithMessage(t *testing.T) {
	c, ns := start(t)
	up(t, c, parseApp(t, ns, `
metadata: {name: broken}
spec:
  components:
  - name: web
    type: webservice
    properties: {image: nginx, port: "eighty"}
`))
	app := waitPhase(t, c, ns, "broken", v1beta1.ApplicationWorkflowFailed)
	msg := ""
	for _, cond := range app.Status.Conditions {
		if cond.Type == "Rendered" {
			msg = cond.Message
		}
	}
	if !strings.Contains(msg, `component "web"`) || !strings.Contains(msg, "port") {
		t.Errorf("Rendered condition message = %q, want it to name component web and port", msg)
	}
	eventually(t, "a RenderFailed event", func() (bool, string) {
		var evs corev1.EventList
		if err := c.List(ctx, &evs, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		for _, e := range evs.Items {
			if e.Reason == "RenderFailed" && strings.Contains(e.Message, `component "web"`) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events", len(evs.Items))
	})
}

func TestRevisionsAreCapped(t *testing.T) {
	c, ns := start(t)
	for i := 1; i <= 12; i++ {
		up(t, c, parseApp(t, ns, webApp("many", fmt.Sprintf("nginx:1.%d", i), 0)))
		want := fmt.Sprintf("many-v%d", i)
		eventually(t, want, func() (bool, string) {
			app := getApp(t, c, ns, "many")
			return app.Status.LatestRevision != nil && app.Status.LatestRevision.Name == want, describe(app)
		})
	}
	var revs v1beta1.ApplicationRevisionList
	if err := c.List(ctx, &revs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, r := range revs.Items {
		names[r.Name] = true
	}
	if len(revs.Items) != 10 || names["many-v1"] || names["many-v2"] || !names["many-v12"] {
		t.Errorf("revisions = %v, want many-v3..many-v12", names)
	}
	// An update that changes nothing makes no revision. (The controller
	// may write the status between our read and write: retry then.)
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		app := getApp(t, c, ns, "many")
		app.Annotations = map[string]string{"note": "x"}
		return c.Update(ctx, app)
	}); err != nil {
		t.Fatal(err)
	}
	app := waitPhase(t, c, ns, "many", v1beta1.ApplicationRunning)
	if app.Status.LatestRevision.Name != "many-v12" {
		t.Errorf("latest = %s after a metadata-only change", app.Status.LatestRevision.Name)
	}
}
