package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/velad-dev/velad/internal/testenv"
)

const (
	helloImage = "docker.io/velad/hello:v1"
	// helloPods selects the pods of examples/hello.yaml's component.
	helloPods = "app.oam.dev/component=hello"
)

// diagnosticLogs are printed when a velad command fails.
var diagnosticLogs []string

// TestNodeLifecycle installs velad for real, runs pods from the images
// carried in the binary, survives kill -9 of the server, and uninstalls
// without leaving anything behind, even after another program stacked a
// bind mount over /run/netns while the pods ran.
func TestNodeLifecycle(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("installs velad on this machine: needs root (CI runs as root)")
	}
	testenv.LockHost(t)
	bin, err := testenv.Binary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	kubeconfig := filepath.Join(dir, "kubeconfig.yaml")
	diagnosticLogs = []string{filepath.Join(dataDir, "agent/containerd/containerd.log")}
	uninstalled := false
	t.Cleanup(func() {
		if !uninstalled {
			out, err := exec.Command(bin, "uninstall", "--data-dir", dataDir, "-o", kubeconfig).CombinedOutput()
			if err != nil {
				t.Errorf("cleanup uninstall: %v\n%s", err, out)
			}
		}
	})

	runOK(t, 6*time.Minute, bin, "install", "--data-dir", dataDir, "-o", kubeconfig, "--timeout", "4m")
	cs := nodeClient(t, kubeconfig)
	ctx := context.Background()

	// The controller came with install, from its chart and image in velad.
	if out := runOK(t, time.Minute, bin, "status", "--data-dir", dataDir); !strings.Contains(out, "✓ vela-system/velad-controller") {
		t.Fatalf("velad status does not show a healthy controller:\n%s", out)
	}

	// The README's quick start: the hello Application, delivered by the
	// controller, serves from the embedded hello image behind a ClusterIP.
	runOK(t, 3*time.Minute, bin, "up", "-f", "../examples/hello.yaml", "--kubeconfig", kubeconfig, "--wait", "--timeout", "2m")
	// Through the `vela` link install made, as KubeVela users type it.
	if out := runOK(t, time.Minute, "/usr/local/bin/vela", "status", "hello", "--kubeconfig", kubeconfig); !strings.Contains(out, "running") {
		t.Fatalf("vela status hello:\n%s", out)
	}
	svc := waitService(t, cs, "hello")
	waitPodsRunning(t, cs, helloPods)
	assertHTTP(t, "http://"+svc+"/", "Hello World")

	// The controller's admission webhook refuses an app that cannot render.
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata: {name: typo}\nspec:\n  components:\n  - {name: web, type: webserver, properties: {image: velad/hello:v1}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "up", "-f", bad, "--kubeconfig", kubeconfig).CombinedOutput(); err == nil ||
		!strings.Contains(string(out), `unknown component type "webserver"`) {
		t.Fatalf("velad up of an invalid app: err=%v, want the webhook's refusal:\n%s", err, out)
	}

	// Cluster DNS resolves the Service to its ClusterIP from inside a pod.
	runPodToSuccess(t, cs, "dns-check", []string{"/hello", "lookup", "hello.default.svc.cluster.local", svc[:strings.Index(svc, ":")]}, nil)

	// A local-path volume binds and a pod writes to it.
	createPVCWriter(t, cs)
	waitPodsRunning(t, cs, "app=writer")
	hostFile := findVolumeFile(t, dataDir, "hello.txt")
	if got, _ := os.ReadFile(hostFile); string(got) != "persisted" {
		t.Fatalf("volume file = %q", got)
	}

	// kill -9 the server: the supervisor starts it again, pods and data survive.
	server := serverPID(t, dataDir)
	nodeName := onlyNode(t, cs)
	killed := time.Now()
	if err := syscall.Kill(server, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Minute, "velad server restarted", func() bool {
		pid := findServerPID(dataDir)
		return pid != 0 && pid != server
	})
	// Back means the restarted kubelet heartbeats again (pod states in the
	// API are stale until then) and containerd answers.
	waitFor(t, 3*time.Minute, "kubelet heartbeat after the restart", func() bool {
		lease, err := cs.CoordinationV1().Leases("kube-node-lease").Get(ctx, nodeName, metav1.GetOptions{})
		return err == nil && lease.Spec.RenewTime != nil && lease.Spec.RenewTime.After(killed)
	})
	waitFor(t, time.Minute, "containerd after the restart", func() bool {
		return exec.Command(bin, "image", "ls", "--data-dir", dataDir).Run() == nil
	})
	waitPodsRunning(t, cs, helloPods)
	waitPodsRunning(t, cs, "app=writer")
	assertHTTP(t, "http://"+svc+"/", "Hello World")
	if got, _ := os.ReadFile(hostFile); string(got) != "persisted" {
		t.Fatalf("volume file after kill -9 = %q", got)
	}
	if _, err := cs.CoreV1().PersistentVolumeClaims("default").Get(ctx, "data", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}

	// velad status reports healthy once the system pods are back (the
	// controller's pod restarts with the node); kubectl and image ls see
	// the node.
	var out string
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
		o, err := exec.Command(bin, "status", "--data-dir", dataDir).CombinedOutput()
		if out = string(o); err == nil && !strings.Contains(out, "✗") && strings.Contains(out, "✓ kube-system/coredns") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("velad status not healthy within 2m of the restart:\n%s", out)
		}
	}
	if out := runOK(t, time.Minute, bin, "kubectl", "--kubeconfig", kubeconfig, "get", "nodes"); !strings.Contains(out, " Ready ") {
		t.Fatalf("velad kubectl get nodes:\n%s", out)
	}
	if out := runOK(t, time.Minute, bin, "image", "ls", "--data-dir", dataDir); !strings.Contains(out, helloImage) || !strings.Contains(out, "docker.io/velad/pause:3.10") {
		t.Fatalf("velad image ls:\n%s", out)
	}

	// velad stop, then velad start with 50 pods running: start returns
	// only once the node is Ready from a status its kubelet posted after
	// the start (not the condition left from before the stop), every pod
	// is Ready again without help, and the app serves again.
	createMany(t, cs, manyPods)
	waitReplicasReady(t, cs, "many", manyPods, 5*time.Minute)
	runOK(t, time.Minute, bin, "stop")
	startedAt := time.Now().Truncate(time.Second)
	runOK(t, 4*time.Minute, bin, "start", "--timeout", "3m")
	node, err := cs.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady && (c.Status != corev1.ConditionTrue || c.LastHeartbeatTime.Time.Before(startedAt)) {
			t.Fatalf("velad start returned before a fresh Ready status: %s, heartbeat %s, started %s", c.Status, c.LastHeartbeatTime, startedAt)
		}
	}
	waitReplicasReady(t, cs, "many", manyPods, 3*time.Minute)
	waitPodsRunning(t, cs, helloPods)
	assertHTTP(t, "http://"+svc+"/", "Hello World")
	if err := cs.AppsV1().Deployments("default").Delete(ctx, "many", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	// A velad server that keeps exiting (here: its API port taken while it
	// was stopped) makes velad start fail and velad status unhealthy, both
	// naming the cause; freed, the daemon recovers by itself.
	runOK(t, time.Minute, bin, "stop")
	squatter, err := net.Listen("tcp", "0.0.0.0:6443")
	if err != nil {
		t.Fatal(err)
	}
	startOut, err := exec.Command(bin, "start", "--timeout", "40s").CombinedOutput()
	if err == nil || !strings.Contains(string(startOut), "crash-looping") || !strings.Contains(string(startOut), "6443 is already in use") {
		squatter.Close()
		t.Fatalf("velad start with the API port taken: err=%v, want it to fail naming the crash loop and the port:\n%s", err, startOut)
	}
	statusOut, err := exec.Command(bin, "status", "--data-dir", dataDir).CombinedOutput()
	squatter.Close()
	if err == nil || !strings.Contains(string(statusOut), "✗ daemon") || !strings.Contains(string(statusOut), "6443 is already in use") {
		t.Fatalf("velad status of a crash-looping daemon: err=%v, want ✗ daemon with the cause:\n%s", err, statusOut)
	}
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(2 * time.Second) {
		o, err := exec.Command(bin, "status", "--data-dir", dataDir).CombinedOutput()
		if err == nil && !strings.Contains(string(o), "✗") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("velad did not recover within 3m of the port being freed:\n%s", o)
		}
	}
	waitPodsRunning(t, cs, helloPods)

	// Installing again on an installed machine is safe: same pods, same data.
	// It upgrades the controller's Helm release too: a changed value rolls
	// out, and install waits for the new pod.
	before := podUID(t, cs, "app=writer")
	runOK(t, 6*time.Minute, bin, "install", "--data-dir", dataDir, "-o", kubeconfig, "--timeout", "4m", "--set", "logLevel=debug")
	ctrlDep, err := cs.AppsV1().Deployments("vela-system").Get(ctx, "velad-controller", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if args := strings.Join(ctrlDep.Spec.Template.Spec.Containers[0].Args, " "); !strings.Contains(args, "--zap-log-level=debug") {
		t.Errorf("controller args after the upgrade: %s", args)
	}
	if ctrlDep.Status.UpdatedReplicas != 1 || ctrlDep.Status.AvailableReplicas != 1 || ctrlDep.Status.ObservedGeneration != ctrlDep.Generation {
		t.Errorf("install returned before the upgraded controller rolled out: %+v", ctrlDep.Status)
	}
	waitPodsRunning(t, cs, "app=writer")
	if after := podUID(t, cs, "app=writer"); after != before {
		t.Errorf("re-install replaced the writer pod (%s → %s)", before, after)
	}
	if got, _ := os.ReadFile(hostFile); string(got) != "persisted" {
		t.Fatalf("volume file after re-install = %q", got)
	}

	// A namespace added with iproute2 while the pods run hides their
	// namespaces under a new layer on /run/netns: uninstall still removes
	// every one of them, and leaves the test's own namespace alone. A pod
	// deleted after that cannot be stopped by containerd (its namespace is
	// busy) and is left to uninstall too.
	own := addNamespaceOverPods(t)
	if err := cs.CoreV1().Pods("default").DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: helloPods}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, "a deleted pod's namespace left hidden with no copy on its path", func() bool { return len(onlyHiddenPodNetns(t)) > 0 })

	runOK(t, 5*time.Minute, bin, "uninstall", "--data-dir", dataDir, "-o", kubeconfig)
	uninstalled = true
	assertNoLeftovers(t, dataDir, kubeconfig)
	assertNoPodNetns(t)
	assertNamespaceUsable(t, own)
}

