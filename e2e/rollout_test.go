package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRollout installs velad (the rollout addon is on by default, with
// ingress) and runs the canary demo (examples/rollout) through Traefik on
// 127.0.0.1:80 while a steady load counts failed requests: v1 → v2 at
// 20 %, resume → 90 %, resume → 100 % (canary objects gone); v2 → v3
// rolled back at 20 % → all v2. At each step the share of 200 requests
// answered by the new version is within ±10 points of the step's weight.
func TestRollout(t *testing.T) {
	v := installVelad(t)
	bin, dir, kubeconfig := v.bin, v.dir, v.kubeconfig
	velad := func(args ...string) string {
		return runOK(t, 2*time.Minute, bin, append(args, "--kubeconfig", kubeconfig)...)
	}
	example, _ := filepath.Abs("../examples/rollout")
	velad("chart", "push", filepath.Join(example, "hello"))
	app, err := os.ReadFile(filepath.Join(example, "app.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	up := func(version string, wait bool) {
		f := filepath.Join(dir, "app-"+version+".yaml")
		y := strings.Replace(string(app), "version: v1", "version: "+version, 1)
		if err := os.WriteFile(f, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"up", "-f", f}
		if wait {
			args = append(args, "--wait", "--timeout", "3m")
		}
		velad(args...)
	}
	const host = "canary.local"
	up("v1", true)
	assertAllFrom(t, host, "hello v1 from", 20)

	load := startLoad(t, host, 50)
	rollout := func(jsonpath string) string {
		return strings.TrimSpace(runOK(t, time.Minute, bin, "kubectl", "--kubeconfig", kubeconfig, "-n", "default",
			"get", "rollout", "hello", "-o", "jsonpath="+jsonpath))
	}
	waitStep := func(step string) {
		t.Helper()
		waitFor(t, 3*time.Minute, "rollout step "+step+" paused", func() bool {
			return rollout("{.status.canaryStatus.currentStepIndex}/{.status.canaryStatus.currentStepState}") == step+"/StepPaused"
		})
	}
	waitHealthy := func(msg string) {
		t.Helper()
		waitFor(t, 3*time.Minute, "rollout healthy ("+msg+")", func() bool {
			return rollout("{.status.phase}") == "Healthy" && strings.Contains(rollout("{.status.message}"), msg)
		})
	}
	assertShare := func(version string, weight int) {
		t.Helper()
		share := newShare(t, host, version, 200)
		if share < weight-10 || share > weight+10 {
			t.Errorf("%s answered %d%% of 200 requests, want %d%% ± 10", version, share, weight)
		}
		t.Logf("%s: %d%% of 200 requests (step weight %d%%)", version, share, weight)
	}

	mark := func(what string) { t.Logf("%s %s", time.Now().Format("15:04:05.000"), what) }
	// v1 → v2: 20 %, paused; the app says so.
	mark("v2 applied")
	up("v2", false)
	waitStep("1")
	assertShare("v2", 20)
	mark("after waitStep(1)")
	// The app notices the paused step when it next looks at its
	// Rollout (it polls while it waits for the component).
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		status := velad("status", "canary-demo")
		if strings.Contains(status, "workflowSuspending") && strings.Contains(status, "step 1") && strings.Contains(status, "20%") {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("velad status canary-demo does not show the paused step after 1m:\n%s", status)
			break
		}
	}
	mark("status shows step 1")
	mark("velad(workflow, resume, canary-demo)")
	velad("workflow", "resume", "canary-demo")
	waitStep("2")
	mark("after waitStep(2)")
	assertShare("v2", 90)
	mark("velad(workflow, resume, canary-demo)")
	velad("workflow", "resume", "canary-demo")
	waitHealthy("completed")
	mark("after waitHealthy(completed)")
	assertShare("v2", 100)
	for _, kind := range []string{"deployment", "service"} {
		out, err := exec.Command(bin, "kubectl", "--kubeconfig", kubeconfig, "-n", "default", "get", kind, "hello-canary").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "NotFound") {
			t.Errorf("%s hello-canary still there after the release: %s", kind, out)
		}
	}
	// Nothing to resume now.
	if out, err := exec.Command(bin, "workflow", "resume", "canary-demo", "--kubeconfig", kubeconfig).CombinedOutput(); err == nil {
		t.Errorf("velad workflow resume on an app that is not paused succeeded:\n%s", out)
	}

	// v2 → v3 at 20 %, rolled back: all v2 again.
	mark("up(v3, false)")
	up("v3", false)
	waitStep("1")
	assertShare("v3", 20)
	mark("v3 at step 1")
	mark("velad(workflow, rollback, canary-demo)")
	velad("workflow", "rollback", "canary-demo")
	waitHealthy("rolled back")
	mark("after waitHealthy(rolled back)")
	assertShare("v2", 100)

	sent, failed := load.stop()
	t.Logf("steady load: %d requests, %d failed", sent, failed)
	if failed > 0 {
		t.Errorf("%d of %d requests failed during the releases (the steps' times are logged above):\n%s", failed, sent, load.failuresSeen())
	}

	t.Run("v1alpha1", func(t *testing.T) { rolloutV1alpha1(t, bin, dir, kubeconfig) })
}

