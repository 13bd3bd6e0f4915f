package app_test

import (
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/appcli"
)

// Rollback goes back to the newest earlier revision whose workflow
// succeeded, skipping one that never finished; a running workflow is
// suspended first.
func TestWorkflowRollback(t *testing.T) {
	c, ns := start(t)
	if _, err := appcli.Rollback(ctx, c, ns, "roll"); err == nil {
		t.Fatal("rollback of a missing app: no error")
	}
	up(t, c, parseApp(t, ns, webApp("roll", "nginx:1.0", 0)))
	waitPhase(t, c, ns, "roll", v1beta1.ApplicationRunning)
	if _, err := appcli.Rollback(ctx, c, ns, "roll"); err == nil || !strings.Contains(err.Error(), "nothing to roll back to") {
		t.Fatalf("rollback with one revision: err = %v", err)
	}
	up(t, c, parseApp(t, ns, webApp("roll", "nginx:2.0", 0)))
	waitPhase(t, c, ns, "roll", v1beta1.ApplicationRunning)
	// v3 never gets healthy: two replicas and no node.
	up(t, c, parseApp(t, ns, webApp("roll", "nginx:3.0", 2)))
	waitReplicas(t, c, ns, "web", 2)

	// Not while its workflow runs (as KubeVela): suspend it first.
	if _, err := appcli.Rollback(ctx, c, ns, "roll"); err == nil || !strings.Contains(err.Error(), "still running") {
		t.Fatalf("rollback while the workflow runs: err = %v, want refused", err)
	}
	if err := appcli.Workflow(ctx, c, ns, "roll", appcli.Suspend); err != nil {
		t.Fatal(err)
	}
	target, err := appcli.Rollback(ctx, c, ns, "roll")
	if err != nil {
		t.Fatal(err)
	}
	if target != "roll-v2" {
		t.Fatalf("rolled back to %s, want roll-v2 (v3 never succeeded)", target)
	}
	app := waitPhase(t, c, ns, "roll", v1beta1.ApplicationRunning)
	if app.Status.LatestRevision == nil || app.Status.LatestRevision.Name != "roll-v4" {
		t.Errorf("latest revision after rollback = %+v, want roll-v4", app.Status.LatestRevision)
	}
	d := deployment(t, c, ns, "web")
	if d == nil || *d.Spec.Replicas != 0 || d.Spec.Template.Spec.Containers[0].Image != "nginx:2.0" {
		t.Fatalf("deployment after rollback: %+v", d)
	}
	for name, want := range map[string]bool{"roll-v1": true, "roll-v2": true, "roll-v3": false} {
		rev := &v1beta1.ApplicationRevision{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, rev); err != nil {
			t.Fatal(err)
		}
		if rev.Status.Succeeded != want {
			t.Errorf("%s succeeded = %v, want %v", name, rev.Status.Succeeded, want)
		}
	}
}
