package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/velad-dev/velad/embedded"
	"github.com/velad-dev/velad/embedded/config"
)

func newServerCommand() *cobra.Command {
	cfg := config.Default()
	var verbosity int
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the embedded Kubernetes in the foreground",
		Long: `Run the embedded Kubernetes in the foreground until SIGINT or SIGTERM.
The control plane (kine/SQLite, kube-apiserver, kube-controller-manager,
kube-scheduler) and the node (kubelet, kube-proxy; containerd as a child
process) start from this binary; the admin kubeconfig is written to
--write-kubeconfig and to the data dir.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			srv := &embedded.Server{Config: cfg, Reporter: logReporter{}}
			return runForeground(cmd.Context(), verbosity, srv.Run)
		},
	}
	addServerFlags(cmd.Flags(), &cfg)
	cmd.Flags().IntVarP(&verbosity, "v", "v", 0, "log verbosity of the Kubernetes components")
	return cmd
}

// runForeground runs a node process (velad server, velad agent) until
// SIGINT or SIGTERM, with the Kubernetes components' log verbosity set.
// One process holds a whole node: it collects garbage sooner than Go's
// default to keep its memory small (GOGC in the environment still wins).
func runForeground(parent context.Context, verbosity int, run func(context.Context) error) error {
	setVerbosity(verbosity)
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	ctx, stop := signalContext(parent)
	defer stop()
	return run(ctx)
}

// signalContext ends on the first SIGINT/SIGTERM; a second one exits at once.
func signalContext(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-ch
		klog.Infof("received %s, stopping (send it again to exit at once)", sig)
		cancel()
		<-ch
		fmt.Fprintln(os.Stderr, "velad: second signal, exiting without a clean stop")
		os.Exit(1)
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}

func setVerbosity(v int) {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("v", fmt.Sprint(v))
}

type logReporter struct{}

func (logReporter) Started(name string, took time.Duration) {
	klog.Infof("%s ready (%s)", name, took.Round(time.Millisecond))
}