func onlyNode(t *testing.T, cs kubernetes.Interface) string {
	t.Helper()
	nodes, err := cs.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil || len(nodes.Items) != 1 {
		t.Fatalf("nodes: %v (%d)", err, len(nodes.Items))
	}
	return nodes.Items[0].Name
}

func podUID(t *testing.T, cs kubernetes.Interface, selector string) string {
	t.Helper()
	pods, err := cs.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods %s: %v (%d)", selector, err, len(pods.Items))
	}
	return string(pods.Items[0].UID)
}

func runOK(t *testing.T, limit time.Duration, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		var logs strings.Builder
		if log, err := os.ReadFile("/var/log/velad.log"); err == nil {
			// velad's own lines (not the components'), where restarts show.
			fmt.Fprintln(&logs, "--- velad lines of /var/log/velad.log")
			for _, line := range strings.Split(string(log), "\n") {
				if strings.HasPrefix(line, "velad") || strings.Contains(line, "server.go:9") || strings.Contains(line, "server.go:7") {
					fmt.Fprintln(&logs, line)
				}
			}
		}
		for _, f := range append([]string{"/var/log/velad.log"}, diagnosticLogs...) {
			data, _ := os.ReadFile(f)
			if len(data) > 4000 {
				data = data[len(data)-4000:]
			}
			fmt.Fprintf(&logs, "--- %s (tail)\n%s\n", f, data)
		}
		t.Fatalf("velad %s: %v\n%s\n%s", strings.Join(args, " "), err, out, logs.String())
	}
	return string(out)
}

