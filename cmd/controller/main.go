// Command controller is the velad application controller (the
// controller image's entry point).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/velad-dev/velad/controller/app"
	"github.com/velad-dev/velad/controller/manager"
	"github.com/velad-dev/velad/controller/render"
)

// sandboxArg runs the binary as a render sandbox process (render.Sandbox).
const sandboxArg = "render-sandbox"

func main() {
	if len(os.Args) == 2 && os.Args[1] == sandboxArg {
		if err := render.ServeSandbox(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "velad controller render sandbox:", err)
			os.Exit(1)
		}
		return
	}
	var o manager.Options
	var sandbox bool
	var renderMemoryMiB uint64
	var qps float64
	flag.StringVar(&o.MetricsAddr, "metrics-bind-address", ":8080", `Prometheus metrics address ("0" to disable)`)
	flag.BoolVar(&o.MetricsSecure, "metrics-secure", true, "serve metrics over HTTPS to clients the API server authenticates and authorizes (get /metrics); false: plain HTTP to anyone")
	crossNS := flag.String("cross-namespace-apps", strings.Join(app.DefaultCrossNamespace, ","), `namespaces whose applications may write outside their own namespace and make cluster-scoped objects (comma-separated; "*": every namespace)`)
	flag.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":8081", "/healthz and /readyz address")
	flag.BoolVar(&o.LeaderElection, "leader-elect", true, "elect a leader among replicas")
	flag.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", os.Getenv("POD_NAMESPACE"), "namespace of the leader lease")
	flag.IntVar(&o.Workers, "concurrent-reconciles", app.DefaultWorkers, "applications reconciled at once")
	flag.Float64Var(&qps, "kube-api-qps", manager.DefaultQPS, "requests per second to the API server (client-side limit; -1: none)")
	flag.IntVar(&o.Burst, "kube-api-burst", manager.DefaultBurst, "request burst to the API server")
	flag.DurationVar(&o.Resync, "resync-interval", 0, "periodic reconcile of every application (default 5m)")
	flag.IntVar(&o.RevisionLimit, "application-revision-limit", 10, "ApplicationRevisions kept per application")
	flag.BoolVar(&o.InstallDefinitions, "install-definitions", true, "install the built-in definitions into vela-system at start")
	flag.IntVar(&o.WebhookPort, "webhook-port", 0, "serve the Application admission webhook on this port (0: off)")
	flag.StringVar(&o.WebhookCertDir, "webhook-cert-dir", "/etc/velad-controller/webhook", "folder with the webhook's tls.crt and tls.key")
	flag.BoolVar(&sandbox, "render-sandbox", true, "compile and evaluate definitions that are not built-ins in a sandbox process first, under the render budget")
	flag.DurationVar(&o.RenderBudget.Time, "render-timeout", render.DefaultBudgetTime, "render budget: the longest one definition may take to compile or evaluate")
	flag.Uint64Var(&renderMemoryMiB, "render-memory-limit", render.DefaultBudgetMemory>>20, "render budget: the most memory (MiB) the sandbox may hold for one definition")
	zopts := zap.Options{}
	zopts.BindFlags(flag.CommandLine)
	flag.Parse()
	o.QPS = float32(qps)
	o.CrossNamespace = []string{}
	for _, ns := range strings.Split(*crossNS, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			o.CrossNamespace = append(o.CrossNamespace, ns)
		}
	}
	o.RenderBudget.Memory = renderMemoryMiB << 20
	if sandbox {
		self, err := os.Executable()
		if err != nil {
			fmt.Fprintln(os.Stderr, "velad controller:", err)
			os.Exit(1)
		}
		o.RenderSandbox = func() *exec.Cmd { return exec.Command(self, sandboxArg) }
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zopts)))

	mgr, err := manager.New(ctrl.GetConfigOrDie(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "velad controller:", err)
		os.Exit(1)
	}
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		fmt.Fprintln(os.Stderr, "velad controller:", err)
		os.Exit(1)
	}
}
