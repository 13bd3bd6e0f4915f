// Command workflow benchmarks the workflow engine: it starts an embedded
// control plane (a `velad server` process) and the controller in this
// process, creates one workflow-only application of -pairs apply-object +
// read-object step pairs (each read-object outputs the ConfigMap it
// reads; the next apply-object takes it as an input), and reports the
// time from creating it until its workflow succeeded and the reconciles
// of applications that took (controller_runtime_reconcile_total).
//
//	go run ./scripts/bench/workflow -velad bin/velad -pairs 10   # 20 steps
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/manager"
	"github.com/velad-dev/velad/scripts/bench/internal/benchenv"
)

func main() {
	bin := flag.String("velad", "bin/velad", "velad binary")
	pairs := flag.Int("pairs", 10, "apply-object + read-object step pairs")
	runs := flag.Int("runs", 3, "applications run one after another (each figure is printed)")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after")
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.Level(zapcore.ErrorLevel)))
	if err := run(*bin, *pairs, *runs, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(bin string, pairs, runs int, timeout time.Duration) error {
	env, err := benchenv.Start(bin, "workflow")
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
	mgr, err := manager.New(cfg, manager.Options{MetricsAddr: "0", ProbeAddr: "0"})
	if err != nil {
		return err
	}
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	ns := &corev1.Namespace{}
	ns.Name = "bench"
	if err := c.Create(ctx, ns); err != nil {
		return err
	}
	fmt.Printf("workflow of %d steps (%d apply-object + read-object pairs), GOMAXPROCS %d\n", 2*pairs, pairs, runtime.GOMAXPROCS(0))
	for i := 0; i < runs; i++ {
		app, err := benchApp(fmt.Sprintf("flow-%d", i), pairs)
		if err != nil {
			return err
		}
		before := reconciles()
		start := time.Now()
		if err := c.Create(ctx, app); err != nil {
			return err
		}
		for {
			got := &v1beta1.Application{}
			if err := c.Get(ctx, client.ObjectKeyFromObject(app), got); err != nil {
				return err
			}
			if wf := got.Status.Workflow; wf != nil && wf.Finished {
				if wf.Phase != "succeeded" {
					return fmt.Errorf("workflow of %s %s: %s", app.Name, wf.Phase, wf.Message)
				}
				break
			}
			if ctx.Err() != nil {
				return fmt.Errorf("workflow of %s not done after %s", app.Name, timeout)
			}
			time.Sleep(20 * time.Millisecond)
		}
		fmt.Printf("run %d: succeeded after %s, %.0f reconciles\n", i+1, time.Since(start).Round(time.Millisecond), reconciles()-before)
	}
	return nil
}

// benchApp is a workflow-only application of pairs apply-object +
// read-object steps.
func benchApp(name string, pairs int) (*v1beta1.Application, error) {
	y := fmt.Sprintf("metadata: {name: %s, namespace: bench}\nspec:\n  components: []\n  workflow:\n    steps:\n", name)
	for i := 0; i < pairs; i++ {
		in := ""
		if i > 0 {
			in = fmt.Sprintf("\n      inputs: [{from: v%d, parameterKey: value.data.previous}]", i-1)
		}
		y += fmt.Sprintf(`    - name: apply-%d
      type: apply-object%s
      properties: {value: {apiVersion: v1, kind: ConfigMap, metadata: {name: %s-%d}, data: {num: "%d"}}}
    - name: read-%d
      type: read-object
      properties: {apiVersion: v1, kind: ConfigMap, name: %s-%d}
      outputs: [{name: v%d, valueFrom: output.$returns.value.data.num}]
`, i, in, name, i, i, i, name, i, i)
	}
	app := &v1beta1.Application{}
	return app, yaml.UnmarshalStrict([]byte(y), app)
}

// reconciles is the controller's count of Application reconciles.
func reconciles() float64 {
	families, err := metrics.Registry.Gather()
	if err != nil {
		return 0
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == "application" {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}
