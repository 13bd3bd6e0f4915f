package app_test

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/internal/charttest"
)

func helmchartApp(name, repo, version string) string {
	return fmt.Sprintf(`
metadata: {name: %s}
spec:
  components:
  - name: hello
    type: helmchart
    properties:
      chart: {source: hello, repoURL: %q, version: %q}
      values: {replicas: 2}
`, name, repo, version)
}

// A helmchart component: the chart, from a repository on loopback, is
// rendered and its Deployment and Service are applied (with the release
// record), no Flux object in sight.
func TestHelmchartAppliesTheChart(t *testing.T) {
	c, ns := start(t)
	up(t, c, parseApp(t, ns, helmchartApp("chart", charttest.Repo(t), "1.0.0")))
	waitPhase(t, c, ns, "chart", v1beta1.ApplicationRunning)
	d := deployment(t, c, ns, "hello")
	if d == nil || d.Spec.Replicas == nil || *d.Spec.Replicas != 2 || d.Labels["app.oam.dev/name"] != "chart" {
		t.Fatalf("deployment hello: %+v", d)
	}
	var svc corev1.Service
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "hello"}, &svc); err != nil {
		t.Fatalf("service hello: %v", err)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 80 {
		t.Errorf("service ports %+v", svc.Spec.Ports)
	}
	var rec corev1.ConfigMap
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "hello-helm-release"}, &rec); err != nil {
		t.Fatalf("release record: %v", err)
	}
	if rec.Data["chartVersion"] != "1.0.0" || rec.Data["resourceCount"] != "2" {
		t.Errorf("release record %v", rec.Data)
	}
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{"app": "hello"}); err == nil {
		for _, p := range pods.Items {
			if strings.HasSuffix(p.Name, "-ping") {
				t.Errorf("the chart's test hook %s was applied", p.Name)
			}
		}
	}
}

// A chart that cannot be had fails the app with the reason in its
// Rendered condition.
func TestHelmchartErrorsInStatus(t *testing.T) {
	c, ns := start(t)
	repo := charttest.Repo(t)
	for _, tc := range []struct{ app, repo, version, want string }{
		{"unreachable", "http://127.0.0.1:1", "1.0.0", "chart repository must be reachable"},
		{"no-such-version", repo, "9.9.9", "chart hello 9.9.9 is not in " + repo},
	} {
		up(t, c, parseApp(t, ns, helmchartApp(tc.app, tc.repo, tc.version)))
		app := waitPhase(t, c, ns, tc.app, v1beta1.ApplicationWorkflowFailed)
		msg := ""
		for _, cond := range app.Status.Conditions {
			if cond.Type == "Rendered" {
				msg = cond.Message
			}
		}
		if !strings.Contains(msg, `component "hello"`) || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: Rendered condition %q, want it to name component hello and say %q", tc.app, msg, tc.want)
		}
	}
}