func nodeClient(t *testing.T, kubeconfig string) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 15 * time.Second
	return kubernetes.NewForConfigOrDie(cfg)
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("%s: not within %s", what, limit)
}

// waitService returns the Service's ClusterIP:port.
func waitService(t *testing.T, cs kubernetes.Interface, name string) string {
	t.Helper()
	s, err := cs.CoreV1().Services("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s.Spec.ClusterIP + ":" + strconv.Itoa(int(s.Spec.Ports[0].Port))
}

func waitPodsRunning(t *testing.T, cs kubernetes.Interface, selector string) {
	t.Helper()
	var last string
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		pods, err := cs.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{LabelSelector: selector})
		if err == nil && len(pods.Items) > 0 {
			ready := true
			for _, p := range pods.Items {
				last = fmt.Sprintf("%s: %s %v", p.Name, p.Status.Phase, p.Status.ContainerStatuses)
				if p.Status.Phase != corev1.PodRunning || !podReady(&p) {
					ready = false
				}
			}
			if ready {
				return
			}
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("pods %s not running within 3m: %s", selector, last)
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func runPodToSuccess(t *testing.T, cs kubernetes.Interface, name string, command []string, volumes []corev1.Volume) {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: name, Image: helloImage, Command: command}},
			Volumes:       volumes,
		},
	}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var phase corev1.PodPhase
	waitFor(t, 2*time.Minute, "pod "+name+" to finish", func() bool {
		p, err := cs.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		phase = p.Status.Phase
		return phase == corev1.PodSucceeded || phase == corev1.PodFailed
	})
	if phase != corev1.PodSucceeded {
		t.Fatalf("pod %s %s", name, phase)
	}
}

