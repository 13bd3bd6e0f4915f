package app_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/appcli"
)

// waitFailedWith waits until the app failed with msg in a condition or in
// its workflow.
func waitFailedWith(t *testing.T, c client.Client, ns, name, msg string) {
	t.Helper()
	eventually(t, name+" to fail with "+msg, func() (bool, string) {
		app := getApp(t, c, ns, name)
		all := ""
		for _, cond := range app.Status.Conditions {
			all += cond.Message + "\n"
		}
		if wf := app.Status.Workflow; wf != nil {
			all += wf.Message + "\n"
			for _, s := range wf.Steps {
				all += s.Message + "\n"
			}
		}
		return app.Status.Phase == v1beta1.ApplicationWorkflowFailed && strings.Contains(all, msg), describe(app)
	})
}

// An app writes only into its own namespace: a k8s-objects component
// aiming at kube-system, or at a cluster-scoped kind, fails the app and
// nothing is written.
func TestAppsStayInTheirNamespace(t *testing.T) {
	c, ns := start(t)
	if err := c.Create(ctx, parseApp(t, ns, `
metadata: {name: escape}
spec:
  components:
  - name: objs
    type: k8s-objects
    properties:
      objects:
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: velad-escape, namespace: kube-system}, data: {a: b}}
`)); err != nil {
		t.Fatal(err)
	}
	waitFailedWith(t, c, ns, "escape", `ConfigMap kube-system/velad-escape is outside the application's namespace "`+ns+`"`)
	if err := c.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "velad-escape"}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
		t.Fatalf("configmap in kube-system: %v, want not found", err)
	}
	if err := c.Create(ctx, parseApp(t, ns, `
metadata: {name: clusterwide}
spec:
  components:
  - name: objs
    type: k8s-objects
    properties:
      objects:
      - {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: velad-escape}, rules: []}
`)); err != nil {
		t.Fatal(err)
	}
	waitFailedWith(t, c, ns, "clusterwide", `ClusterRole velad-escape is cluster-scoped`)
	if err := c.Get(ctx, client.ObjectKey{Name: "velad-escape"}, &rbacv1.ClusterRole{}); !apierrors.IsNotFound(err) {
		t.Fatalf("cluster role: %v, want not found", err)
	}
}

// A second app claiming a Deployment another app manages fails with
// "managed by application X" and, deleted, leaves it alone; with a
// take-over policy an app may take it over.
func TestSecondAppCannotClaimADeployment(t *testing.T) {
	c, ns := start(t)
	up(t, c, parseApp(t, ns, webApp("first", "nginx:1.0", 0)))
	waitPhase(t, c, ns, "first", v1beta1.ApplicationRunning)
	if err := c.Create(ctx, parseApp(t, ns, webApp("second", "nginx:2.0", 0))); err != nil {
		t.Fatal(err)
	}
	waitFailedWith(t, c, ns, "second", `Deployment `+ns+`/web is managed by application `+ns+`/first`)
	if d := deployment(t, c, ns, "web"); d == nil || d.Spec.Template.Spec.Containers[0].Image != "nginx:1.0" {
		t.Fatalf("deployment web after the second app: %+v", d)
	}
	if err := appcli.Delete(ctx, c, ns, "second", true, Wait); err != nil {
		t.Fatal(err)
	}
	if d := deployment(t, c, ns, "web"); d == nil {
		t.Fatal("deleting the refused app deleted the first app's deployment")
	}
	waitPhase(t, c, ns, "first", v1beta1.ApplicationRunning)

	third := parseApp(t, ns, webApp("third", "nginx:3.0", 0))
	third.Spec.Policies = []v1beta1.AppPolicy{{Name: "take", Type: "take-over",
		Properties: raw(`{"rules": [{"selector": {"resourceTypes": ["Deployment"]}}]}`)}}
	if err := c.Create(ctx, third); err != nil {
		t.Fatal(err)
	}
	waitPhase(t, c, ns, "third", v1beta1.ApplicationRunning)
	if d := deployment(t, c, ns, "web"); d == nil || d.Labels[v1beta1.LabelAppName] != "third" {
		t.Fatalf("deployment web after take-over: %v", d.Labels)
	}
	// The first app lost it: it says so the next time it would apply it
	// (a resync, here a change), and does not fight over it.
	first := getApp(t, c, ns, "first")
	first.Spec.Components[0].Properties = raw(`{"image": "nginx:1.1", "port": 80}`)
	if err := c.Update(ctx, first); err != nil {
		t.Fatal(err)
	}
	waitFailedWith(t, c, ns, "first", `Deployment `+ns+`/web is managed by application `+ns+`/third`)
	if err := appcli.Delete(ctx, c, ns, "first", true, Wait); err != nil {
		t.Fatal(err)
	}
	if d := deployment(t, c, ns, "web"); d == nil || d.Spec.Template.Spec.Containers[0].Image != "nginx:3.0" {
		t.Fatal("deleting the app that lost the deployment deleted or changed it")
	}
}
