// Command rollout measures the rollout addon on an installed velad (root,
// the ingress and rollout addons enabled), with the canary demo
// (examples/rollout) behind Traefik on 127.0.0.1:80:
//
//   - the time from approving a step (`velad workflow resume` returns) to
//     the new weight serving: for a share below 100 %, 20 requests in a row
//     answered with the step's share of the new version (± 10 points); for
//     100 %, 50 requests in a row all answered by the new version (the
//     ± 10 window would take the previous step's 90 % for 100 %);
//
//   - failed requests (errors and non-2xx) during a full release v1 → v2
//     (20 %, 90 %, 100 %, promotion) under a steady load.
//
//     go run ./scripts/bench/rollout -velad bin/velad -kubeconfig /etc/velad/velad.yaml
//
// It deploys the app canary-demo and deletes it at the end.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const host = "canary.local"

func main() {
	bin := flag.String("velad", "bin/velad", "velad binary")
	kubeconfig := flag.String("kubeconfig", "/etc/velad/velad.yaml", "admin kubeconfig of the installed velad")
	rate := flag.Int("rate", 200, "steady load, requests per second")
	example := flag.String("example", "examples/rollout", "the canary demo's folder")
	flag.Parse()
	if err := run(*bin, *kubeconfig, *example, *rate); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(bin, kubeconfig, example string, rate int) error {
	velad := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command(bin, append(args, "--kubeconfig", kubeconfig)...)
		if stdin != "" {
			cmd.Stdin = strings.NewReader(stdin)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("velad %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out), nil
	}
	app, err := os.ReadFile(filepath.Join(example, "app.yaml"))
	if err != nil {
		return err
	}
	up := func(version string, wait bool) error {
		args := []string{"up", "-f", "-"}
		if wait {
			args = append(args, "--wait", "--timeout", "3m")
		}
		_, err := velad(strings.Replace(string(app), "version: v1", "version: "+version, 1), args...)
		return err
	}
	if _, err := velad("", "chart", "push", filepath.Join(example, "hello"), "--force"); err != nil {
		return err
	}
	defer velad("", "delete", "canary-demo", "--wait")
	if err := up("v1", true); err != nil {
		return err
	}
	if err := waitShare("v1", 100, 2*time.Minute); err != nil {
		return err
	}
	rollout := func(jsonpath string) string {
		out, _ := velad("", "kubectl", "-n", "default", "get", "rollout", "hello", "-o", "jsonpath="+jsonpath)
		return strings.TrimSpace(out)
	}
	waitFor := func(what string, cond func() bool) error {
		deadline := time.Now().Add(3 * time.Minute)
		for time.Now().Before(deadline) {
			if cond() {
				return nil
			}
			time.Sleep(200 * time.Millisecond)
		}
		return fmt.Errorf("timed out waiting for %s", what)
	}
	paused := func(step string) func() bool {
		return func() bool {
			return rollout("{.status.canaryStatus.currentStepIndex}/{.status.canaryStatus.currentStepState}") == step+"/StepPaused"
		}
	}

	l := startLoad(rate)
	start := time.Now()
	if err := up("v2", false); err != nil {
		return err
	}
	if err := waitFor("step 1 paused", paused("1")); err != nil {
		return err
	}
	for _, s := range []struct {
		next   string
		weight int
	}{{"2", 90}, {"", 100}} {
		if _, err := velad("", "workflow", "resume", "canary-demo"); err != nil {
			return err
		}
		t0 := time.Now()
		wait := waitShare
		if s.weight == 100 {
			wait = waitAll
		}
		if err := wait("v2", s.weight, 30*time.Second); err != nil {
			return err
		}
		fmt.Printf("approve → %d%% serving: %.2f s\n", s.weight, time.Since(t0).Seconds())
		if s.next != "" {
			if err := waitFor("step "+s.next+" paused", paused(s.next)); err != nil {
				return err
			}
		}
	}
	if err := waitFor("release completed", func() bool { return rollout("{.status.phase}") == "Healthy" }); err != nil {
		return err
	}
	sent, failed, first := l.stop()
	fmt.Printf("full release v1 → v2 under %d req/s: %.1f s, %d requests, %d failed %s\n", rate, time.Since(start).Seconds(), sent, failed, first)
	return nil
}

// waitShare waits until 20 requests in a row give version a share within
// ± 10 points of weight.
func waitShare(version string, weight int, limit time.Duration) error {
	c := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		hits := 0
		for i := 0; i < 20; i++ {
			if body, err := get(c); err == nil && strings.Contains(body, "hello "+version+" from") {
				hits++
			}
		}
		if share := hits * 5; share >= weight-10 && share <= weight+10 {
			return nil
		}
	}
	return fmt.Errorf("%s never served %d%% within %s", version, weight, limit)
}

// allInARow requests in a row answered by the new version are taken as
// 100 % (at 90 % such a run has a chance of 0.9^50 ≈ 0.5 %).
const allInARow = 50

// waitAll waits until allInARow requests in a row are answered by version
// (weight is 100; kept for waitShare's signature).
func waitAll(version string, weight int, limit time.Duration) error {
	c := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(limit)
	for run := 0; time.Now().Before(deadline); {
		if body, err := get(c); err == nil && strings.Contains(body, "hello "+version+" from") {
			if run++; run == allInARow {
				return nil
			}
			continue
		}
		run = 0
	}
	return fmt.Errorf("%s never answered %d requests in a row (%d%%) within %s", version, allInARow, weight, limit)
}

func get(c *http.Client) (string, error) {
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("%s", resp.Status)
	}
	return string(b), err
}

type load struct {
	stopc        chan struct{}
	wg           sync.WaitGroup
	sent, failed atomic.Int64
	mu           sync.Mutex
	first        string
}

// startLoad sends rate requests a second, each on its own goroutine.
func startLoad(rate int) *load {
	l := &load{stopc: make(chan struct{})}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	tick := time.NewTicker(time.Second / time.Duration(rate))
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
				l.sent.Add(1)
				if _, err := get(c); err != nil {
					l.failed.Add(1)
					l.mu.Lock()
					if l.first == "" {
						l.first = "(first: " + err.Error() + ")"
					}
					l.mu.Unlock()
				}
			}()
		}
	}()
	return l
}

func (l *load) stop() (int64, int64, string) {
	close(l.stopc)
	l.wg.Wait()
	return l.sent.Load(), l.failed.Load(), l.first
}