// rolloutV1alpha1: a Rollout written as rollouts.kruise.io/v1alpha1 (as
// KubeVela's kruise-rollout trait writes it) is stored as v1beta1, reads
// back in both versions, and drives a step; bad v1alpha1 steps are refused.
func rolloutV1alpha1(t *testing.T, bin, dir, kubeconfig string) {
	kubectl := func(args ...string) (string, error) {
		out, err := exec.Command(bin, append([]string{"kubectl", "--kubeconfig", kubeconfig, "-n", "default"}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	apply := func(name, y string) (string, error) {
		f := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(f, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		return kubectl("apply", "-f", f)
	}
	must := func(out string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return out
	}
	must(apply("alpha-deploy", `apiVersion: apps/v1
kind: Deployment
metadata: {name: alpha}
spec:
  replicas: 2
  selector: {matchLabels: {app: alpha}}
  template:
    metadata: {labels: {app: alpha}}
    spec:
      containers:
      - name: hello
        image: docker.io/velad/hello:v1
        imagePullPolicy: Never
        env: [{name: MESSAGE, value: hello v1}]
        readinessProbe: {httpGet: {path: /healthz, port: 8000}, periodSeconds: 1}
`))
	t.Cleanup(func() { kubectl("delete", "deployment", "alpha", "--ignore-not-found") })
	must(apply("alpha-rollout", `apiVersion: rollouts.kruise.io/v1alpha1
kind: Rollout
metadata: {name: alpha}
spec:
  objectRef:
    workloadRef: {apiVersion: apps/v1, kind: Deployment, name: alpha}
  strategy:
    canary:
      steps:
      - weight: 50
      - weight: 100
        pause: {duration: 0}
`))
	t.Cleanup(func() {
		kubectl("delete", "rollouts.v1beta1.rollouts.kruise.io", "alpha", "--ignore-not-found", "--wait")
	})
	get := func(version, jsonpath string) string {
		out, _ := kubectl("get", "rollouts."+version+".rollouts.kruise.io", "alpha", "-o", "jsonpath="+jsonpath)
		return out
	}
	if got := get("v1beta1", "{.spec.workloadRef.name} {.spec.strategy.canary.steps[*].traffic}"); got != "alpha 50% 100%" {
		t.Errorf("as v1beta1: workloadRef.name and traffic = %q, want \"alpha 50%% 100%%\"", got)
	}
	if got := get("v1alpha1", "{.spec.objectRef.workloadRef.name} {.spec.strategy.canary.steps[*].weight}"); got != "alpha 50 100" {
		t.Errorf("as v1alpha1: objectRef.workloadRef.name and weights = %q, want \"alpha 50 100\"", got)
	}
	waitFor(t, 2*time.Minute, "v1alpha1 rollout healthy", func() bool { return get("v1alpha1", "{.status.phase}") == "Healthy" })

	// A new template: step 1 (50 %) runs and waits for approval, as
	// v1alpha1 reports it; approved through the v1alpha1 status, it completes.
	must(kubectl("set", "env", "deployment/alpha", "MESSAGE=hello v2"))
	waitFor(t, 3*time.Minute, "v1alpha1 rollout step 1 paused", func() bool {
		return get("v1alpha1", "{.status.canaryStatus.currentStepIndex}/{.status.canaryStatus.currentStepState}") == "1/StepPaused"
	})
	if got := get("v1alpha1", "{.status.canaryStatus.canaryReadyReplicas}"); got != "1" {
		t.Errorf("canary ready replicas at 50%% of 2 = %q, want 1", got)
	}
	must(kubectl("patch", "rollouts.v1alpha1.rollouts.kruise.io", "alpha", "--subresource=status", "--type=merge",
		"-p", `{"status":{"canaryStatus":{"currentStepState":"StepReady"}}}`))
	waitFor(t, 3*time.Minute, "v1alpha1 rollout completed", func() bool {
		return get("v1beta1", "{.status.phase}") == "Healthy" && strings.Contains(get("v1beta1", "{.status.message}"), "completed")
	})

	// Bad steps are refused by the API server, nothing stored.
	for _, tc := range []struct{ name, steps, want string }{
		{"over 100", "[{weight: 120}]", "less than or equal to 100"},
		{"out of order", "[{weight: 50}, {weight: 20}]", "steps are out of order"},
	} {
		out, err := apply("alpha-bad", `apiVersion: rollouts.kruise.io/v1alpha1
kind: Rollout
metadata: {name: alpha-bad}
spec:
  objectRef:
    workloadRef: {apiVersion: apps/v1, kind: Deployment, name: alpha}
  strategy:
    canary:
      steps: `+tc.steps+"\n")
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("%s: kubectl apply = %v, %s; want refused with %q", tc.name, err, out, tc.want)
		}
		if out, err := kubectl("get", "rollout", "alpha-bad"); err == nil {
			t.Errorf("%s: the refused Rollout was stored: %s", tc.name, out)
		}
	}
}

// newShare sends n requests to host and returns the percentage answered
// by version ("hello <version> from …"); a failed request fails the test.
func newShare(t *testing.T, host, version string, n int) int {
	t.Helper()
	hits := 0
	for i := 0; i < n; i++ {
		body, err := get("http://127.0.0.1/", host)
		if err != nil {
			t.Fatalf("request %d to %s: %v", i, host, err)
		}
		if strings.Contains(body, "hello "+version+" from") {
			hits++
		}
	}
	return hits * 100 / n
}

// load sends requests to host at a steady rate and counts those that fail
// (an error or a status other than 2xx).
type load struct {
	stopc        chan struct{}
	wg           sync.WaitGroup
	sent, failed atomic.Int64
	mu           sync.Mutex
	failures     []string // the first 20: time and cause
}

func startLoad(t *testing.T, host string, perSecond int) *load {
	l := &load{stopc: make(chan struct{})}
	c := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(time.Second / time.Duration(perSecond))
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer tick.Stop()
		for {
			select {
			case <-l.stopc:
				return
			case <-tick.C:
			}
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
				req.Host = host
				l.sent.Add(1)
				resp, err := c.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode/100 == 2 {
						return
					}
					err = fmt.Errorf("%s", resp.Status)
				}
				l.failed.Add(1)
				l.mu.Lock()
				if len(l.failures) < 20 {
					l.failures = append(l.failures, time.Now().Format("15:04:05.000")+" "+err.Error())
				}
				l.mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() { l.stop() })
	return l
}

func (l *load) stop() (sent, failed int64) {
	select {
	case <-l.stopc:
	default:
		close(l.stopc)
	}
	l.wg.Wait()
	return l.sent.Load(), l.failed.Load()
}

// failuresSeen lists the first failed requests, one per line.
func (l *load) failuresSeen() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.failures, "\n")
}
