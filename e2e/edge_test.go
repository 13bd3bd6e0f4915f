package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/velad-dev/velad/internal/testenv"
)

// edgeNode is a host (network namespace) running velad there.
type edgeNode struct {
	host    *testenv.Host
	dataDir string
	log     string
	cmd     *exec.Cmd
}

// inNetns runs velad in h's network namespace only (ip netns exec would
// also remount /sys and hide the cgroup hierarchies the kubelet needs).
func inNetns(h *testenv.Host, bin string, args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--net=/run/netns/" + h.Name, bin}, args...)...)
}

// TestEdgePools starts a server and two agents, each in a network
// namespace of its own on a test bridge, with pools beijing and shanghai,
// and checks joining, pools, delivery per pool, the pod network across
// nodes, refused tokens, an agent's restart and an agent's uninstall.
func TestEdgePools(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("installs velad and creates network namespaces: needs root (CI runs as root)")
	}
	testenv.LockHost(t)
	bin, err := testenv.Binary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	network := testenv.NewNetwork(t)
	srv := &edgeNode{host: network.AddHost(t), dataDir: filepath.Join(dir, "server")}
	kubeconfig := filepath.Join(dir, "kubeconfig.yaml")
	t.Cleanup(func() {
		if out, err := inNetns(srv.host, bin, "uninstall", "--data-dir", srv.dataDir, "-o", kubeconfig).CombinedOutput(); err != nil {
			t.Errorf("uninstall the server: %v\n%s", err, out)
		}
	})
	run := func(limit time.Duration, h *testenv.Host, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		defer cancel()
		cmd := inNetns(h, bin, args...)
		cmd = exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("velad %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run(6*time.Minute, srv.host, "install", "--data-dir", srv.dataDir, "-o", kubeconfig, "--bind-ip", srv.host.IP.String(),
		"--node-name", "edge-server", "--disable-addon", "fluxcd", "--timeout", "4m")
	cs := nodeClient(t, filepath.Join(srv.dataDir, "server/cred/admin-external.kubeconfig"))
	kubectl := func(args ...string) string {
		t.Helper()
		return run(time.Minute, srv.host, append([]string{"kubectl", "--kubeconfig", kubeconfig}, args...)...)
	}
	kubectl("apply", "-f", "../examples/edge/nodepools.yaml", "-f", "../examples/edge/edge-pool-trait.yaml")
	supervisor := "https://" + srv.host.IP.String() + ":9345"
	token := func(args ...string) string {
		t.Helper()
		return strings.TrimSpace(run(time.Minute, srv.host, append([]string{"token", "create", "--data-dir", srv.dataDir}, args...)...))
	}

	startAgent := func(a *edgeNode, name, tok string) {
		t.Helper()
		f, err := os.OpenFile(a.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		a.cmd = inNetns(a.host, bin, "agent", "--server", supervisor, "--token", tok, "--data-dir", a.dataDir, "--node-name", name)
		a.cmd.Stdout, a.cmd.Stderr = f, f
		if err := a.cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	stopAgent := func(a *edgeNode) {
		if a.cmd == nil || a.cmd.Process == nil {
			return
		}
		_ = a.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = a.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			_ = a.cmd.Process.Kill()
			<-done
		}
		a.cmd = nil
	}
	agents := map[string]*edgeNode{}
	for _, pool := range []string{"beijing", "shanghai"} {
		a := &edgeNode{host: network.AddHost(t), dataDir: filepath.Join(dir, pool), log: filepath.Join(dir, pool+".log")}
		agents[pool] = a
		t.Cleanup(func() {
			stopAgent(a)
			_, _ = inNetns(a.host, bin, "uninstall", "--data-dir", a.dataDir).CombinedOutput()
			if t.Failed() {
				data, _ := os.ReadFile(a.log)
				if len(data) > 6000 {
					data = data[len(data)-6000:]
				}
				t.Logf("agent %s log (tail):\n%s", pool, data)
			}
		})
	}
	oneTime := token("--node-pool", "shanghai", "--one-time")
	startAgent(agents["beijing"], "bj-1", token("--node-pool", "beijing", "--description", "e2e beijing"))
	startAgent(agents["shanghai"], "sh-1", oneTime)
	ctx := context.Background()

	t.Run("agents join their pools Ready, with the pools' labels and taints", func(t *testing.T) {
		for name, pool := range map[string]string{"bj-1": "beijing", "sh-1": "shanghai"} {
			waitFor(t, 3*time.Minute, "node "+name+" Ready", func() bool { return nodeIsReady(ctx, cs, name) })
			n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := n.Labels["apps.openyurt.io/nodepool"]; got != pool {
				t.Errorf("node %s: label apps.openyurt.io/nodepool = %q, want %q", name, got, pool)
			}
			want := corev1.Taint{Key: "apps.openyurt.io/example", Value: pool, Effect: corev1.TaintEffectNoSchedule}
			if !slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.MatchTaint(&want) && t.Value == pool }) {
				t.Errorf("node %s: taints %v lack %v", name, n.Spec.Taints, want)
			}
		}
		waitFor(t, time.Minute, "NodePool beijing lists bj-1", func() bool {
			return strings.TrimSpace(kubectlQuiet(srv.host, bin, kubeconfig, "get", "nodepool", "beijing", "-o", "jsonpath={.status.nodes}")) == `["bj-1"]`
		})
		if out := run(time.Minute, srv.host, "token", "list", "--data-dir", srv.dataDir); !strings.Contains(out, "e2e beijing") || strings.Contains(out, strings.SplitN(oneTime, ".", 2)[1]) {
			t.Errorf("token list shows no description, or a secret:\n%s", out)
		}
	})

	t.Run("refused tokens register nothing", func(t *testing.T) {
		expired := token("--ttl", "1s")
		revoked := token()
		id := revoked[strings.Index(revoked, "::")+2 : strings.Index(revoked, ".")]
		run(time.Minute, srv.host, "token", "revoke", "--data-dir", srv.dataDir, id)
		good := token()
		wrongCA := "K10" + strings.Repeat("0", 64) + good[strings.Index(good, "::"):]
		time.Sleep(2 * time.Second)
		cases := []struct{ name, token, pool, node, want string }{
			{"used one-time", oneTime, "", "", "already been used"},
			{"expired", expired, "", "", "expired"},
			{"revoked", revoked, "", "", "unknown or was revoked"},
			{"wrong CA hash", wrongCA, "", "", "not the server the token was made for"},
			{"wrong pool", token("--node-pool", "beijing"), "shanghai", "", `bound to node pool "beijing", not "shanghai"`},
			{"a name another machine registered", good, "", "bj-1", `node name "bj-1" is registered by another machine`},
		}
		for i, tc := range cases {
			node, registered := tc.node, tc.node != ""
			if !registered {
				node = fmt.Sprintf("refused-%d", i)
			}
			dataDir := filepath.Join(dir, fmt.Sprintf("refused-%d", i))
			args := []string{"agent", "--server", supervisor, "--token", tc.token, "--data-dir", dataDir, "--node-name", node, "--lb-server-port", "6555"}
			if tc.pool != "" {
				args = append(args, "--node-pool", tc.pool)
			}
			agentCtx, cancel := context.WithTimeout(ctx, time.Minute)
			c := inNetns(agents["beijing"].host, bin, args...)
			out, err := exec.CommandContext(agentCtx, c.Path, c.Args[1:]...).CombinedOutput()
			cancel()
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Errorf("%s token: err %v, output lacks %q:\n%s", tc.name, err, tc.want, out)
			}
			if registered {
				if n, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{}); err != nil || !nodeIsReady(ctx, cs, node) {
					t.Errorf("%s: the registered node %s is gone or NotReady (%v, %v)", tc.name, node, n, err)
				}
			} else {
				if _, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					t.Errorf("%s token: node %s exists (%v)", tc.name, node, err)
				}
				if _, err := cs.CoreV1().Secrets("kube-system").Get(ctx, node+".node-password.velad", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					t.Errorf("%s token: a node password was recorded for %s (%v)", tc.name, node, err)
				}
			}
			if _, err := os.Stat(filepath.Join(dataDir, "agent", "join.json")); !os.IsNotExist(err) {
				t.Errorf("%s: the refused agent kept a join state (%v)", tc.name, err)
			}
			_ = os.RemoveAll(dataDir)
		}
	})

	t.Run("the replication example puts one pod per pool on that pool's nodes", func(t *testing.T) {
		kubectl("apply", "-f", "../examples/edge/app.yaml")
		waitFor(t, 3*time.Minute, "one Running hello pod per pool", func() bool {
			pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app.oam.dev/component=hello"})
			if err != nil || len(pods.Items) != 2 {
				return false
			}
			on := map[string]string{}
			for _, p := range pods.Items {
				if !podReady(&p) {
					return false
				}
				on[p.Labels["app.oam.dev/replicaKey"]] = p.Spec.NodeName
			}
			return on["beijing"] == "bj-1" && on["shanghai"] == "sh-1"
		})
	})

	t.Run("pods reach pods on other nodes, ClusterIP services and DNS", func(t *testing.T) {
		target := podOf(t, cs, "shanghai")
		svc, err := cs.CoreV1().Services("default").Create(ctx, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "hello-shanghai-e2e"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app.oam.dev/replicaKey": "shanghai"},
				Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		client := podOf(t, cs, "beijing").Name
		exec := func(args ...string) string {
			return kubectlQuiet(srv.host, bin, kubeconfig, append([]string{"exec", client, "--", "/hello"}, args...)...)
		}
		waitFor(t, time.Minute, "pod on bj-1 gets the pod on sh-1", func() bool {
			return strings.Contains(exec("get", "http://"+target.Status.PodIP+":8080/x"), "from "+target.Name)
		})
		waitFor(t, time.Minute, "pod on bj-1 gets a ClusterIP service", func() bool {
			return strings.Contains(exec("get", "http://"+svc.Spec.ClusterIP+"/y"), "from "+target.Name)
		})
		waitFor(t, time.Minute, "pod on bj-1 resolves cluster DNS", func() bool {
			return strings.Contains(exec("lookup", "hello-shanghai-e2e.default.svc.cluster.local", svc.Spec.ClusterIP), svc.Spec.ClusterIP)
		})
	})

	t.Run("kill -9 of an agent: NotReady, then Ready again with its pod back", func(t *testing.T) {
		a := agents["beijing"]
		before := podOf(t, cs, "beijing").Name
		if err := a.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = a.cmd.Wait()
		a.cmd = nil
		waitFor(t, 3*time.Minute, "bj-1 NotReady", func() bool { return !nodeIsReady(ctx, cs, "bj-1") })
		startAgent(a, "bj-1", "K10"+strings.Repeat("f", 64)+"::unused:unused") // restarts from its stored join
		waitFor(t, 3*time.Minute, "bj-1 Ready again", func() bool { return nodeIsReady(ctx, cs, "bj-1") })
		waitFor(t, 2*time.Minute, "the beijing pod Ready on bj-1", func() bool {
			p, err := cs.CoreV1().Pods("default").Get(ctx, before, metav1.GetOptions{})
			return err == nil && podReady(p) && p.Spec.NodeName == "bj-1"
		})
	})

	t.Run("an agent's uninstall removes its Node and leaves nothing in its namespace", func(t *testing.T) {
		a := agents["shanghai"]
		stopAgent(a)
		out, err := inNetns(a.host, bin, "uninstall", "--data-dir", a.dataDir).CombinedOutput()
		if err != nil {
			t.Fatalf("uninstall: %v\n%s", err, out)
		}
		if _, err := cs.CoreV1().Nodes().Get(ctx, "sh-1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("node sh-1 still exists (%v)", err)
		}
		links, _ := exec.Command("ip", "-n", a.host.Name, "-o", "link", "show").CombinedOutput()
		for _, dev := range []string{"cni0", "flannel.1", "veth"} {
			if strings.Contains(string(links), dev) {
				t.Errorf("%s left in %s:\n%s", dev, a.host.Name, links)
			}
		}
		rules, _ := exec.Command("ip", "netns", "exec", a.host.Name, "iptables-save").CombinedOutput()
		for _, chain := range []string{"KUBE-", "CNI-"} {
			if strings.Contains(string(rules), chain) {
				t.Errorf("iptables chains %s* left in %s", chain, a.host.Name)
			}
		}
		if _, err := os.Stat(a.dataDir); !os.IsNotExist(err) {
			t.Errorf("data dir %s left (%v)", a.dataDir, err)
		}
		if ps, _ := exec.Command("pgrep", "-f", a.dataDir).CombinedOutput(); strings.TrimSpace(string(ps)) != "" {
			t.Errorf("processes of %s left: %s", a.dataDir, ps)
		}
	})

	t.Run("velad join installs an agent daemon of its own; uninstall removes it", func(t *testing.T) {
		h := network.AddHost(t)
		dataDir := filepath.Join(dir, "joined")
		serverArgs, _ := os.ReadFile("/etc/velad/server.args")
		t.Cleanup(func() { _, _ = inNetns(h, bin, "uninstall", "--data-dir", dataDir).CombinedOutput() })
		if out, err := inNetns(h, bin, "join", "--server", supervisor, "--token", "K10"+strings.Repeat("0", 64)+"::x.y", "--data-dir", srv.dataDir, "--node-name", "bj-2").CombinedOutput(); err == nil || !strings.Contains(string(out), "velad server is installed on") {
			t.Errorf("join on the server's data dir: err %v, output:\n%s", err, out)
		}
		out := run(6*time.Minute, h, "join", "--server", supervisor, "--token", token("--node-pool", "beijing"), "--data-dir", dataDir, "--node-name", "bj-2", "--timeout", "4m")
		if !strings.Contains(out, "node bj-2 joined") {
			t.Errorf("join output:\n%s", out)
		}
		if !nodeIsReady(ctx, cs, "bj-2") {
			t.Fatalf("node bj-2 not Ready after velad join:\n%s", out)
		}
		for _, f := range []string{"agent/bin/velad", "agent/etc/agent.args", "agent/velad-agent.log", "run/agent-supervisor.pid"} {
			if _, err := os.Stat(filepath.Join(dataDir, f)); err != nil {
				t.Errorf("the agent daemon's %s is not in its data dir: %v", f, err)
			}
		}
		if after, _ := os.ReadFile("/etc/velad/server.args"); string(after) != string(serverArgs) {
			t.Errorf("velad join changed the server daemon's arguments:\n%s\nto\n%s", serverArgs, after)
		}
		if ps, _ := exec.Command("pgrep", "-f", dataDir+"/agent/bin/velad agent").CombinedOutput(); strings.TrimSpace(string(ps)) == "" {
			t.Errorf("no velad agent of %s runs", dataDir)
		}
		out2, err := inNetns(h, bin, "uninstall", "--data-dir", dataDir).CombinedOutput()
		if err != nil {
			t.Fatalf("uninstall: %v\n%s", err, out2)
		}
		if _, err := cs.CoreV1().Nodes().Get(ctx, "bj-2", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("node bj-2 still exists (%v)", err)
		}
		if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
			t.Errorf("data dir %s left (%v)", dataDir, err)
		}
		if ps, _ := exec.Command("pgrep", "-af", dataDir).CombinedOutput(); strings.TrimSpace(string(ps)) != "" {
			t.Errorf("processes of %s left: %s", dataDir, ps)
		}
		if !nodeIsReady(ctx, cs, "edge-server") {
			t.Error("the server's node is not Ready after an agent's uninstall")
		}
	})
}

func nodeIsReady(ctx context.Context, cs kubernetes.Interface, name string) bool {
	n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podOf returns the replicated hello pod of pool.
func podOf(t *testing.T, cs kubernetes.Interface, pool string) *corev1.Pod {
	t.Helper()
	pods, err := cs.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{LabelSelector: "app.oam.dev/component=hello,app.oam.dev/replicaKey=" + pool})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("hello pods of %s: %v (%d)", pool, err, len(pods.Items))
	}
	return &pods.Items[0]
}

// kubectlQuiet runs velad kubectl in h's namespace and returns its output,
// whatever the outcome (for polling).
func kubectlQuiet(h *testenv.Host, bin, kubeconfig string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := inNetns(h, bin, append([]string{"kubectl", "--kubeconfig", kubeconfig}, args...)...)
	out, _ := exec.CommandContext(ctx, c.Path, c.Args[1:]...).CombinedOutput()
	return string(out)
}
