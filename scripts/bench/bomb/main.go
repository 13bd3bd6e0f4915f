// Command bomb measures the controller while a CUE-bomb definition (a
// list.Range over a parameter) is submitted again and again: it starts an
// embedded control plane (a `velad server` process) and the controller in
// this process with its render sandbox (this binary again), creates the
// bomb ComponentDefinition, then N applications that each set off the bomb
// with a different count (so no verdict is remembered), one after the
// other, each with an ordinary app beside it. It reports how long each bomb
// took to fail, that every ordinary app ran, the peak RSS of this process
// (controller + a small driver; VmHWM) and the largest sandbox process
// (getrusage of waited-for children).
//
//	go run ./scripts/bench/bomb -velad bin/velad -submits 10
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/manager"
	"github.com/velad-dev/velad/controller/render"
	"github.com/velad-dev/velad/scripts/bench/internal/benchenv"
)

const bombTemplate = `import "list"

output: {
	apiVersion: "v1"
	kind:       "ConfigMap"
	metadata: name: context.name
	data: count: "\(len(list.Range(0, parameter.count, 1)))"
}
parameter: count: int
`

func main() {
	if os.Getenv(render.SandboxEnv) == "1" {
		if err := render.ServeSandbox(os.Stdin, os.Stdout); err != nil {
			os.Exit(1)
		}
		return
	}
	bin := flag.String("velad", "bin/velad", "velad binary")
	submits := flag.Int("submits", 10, "bomb applications to submit")
	budget := flag.Duration("render-timeout", render.DefaultBudgetTime, "render budget: time")
	memMiB := flag.Uint64("render-memory-limit", render.DefaultBudgetMemory>>20, "render budget: memory (MiB)")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after")
	flag.Parse()
	// Quiet: stopping the manager at the end cancels reconciles in flight.
	ctrl.SetLogger(zap.New(zap.Level(zapcore.DPanicLevel)))
	if err := run(*bin, *submits, render.Budget{Time: *budget, Memory: *memMiB << 20}, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "bomb:", err)
		os.Exit(1)
	}
}

func run(bin string, submits int, budget render.Budget, timeout time.Duration) error {
	env, err := benchenv.Start(bin, "bomb")
	if err != nil {
		return err
	}
	defer env.Close()
	cfg := env.Config
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := env.Controller(ctx)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	mgr, err := manager.New(cfg, manager.Options{MetricsAddr: "0", ProbeAddr: "0", RenderBudget: budget,
		RenderSandbox: func() *exec.Cmd {
			cmd := exec.Command(self)
			cmd.Env = append(os.Environ(), render.SandboxEnv+"=1")
			return cmd
		}})
	if err != nil {
		return err
	}
	mctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		if err := mgr.Start(mctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	ns := &corev1.Namespace{}
	ns.Name = "bomb"
	if err := c.Create(ctx, ns); err != nil {
		return err
	}
	def := &v1beta1.ComponentDefinition{}
	def.Name, def.Namespace = "bomb", ns.Name
	def.Spec.Schematic = &v1beta1.Schematic{CUE: &v1beta1.CUE{Template: bombTemplate}}
	if err := c.Create(ctx, def); err != nil {
		return err
	}
	fmt.Printf("submitting the bomb %d times (render budget %s, %d MiB)\n", submits, budget.Time, budget.Memory>>20)
	base := procStatus("VmRSS")
	var worst time.Duration
	for i := range submits {
		start := time.Now()
		bomb := fmt.Sprintf("metadata: {name: boom-%d}\nspec: {components: [{name: cm, type: bomb, properties: {count: %d}}]}\n", i, 1_000_000_000+i)
		web := fmt.Sprintf("metadata: {name: web-%d}\nspec: {components: [{name: web-%d, type: webservice, properties: {image: nginx}, traits: [{type: scaler, properties: {replicas: 0}}]}]}\n", i, i)
		for _, y := range []string{bomb, web} {
			app, err := parse(y, ns.Name)
			if err != nil {
				return err
			}
			if err := c.Create(ctx, app); err != nil {
				return err
			}
		}
		msg, err := waitPhase(ctx, c, ns.Name, fmt.Sprintf("boom-%d", i), v1beta1.ApplicationWorkflowFailed)
		if err != nil {
			return err
		}
		if !strings.Contains(msg, "over its render budget") {
			return fmt.Errorf("boom-%d failed with %q, not over budget", i, msg)
		}
		took := time.Since(start)
		worst = max(worst, took)
		if _, err := waitPhase(ctx, c, ns.Name, fmt.Sprintf("web-%d", i), v1beta1.ApplicationRunning); err != nil {
			return err
		}
		fmt.Printf("  bomb %2d failed over budget after %s; its neighbour runs; VmRSS %d MiB\n", i+1, took.Round(time.Millisecond), procStatus("VmRSS")/1024)
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru)
	fmt.Printf("all %d bombs failed their apps (slowest %s); %d ordinary apps running; controller restarts: 0 (same process)\n", submits, worst.Round(time.Millisecond), submits)
	fmt.Printf("controller process: VmRSS %d MiB before the bombs, %d MiB now, peak (VmHWM) %d MiB; largest sandbox process (max RSS of the waited-for children: the ones killed over budget) %d MiB\n",
		base/1024, procStatus("VmRSS")/1024, procStatus("VmHWM")/1024, ru.Maxrss/1024)
	return nil
}

func parse(y, ns string) (*v1beta1.Application, error) {
	app := &v1beta1.Application{}
	if err := yaml.UnmarshalStrict([]byte(y), app); err != nil {
		return nil, err
	}
	app.Namespace = ns
	return app, nil
}

// waitPhase waits for the app to reach phase and returns its condition
// messages.
func waitPhase(ctx context.Context, c client.Client, ns, name string, phase v1beta1.ApplicationPhase) (string, error) {
	for {
		app := &v1beta1.Application{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, app); err != nil {
			return "", err
		}
		if app.Status.Phase == phase && app.Status.ObservedGeneration == app.Generation {
			var msgs []string
			for _, cond := range app.Status.Conditions {
				msgs = append(msgs, cond.Message)
			}
			return strings.Join(msgs, "; "), nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("app %s not %s: %w (phase %s)", name, phase, ctx.Err(), app.Status.Phase)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// procStatus reads a kB field of /proc/self/status.
func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb
		}
	}
	return 0
}
