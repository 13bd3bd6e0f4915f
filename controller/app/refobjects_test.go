package app_test

import (
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// The source objects live in vela-system, whose apps may write into
// other namespaces: a ref-objects app there delivers copies into the
// test's namespace through a topology policy.
const refSource = "vela-system"

// createSource creates objects in refSource, deleted after the test.
func createSource(t *testing.T, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		o.SetNamespace(refSource)
		if err := c.Create(ctx, o); err != nil {
			t.Fatalf("create %s: %v", o.GetName(), err)
		}
		t.Cleanup(func() { _ = c.Delete(ctx, o) })
	}
}

func sourceDeployment(name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
			},
		},
	}
}

// refApp is an app in refSource whose ref-objects component reads
// objects (YAML flow list) and delivers them into namespace to.
func refApp(name, to, objects string) string {
	return fmt.Sprintf(`
metadata: {name: %s}
spec:
  components:
  - name: copy
    type: ref-objects
    properties:
      objects: %s
  policies:
  - {name: there, type: topology, properties: {clusters: [local], namespace: %s}}
  workflow:
    steps:
    - {name: deploy, type: deploy, properties: {policies: [there]}}
`, name, objects, to)
}

func upRefApp(t *testing.T, c client.Client, y string) *v1beta1.Application {
	t.Helper()
	app := parseApp(t, refSource, y)
	up(t, c, app)
	t.Cleanup(func() { _ = c.Delete(ctx, app) })
	return app
}

// A ConfigMap (by labels) and a Deployment (by resource and name) read
// from vela-system are delivered into the test's namespace as the app's.
func TestRefObjectsDelivers(t *testing.T) {
	c, ns := start(t)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "refobj-settings", Labels: map[string]string{"refobj": ns}},
		Data: map[string]string{"mode": "prod"}}
	createSource(t, c, cm, sourceDeployment("refobj-web"))
	upRefApp(t, c, refApp("refobj-deliver", ns, fmt.Sprintf(`[{resource: deployment, name: refobj-web}, {resource: configmap, labelSelector: {refobj: %s}}]`, ns)))

	eventually(t, "the Deployment delivered", func() (bool, string) {
		d := deployment(t, c, ns, "refobj-web")
		if d == nil {
			return false, describe(getApp(t, c, refSource, "refobj-deliver"))
		}
		return true, ""
	})
	d := deployment(t, c, ns, "refobj-web")
	if *d.Spec.Replicas != 2 || d.Spec.Template.Spec.Containers[0].Image != "nginx:1.27" {
		t.Errorf("delivered Deployment: replicas %d image %s, want 2 nginx:1.27", *d.Spec.Replicas, d.Spec.Template.Spec.Containers[0].Image)
	}
	if d.Labels[v1beta1.LabelAppName] != "refobj-deliver" {
		t.Errorf("delivered Deployment labels %v: not the app's", d.Labels)
	}
	got := &corev1.ConfigMap{}
	eventually(t, "the ConfigMap delivered", func() (bool, string) {
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "refobj-settings"}, got)
		return err == nil, fmt.Sprint(err)
	})
	if got.Data["mode"] != "prod" || got.Labels[v1beta1.LabelAppName] != "refobj-deliver" {
		t.Errorf("delivered ConfigMap data %v labels %v", got.Data, got.Labels)
	}
	// The source objects are read, not written.
	src := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: refSource, Name: "refobj-settings"}, src); err != nil {
		t.Fatal(err)
	}
	if src.Labels[v1beta1.LabelAppName] != "" {
		t.Errorf("the source ConfigMap was written: labels %v", src.Labels)
	}
}

// An object not found, or labels no object has, fail the app with a
// message naming it; nothing of the component is applied.
func TestRefObjectsBadInput(t *testing.T) {
	c, ns := start(t)
	createSource(t, c, sourceDeployment("refobj-bad-web"))
	cases := []struct{ objects, want string }{
		{`[{resource: deployment, name: refobj-bad-web}, {resource: configmap, name: refobj-missing}]`,
			`objects[1]: configmap "refobj-missing" in namespace "vela-system" not found`},
		{`[{resource: deployment, name: refobj-bad-web}, {resource: configmap, labelSelector: {refobj: nothing}}]`,
			`objects[1]: no configmap with labels refobj=nothing in namespace "vela-system": nothing to deliver`},
	}
	app := upRefApp(t, c, refApp("refobj-bad", ns, cases[0].objects))
	for i, tc := range cases {
		if i > 0 {
			up(t, c, parseApp(t, refSource, refApp("refobj-bad", ns, tc.objects)))
		}
		eventually(t, "the app to fail naming the object", func() (bool, string) {
			a := getApp(t, c, refSource, app.Name)
			for _, cond := range a.Status.Conditions {
				if cond.Type == "Rendered" && cond.Status == metav1.ConditionFalse && strings.Contains(cond.Message, tc.want) {
					return a.Status.Phase == v1beta1.ApplicationWorkflowFailed, describe(a)
				}
			}
			return false, describe(a)
		})
		if d := deployment(t, c, ns, "refobj-bad-web"); d != nil {
			t.Errorf("case %d: the Deployment was applied though the component failed", i)
		}
	}

	// An app of an ordinary namespace may not read another namespace's
	// objects (it could copy its Secrets).
	up(t, c, parseApp(t, ns, `
metadata: {name: peek}
spec:
  components:
  - name: copy
    type: ref-objects
    properties:
      objects: [{resource: deployment, name: refobj-bad-web, namespace: vela-system}]
`))
	a := waitPhase(t, c, ns, "peek", v1beta1.ApplicationWorkflowFailed)
	if msg := describe(a); !strings.Contains(msg, `deployment \"refobj-bad-web\" in namespace \"vela-system\": outside the application's namespace`) {
		t.Errorf("reading another namespace: %s, want a refusal", msg)
	}
	if deployment(t, c, ns, "refobj-bad-web") != nil {
		t.Error("the Deployment of another namespace was copied")
	}
}