func createPVCWriter(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "default"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("64Mi")}},
		},
	}
	if _, err := cs.CoreV1().PersistentVolumeClaims("default").Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "writer"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "writer", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name: "writer", Image: helloImage, Args: []string{"write", "/data/hello.txt", "persisted"},
						VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
					}},
					Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
						PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"},
					}}},
				},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func findVolumeFile(t *testing.T, dataDir, name string) string {
	t.Helper()
	var found string
	waitFor(t, time.Minute, "the volume file on the host", func() bool {
		matches, _ := filepath.Glob(filepath.Join(dataDir, "storage", "*", name))
		if len(matches) == 1 {
			found = matches[0]
			return true
		}
		return false
	})
	return found
}

func assertHTTP(t *testing.T, url, want string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	var last string
	// Pods are Ready by now, but the Service's rules follow through the
	// EndpointSlice controller and kube-proxy, which lag under load.
	for i := 0; i < 90; i++ {
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), want) {
				return
			}
			last = fmt.Sprintf("%s: %q", resp.Status, body)
		} else {
			last = err.Error()
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("GET %s: %s\n%s", url, last, serviceRules(url))
}

// serviceRules prints kube-proxy's rules for the address of url (NAT and
// filter), to tell a Service without endpoints (REJECT) from a pod that
// refuses.
func serviceRules(url string) string {
	host := strings.TrimPrefix(url, "http://")
	if i := strings.IndexAny(host, ":/"); i >= 0 {
		host = host[:i]
	}
	var rules []string
	for _, table := range []string{"nat", "filter"} {
		out, err := exec.Command("iptables-save", "-t", table).CombinedOutput()
		if err != nil {
			rules = append(rules, fmt.Sprintf("iptables-save -t %s: %v", table, err))
			continue
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, host) {
				rules = append(rules, table+": "+line)
			}
		}
	}
	return "kube-proxy's rules for " + host + ":\n" + strings.Join(rules, "\n")
}

