// Command rollout-controller is the rollout addon's controller (its
// image's entry point): canary releases on Kruise Rollout's API.
package main

import (
	"flag"
	"fmt"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/velad-dev/velad/operators/rollout/manager"
)

func main() {
	var o manager.Options
	var qps float64
	ns := os.Getenv("POD_NAMESPACE")
	if ns == "" {
		ns = "vela-system"
	}
	flag.StringVar(&o.MetricsAddr, "metrics-bind-address", ":8080", `Prometheus metrics address ("0" to disable)`)
	flag.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":9440", "/healthz and /readyz address")
	flag.BoolVar(&o.LeaderElection, "leader-elect", false, "elect a leader among replicas")
	flag.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", ns, "namespace of the leader lease")
	flag.IntVar(&o.Workers, "concurrent", 4, "Rollouts reconciled at once")
	flag.Float64Var(&qps, "kube-api-qps", 50, "requests per second to the API server (-1: no client-side limit)")
	flag.IntVar(&o.WebhookPort, "webhook-port", 0, "port of the v1alpha1↔v1beta1 conversion webhook (0: none)")
	flag.StringVar(&o.CertDir, "webhook-cert-dir", "/etc/rollout-controller/webhook", "directory with the webhook's tls.crt, tls.key and ca.crt")
	flag.IntVar(&o.Burst, "kube-api-burst", 100, "request burst to the API server")
	zopts := zap.Options{}
	zopts.BindFlags(flag.CommandLine)
	flag.Parse()
	o.QPS = float32(qps)
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zopts)))

	mgr, err := manager.New(ctrl.GetConfigOrDie(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rollout-controller:", err)
		os.Exit(1)
	}
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		fmt.Fprintln(os.Stderr, "rollout-controller:", err)
		os.Exit(1)
	}
}
