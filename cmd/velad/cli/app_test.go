package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/appcli"
)

func sampleApp() *v1beta1.Application {
	created := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	return &v1beta1.Application{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "default", CreationTimestamp: metav1.NewTime(created)},
		Spec: v1beta1.ApplicationSpec{Components: []v1beta1.ApplicationComponent{
			{Name: "web", Type: "webservice"}, {Name: "db", Type: "worker"},
		}},
		Status: v1beta1.AppStatus{
			Phase:          v1beta1.ApplicationWorkflowSuspending,
			LatestRevision: &v1beta1.Revision{Name: "hello-v2", Revision: 2},
			Workflow: &v1beta1.WorkflowStatus{Phase: "suspending", Mode: "StepByStep-DAG", Suspend: true, Message: "approve me",
				Steps: []v1beta1.WorkflowStepStatus{
					{StepStatus: v1beta1.StepStatus{Name: "db", Type: "apply-component", Phase: v1beta1.WorkflowStepSucceeded}},
					{StepStatus: v1beta1.StepStatus{Name: "hold", Type: "suspend", Phase: v1beta1.WorkflowStepSuspending, Message: "approve me"}},
					{StepStatus: v1beta1.StepStatus{Name: "web", Type: "apply-component", Phase: v1beta1.WorkflowStepPending}},
				}},
			Services: []v1beta1.ApplicationComponentStatus{{Name: "db", Healthy: true, Message: "Ready:0/0",
				Traits: []v1beta1.ApplicationTraitStatus{{Type: "scaler", Healthy: true}}}},
			AppliedResources: []v1beta1.ClusterObjectReference{{ObjectReference: v1beta1.ObjectReference{Kind: "Deployment", Namespace: "default", Name: "db"}}},
		},
	}
}

func TestPrintStatus(t *testing.T) {
	app := sampleApp()
	ref := func(kind, name string) v1beta1.ClusterObjectReference {
		return v1beta1.ClusterObjectReference{ObjectReference: v1beta1.ObjectReference{Kind: kind, Namespace: "default", Name: name}}
	}
	// A HelmRelease's chart's objects are its children, one level deeper.
	res := []appcli.Resource{
		{Component: "chart", Ref: ref("HelmRelease", "chart"), Children: []appcli.Resource{
			{Ref: ref("Deployment", "chart")}, {Ref: ref("Service", "chart")},
		}},
		{Component: "chart", Ref: ref("HelmRepository", "chart")},
		{Component: "db", Ref: app.Status.AppliedResources[0]},
		{Component: "db", Trait: "expose", Ref: v1beta1.ClusterObjectReference{ObjectReference: v1beta1.ObjectReference{Kind: "Service", Namespace: "default", Name: "db"}}},
	}
	cases := []struct {
		name string
		tree bool
	}{{"status.golden.txt", false}, {"status-tree.golden.txt", true}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := printStatus(&out, app, tc.tree, res); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, out.String())
		})
	}
}

// Resources in joined clusters are grouped by cluster; services name
// theirs.
func TestPrintStatusClusters(t *testing.T) {
	app := sampleApp()
	app.Status.Phase, app.Status.Workflow = v1beta1.ApplicationRunning, nil
	ref := func(cluster, name string) v1beta1.ClusterObjectReference {
		return v1beta1.ClusterObjectReference{Cluster: cluster, ObjectReference: v1beta1.ObjectReference{Kind: "Deployment", Namespace: "default", Name: name}}
	}
	app.Status.Services = []v1beta1.ApplicationComponentStatus{{Name: "web", Cluster: "edge-1", Healthy: true}, {Name: "web", Cluster: "edge-2", Healthy: true}, {Name: "db", Healthy: true}}
	app.Status.AppliedResources = []v1beta1.ClusterObjectReference{ref("", "db"), ref("edge-1", "web"), ref("edge-2", "web")}
	res := []appcli.Resource{{Component: "db", Ref: ref("", "db")}, {Component: "web", Ref: ref("edge-1", "web")}, {Component: "web", Ref: ref("edge-2", "web")}}
	for name, tree := range map[string]bool{"status-clusters.golden.txt": false, "status-tree-clusters.golden.txt": true} {
		var out bytes.Buffer
		if err := printStatus(&out, app, tree, res); err != nil {
			t.Fatal(err)
		}
		golden(t, name, out.String())
	}
}

func TestPrintList(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 11, 22, 10, 5, 0, 0, time.UTC)
	if err := printList(&out, []v1beta1.Application{*sampleApp()}, now); err != nil {
		t.Fatal(err)
	}
	golden(t, "ls.golden.txt", out.String())
}

func TestAppCommandsNeedArgs(t *testing.T) {
	cases := []struct {
		args []string
	}{{[]string{"status"}}, {[]string{"delete"}}, {[]string{"workflow", "resume"}}, {[]string{"workflow", "rollback"}}, {[]string{"up"}}}
	for _, tc := range cases {
		if _, err := run(t, NewRootCommand(), "", tc.args...); err == nil {
			t.Errorf("velad %v: want an error", tc.args)
		}
	}
}

// `velad cluster join` refuses what it cannot use before it asks any
// cluster.
func TestClusterJoinBadInput(t *testing.T) {
	dir := t.TempDir()
	garbage := dir + "/garbage.yaml"
	if err := os.WriteFile(garbage, []byte("{{{ not yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"cluster", "join", dir + "/missing.yaml", "--name", "edge-1"}, "read kubeconfig"},
		{[]string{"cluster", "join", garbage, "--name", "edge-1", "--kubeconfig", garbage}, "kubeconfig"},
		{[]string{"cluster", "join", garbage}, "name"},
		{[]string{"cluster", "join", garbage, "--name", "edge-1", "--labels", "novalue"}, "want key=value"},
	}
	for _, tc := range cases {
		_, err := run(t, NewRootCommand(), "", tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("velad %s: %v, want an error about %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}