// findServerPID finds the `velad server` process of dataDir.
func findServerPID(dataDir string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 2 && strings.HasSuffix(args[0], "velad") && args[1] == "server" && strings.Contains(string(cmdline), "--data-dir="+dataDir) {
			return pid
		}
	}
	return 0
}

func serverPID(t *testing.T, dataDir string) int {
	t.Helper()
	pid := findServerPID(dataDir)
	if pid == 0 {
		t.Fatal("no velad server process found")
	}
	return pid
}

func assertNoLeftovers(t *testing.T, dataDir, kubeconfig string) {
	t.Helper()
	for _, path := range []string{dataDir, kubeconfig, "/etc/velad", "/usr/local/bin/velad", "/run/velad"} {
		if _, err := os.Stat(path); err == nil {
			t.Errorf("left behind: %s", path)
		}
	}
	for _, link := range []string{"/usr/local/bin/vela", "/usr/local/bin/kubectl"} {
		if dest, err := os.Readlink(link); err == nil && dest == "/usr/local/bin/velad" {
			t.Errorf("left behind: %s -> %s", link, dest)
		}
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), dataDir) {
		t.Errorf("mounts left under %s", dataDir)
	}
	if _, err := os.Stat("/sys/class/net/cni0"); err == nil {
		t.Error("cni0 left behind")
	}
	if entries, _ := os.ReadDir("/var/run/netns"); len(entries) > 0 {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "cni-") {
				t.Errorf("network namespace %s left behind", e.Name())
			}
		}
	}
	for _, tool := range []string{"iptables-save", "ip6tables-save"} {
		out, err := exec.Command(tool).Output()
		if err == nil && (strings.Contains(string(out), "KUBE-") || strings.Contains(string(out), "CNI-")) {
			t.Errorf("%s still shows KUBE-/CNI- rules", tool)
		}
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && strings.HasPrefix(exe, dataDir) {
			t.Errorf("process %s (%s) left behind", e.Name(), exe)
		}
		if cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && strings.Contains(string(cmdline), dataDir) {
			t.Errorf("process %s (%q) left behind", e.Name(), strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
}

// manyPods run through velad stop / velad start (issue: restarts with
// ~50 pods crash-looped).
const manyPods = 50

// createMany runs n small hello pods with a readiness probe, so Ready
// means the container answers.
func createMany(t *testing.T, cs kubernetes.Interface, n int32) {
	t.Helper()
	labels := map[string]string{"app": "many"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "many", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &n,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: ptr.To[int64](1),
					Containers: []corev1.Container{{
						Name: "hello", Image: helloImage, ImagePullPolicy: corev1.PullNever,
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8000)}},
							PeriodSeconds: 2,
						},
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU: resource.MustParse("1m"), corev1.ResourceMemory: resource.MustParse("8Mi")}},
					}},
				},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments("default").Create(context.Background(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitReplicasReady waits until n pods of the Deployment are Running
// and Ready.
func waitReplicasReady(t *testing.T, cs kubernetes.Interface, name string, n int, timeout time.Duration) {
	t.Helper()
	ready := 0
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(time.Second) {
		pods, err := cs.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + name})
		if err != nil {
			continue
		}
		ready = 0
		for i := range pods.Items {
			if p := &pods.Items[i]; p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && podReady(p) {
				ready++
			}
		}
		if ready == n {
			return
		}
	}
	t.Fatalf("%d of %d pods of %s Ready after %s", ready, n, name, timeout)
}
