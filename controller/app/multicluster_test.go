package app_test

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/cluster"
	"github.com/velad-dev/velad/internal/testenv"
)

// A Deployment with no health policy: the edges have no node, so objects
// are what is checked there.
const edgeWorker = `
output: {
	apiVersion: "apps/v1"
	kind:       "Deployment"
	metadata: name: context.name
	spec: {
		replicas: parameter.replicas
		selector: matchLabels: app: context.name
		template: {
			metadata: labels: app: context.name
			spec: containers: [{name: "main", image: parameter.image}]
		}
	}
}
parameter: {
	image:    *"busybox" | string
	replicas: *1 | int
}
`

// edgeApp delivers component web to the clusters labelled tier=a (with
// replicas a) and tier=b (with replicas b; tierB is that topology's
// selector properties), one deploy step each.
func edgeApp(ns string, a, b int, tierB string) string {
	return fmt.Sprintf(`
metadata: {name: shop, namespace: %s}
spec:
  components:
  - {name: web, type: edge-worker, properties: {image: "nginx:1"}}
  policies:
  - {name: tier-a, type: topology, properties: {clusterLabelSelector: {tier: a}}}
  - {name: tier-b, type: topology, properties: %s}
  - {name: replicas-a, type: override, properties: {components: [{name: web, properties: {replicas: %d}}]}}
  - {name: replicas-b, type: override, properties: {components: [{name: web, properties: {replicas: %d}}]}}
  workflow:
    steps:
    - {name: deploy-a, type: deploy, properties: {policies: [tier-a, replicas-a]}}
    - {name: deploy-b, type: deploy, properties: {policies: [tier-b, replicas-b]}}
`, ns, tierB, a, b)
}

// Two extra velad control planes, each in a network namespace of its own
// and reached at its test address, joined as edge-1 and edge-2.
func TestMultiCluster(t *testing.T) {
	c, ns := start(t)
	network := testenv.NewNetwork(t)
	bin, err := testenv.Binary()
	if err != nil {
		t.Fatal(err)
	}
	edges := make([]*testenv.Server, 2)
	for i := range edges {
		h := network.AddHost(t)
		s, err := testenv.NewServer(bin, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		s.InHost(h)
		edges[i] = s
		t.Cleanup(func() {
			if err := s.Stop(); err != nil {
				t.Errorf("stop edge server: %v", err)
			}
			if t.Failed() {
				t.Logf("edge-%d log:\n%s", i+1, s.LogTail(30))
			}
		})
	}
	var wg sync.WaitGroup
	errs := make([]error, len(edges))
	for i, s := range edges {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.Start() }()
	}
	wg.Wait()
	edgeClients := make([]client.Client, len(edges))
	for i, s := range edges {
		if errs[i] != nil {
			t.Fatalf("edge-%d: %v", i+1, errs[i])
		}
		cfg, err := s.RESTConfig()
		if err != nil {
			t.Fatal(err)
		}
		if edgeClients[i], err = client.New(cfg, client.Options{}); err != nil {
			t.Fatal(err)
		}
	}

	// A kubeconfig on loopback is refused, saying what to use instead.
	local, err := os.ReadFile(edges[0].Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Join(ctx, c, local, cluster.JoinOptions{Name: "edge-1"}); err == nil || !strings.Contains(err.Error(), "velad kubeconfig --external") {
		t.Fatalf("join of a loopback kubeconfig: %v, want a refusal naming 'velad kubeconfig --external'", err)
	}
	for i, tier := range []string{"a", "b"} {
		kc, err := os.ReadFile(edges[i].ExternalKubeconfig())
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("edge-%d", i+1)
		cl, err := cluster.Join(ctx, c, kc, cluster.JoinOptions{Name: name, Labels: map[string]string{"region": "edge", "tier": tier}})
		if err != nil {
			t.Fatalf("join %s: %v", name, err)
		}
		t.Cleanup(func() { _ = cluster.Detach(ctx, c, name, true) })
		if cl.Version == "" || !strings.Contains(cl.Endpoint, edges[i].Host.IP.String()) {
			t.Errorf("joined %+v", cl)
		}
	}
	st, err := cluster.List(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 3 || st[0].Name != "local" || st[1].Name != "edge-1" || st[2].Err != nil || st[2].Labels["tier"] != "b" {
		t.Fatalf("cluster list: %+v", st)
	}

	def := &v1beta1.ComponentDefinition{}
	def.Name, def.Namespace = "edge-worker", ns
	def.Spec.Schematic = &v1beta1.Schematic{CUE: &v1beta1.CUE{Template: edgeWorker}}
	if err := c.Create(ctx, def); err != nil {
		t.Fatal(err)
	}
	replicasIn := func(i int, name string) string {
		d := deployment(t, edgeClients[i], ns, name)
		if d == nil {
			return "none"
		}
		return fmt.Sprint(*d.Spec.Replicas)
	}
	waitEdges := func(name, want1, want2 string) {
		t.Helper()
		eventually(t, fmt.Sprintf("%s: edge-1 %s, edge-2 %s", name, want1, want2), func() (bool, string) {
			r1, r2 := replicasIn(0, name), replicasIn(1, name)
			state := fmt.Sprintf("edge-1 %s, edge-2 %s", r1, r2)
			app := &v1beta1.Application{}
			if c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, app) == nil {
				state += "; " + describe(app)
			}
			return r1 == want1 && r2 == want2, state
		})
	}
	update := func(y string) {
		t.Helper()
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			app := getApp(t, c, ns, "shop")
			app.Spec = parseApp(t, ns, y).Spec
			return c.Update(ctx, app)
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// Delivered by label selector, each cluster with its override.
	up(t, c, parseApp(t, ns, edgeApp(ns, 2, 3, "{clusterLabelSelector: {tier: b}}")))
	app := waitPhase(t, c, ns, "shop", v1beta1.ApplicationRunning)
	waitEdges("web", "2", "3")
	if deployment(t, c, ns, "web") != nil {
		t.Error("the app's Deployment is in local too; its topologies name edge clusters only")
	}
	d := deployment(t, edgeClients[0], ns, "web")
	if d.Labels["app.oam.dev/cluster"] != "edge-1" || d.Labels[v1beta1.LabelAppName] != "shop" {
		t.Errorf("edge-1 Deployment labels %v", d.Labels)
	}
	clusters := map[string]bool{}
	for _, s := range app.Status.Services {
		clusters[s.Cluster] = s.Healthy
	}
	if !clusters["edge-1"] || !clusters["edge-2"] || len(clusters) != 2 {
		t.Errorf("status.services clusters %v, want edge-1 and edge-2 healthy", clusters)
	}
	var rts v1beta1.ResourceTrackerList
	if err := c.List(ctx, &rts, client.MatchingLabels{v1beta1.LabelAppName: "shop", v1beta1.LabelAppNamespace: ns}); err != nil {
		t.Fatal(err)
	}
	tracked := map[string]bool{}
	for _, rt := range rts.Items {
		for _, m := range rt.Spec.ManagedResources {
			tracked[m.Cluster+"/"+m.Kind+"/"+m.Name] = true
		}
	}
	if !tracked["edge-1/Deployment/web"] || !tracked["edge-2/Deployment/web"] {
		t.Errorf("resource trackers record %v, want the Deployment in edge-1 and edge-2", tracked)
	}

	// Changing an override updates its cluster.
	update(edgeApp(ns, 5, 3, "{clusterLabelSelector: {tier: b}}"))
	waitEdges("web", "5", "3")

	// A cluster in use is not detached.
	if err := cluster.Detach(ctx, c, "edge-2", false); err == nil || !strings.Contains(err.Error(), ns+"/shop") {
		t.Fatalf("detach of a cluster in use: %v, want a refusal naming %s/shop", err, ns)
	}

	// edge-2 stops: only its step fails, naming it; edge-1 is updated.
	if err := edges[1].Stop(); err != nil {
		t.Fatal(err)
	}
	update(edgeApp(ns, 6, 4, "{clusterLabelSelector: {tier: b}}"))
	eventually(t, "deploy-b to fail on edge-2 while deploy-a succeeds", func() (bool, string) {
		app := getApp(t, c, ns, "shop")
		var a, b v1beta1.StepStatus
		if wf := app.Status.Workflow; wf != nil && app.Status.ObservedGeneration == app.Generation {
			for _, s := range wf.Steps {
				switch s.Name {
				case "deploy-a":
					a = s.StepStatus
				case "deploy-b":
					b = s.StepStatus
				}
			}
		}
		return a.Phase == v1beta1.WorkflowStepSucceeded && strings.Contains(b.Message, `cluster "edge-2"`) && replicasIn(0, "web") == "6", describe(app)
	})
	// It comes back: the app converges without anyone touching it.
	if err := edges[1].Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "edge-2 to converge", func() (bool, string) {
		app := getApp(t, c, ns, "shop")
		r2 := replicasIn(1, "web")
		return r2 == "4" && app.Status.Phase == v1beta1.ApplicationRunning, "edge-2 " + r2 + "; " + describe(app)
	})

	// Taken out of the topology, edge-2's objects are collected.
	update(edgeApp(ns, 6, 4, "{clusterLabelSelector: {tier: none}, allowEmpty: true}"))
	waitEdges("web", "6", "none")

	// Without a workflow: a deploy step per topology with every override.
	up(t, c, parseApp(t, ns, fmt.Sprintf(`
metadata: {name: api, namespace: %s}
spec:
  components:
  - {name: api, type: edge-worker}
  policies:
  - {name: edges, type: topology, properties: {clusterLabelSelector: {region: edge}}}
  - {name: seven, type: override, properties: {components: [{type: edge-worker, properties: {replicas: 7}}]}}
`, ns)))
	api := waitPhase(t, c, ns, "api", v1beta1.ApplicationRunning)
	waitEdges("api", "7", "7")
	if wf := api.Status.Workflow; wf == nil || len(wf.Steps) != 1 || wf.Steps[0].Name != "deploy-edges" {
		t.Errorf("default workflow %s, want one step deploy-edges", describe(api))
	}

	// Steps written in CUE see the clusters (vela/multicluster).
	stepDef(t, c, ns, "where", `
import (
	"strings"
	"vela/builtin"
	"vela/multicluster"
)
list: multicluster.#ListClusters
places: multicluster.#GetPlacementsFromTopologyPolicies & {$params: policies: ["edges"]}
msg: builtin.#Message & {$params: message: strings.Join(list.$returns.outputs.clusters, ",") + " / " + strings.Join([for p in places.$returns.placements {p.cluster + ":" + p.namespace}], ",")}
`)
	up(t, c, parseApp(t, ns, fmt.Sprintf(`
metadata: {name: where, namespace: %s}
spec:
  components: []
  policies:
  - {name: edges, type: topology, properties: {clusterLabelSelector: {region: edge}, namespace: edge-ns}}
  workflow: {steps: [{name: where, type: where}]}
`, ns)))
	where := waitStep(t, c, ns, "where", "where", v1beta1.WorkflowStepSucceeded)
	if msg := where.Status.Workflow.Steps[0].Message; msg != "local,edge-1,edge-2 / edge-1:edge-ns,edge-2:edge-ns" {
		t.Errorf("step message %q, want the clusters and placements", msg)
	}

	// Deleting the apps cleans every cluster; then edge-1 detaches.
	for _, name := range []string{"shop", "api"} {
		if err := c.Delete(ctx, getApp(t, c, ns, name)); err != nil {
			t.Fatal(err)
		}
	}
	waitEdges("web", "none", "none")
	waitEdges("api", "none", "none")
	eventually(t, "edge-1 to be detachable", func() (bool, string) {
		err := cluster.Detach(ctx, c, "edge-1", false)
		return err == nil, fmt.Sprint(err)
	})
	if st, err := cluster.List(ctx, c); err != nil || len(st) != 2 || st[1].Name != "edge-2" {
		t.Errorf("cluster list after detach: %+v %v", st, err)
	}
}

// A topology naming a cluster that is not joined, or a selector that
// matches none, fails the app with a message saying so; nothing is
// delivered.
func TestTopologyBadInput(t *testing.T) {
	c, ns := start(t)
	cases := map[string]struct{ topology, want string }{
		"unknown":  {`{clusters: [nowhere]}`, `cluster "nowhere" is not joined`},
		"no-match": {`{clusterLabelSelector: {region: moon}}`, "failed to find any cluster matches given labels"},
	}
	for name, tc := range cases {
		up(t, c, parseApp(t, ns, fmt.Sprintf(`
metadata: {name: %s}
spec:
  components: [{name: %s, type: webservice, properties: {image: "nginx:1"}}]
  policies: [{name: where, type: topology, properties: %s}]
`, name, name, tc.topology)))
	}
	for name, tc := range cases {
		eventually(t, name+" to fail", func() (bool, string) {
			app := getApp(t, c, ns, name)
			for _, cond := range app.Status.Conditions {
				if strings.Contains(cond.Message, tc.want) {
					return true, ""
				}
			}
			return false, describe(app)
		})
		if deployment(t, c, ns, name) != nil {
			t.Errorf("%s: delivered to local anyway", name)
		}
	}
}
