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
	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/velad-dev/velad/embedded"
	"github.com/velad-dev/velad/embedded/config"
)

// addServerFlags binds the flags shared by `server` (and later `install`).
func addServerFlags(fs *pflag.FlagSet, cfg *config.Config) {
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "folder holding the cluster's state")
	fs.StringVarP(&cfg.KubeconfigPath, "write-kubeconfig", "o", cfg.KubeconfigPath, "write the admin kubeconfig to this file too (empty: don't)")
	fs.StringVar(&cfg.BindIP, "bind-ip", cfg.BindIP, "IP address users reach the API server on; added to the serving certificate and used by 'kubeconfig --external'")
	fs.StringVar(&cfg.AdvertiseIP, "advertise-address", cfg.AdvertiseIP, "IP address the API server advertises to the cluster (default: --bind-ip, else the host's address)")
	fs.StringSliceVar(&cfg.TLSSANs, "tls-san", cfg.TLSSANs, "extra hostname or IP for the API server certificate (repeatable)")
	fs.StringVar(&cfg.Token, "token", cfg.Token, "shared secret nodes use to join (default: generated)")
	fs.StringVar(&cfg.DatabaseEndpoint, "database-endpoint", cfg.DatabaseEndpoint, "datastore: empty for SQLite in the data dir, or postgres://, mysql://, http(s):// (etcd)")
	fs.StringVar(&cfg.DatastoreCAFile, "datastore-cafile", cfg.DatastoreCAFile, "CA file to verify the datastore")
	fs.StringVar(&cfg.DatastoreCertFile, "datastore-certfile", cfg.DatastoreCertFile, "client certificate for the datastore")
	fs.StringVar(&cfg.DatastoreKeyFile, "datastore-keyfile", cfg.DatastoreKeyFile, "client key for the datastore")
	fs.BoolVar(&cfg.DisableAgent, "disable-agent", cfg.DisableAgent, "run the control plane only, without a node")
	fs.StringVar(&cfg.NodeName, "node-name", cfg.NodeName, "node name (default: the hostname)")
	fs.StringVar(&cfg.NodeIP, "node-ip", cfg.NodeIP, "node IP address (default: the advertise address)")
	fs.StringArrayVar(&cfg.NodeLabels, "node-label", cfg.NodeLabels, "label key=value for the node (repeatable)")
	fs.StringArrayVar(&cfg.NodeTaints, "node-taint", cfg.NodeTaints, "taint key[=value]:Effect registered with the node (repeatable)")
	fs.StringArrayVar(&cfg.RegistryMirrors, "registry-mirror", cfg.RegistryMirrors, "HOST=URL: pull HOST's images from the mirror URL first (repeatable)")
	fs.StringVar(&cfg.ClusterCIDR, "cluster-cidr", cfg.ClusterCIDR, "IPv4 range for pod IPs")
	fs.StringVar(&cfg.ServiceCIDR, "service-cidr", cfg.ServiceCIDR, "IPv4 range for service IPs")
	fs.StringVar(&cfg.ClusterDomain, "cluster-domain", cfg.ClusterDomain, "cluster DNS domain")
	fs.IntVar(&cfg.HTTPSPort, "https-listen-port", cfg.HTTPSPort, "API server port")
	fs.IntVar(&cfg.ControllerManagerPort, "kube-controller-manager-port", cfg.ControllerManagerPort, "kube-controller-manager health port (loopback)")
	fs.IntVar(&cfg.SchedulerPort, "kube-scheduler-port", cfg.SchedulerPort, "kube-scheduler health port (loopback)")
	_ = fs.MarkHidden("kube-controller-manager-port")
	_ = fs.MarkHidden("kube-scheduler-port")
}

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
			setVerbosity(verbosity)
			// One process holds the whole control plane and node: collect
			// garbage sooner than Go's default to keep its memory small
			// (GOGC in the environment still wins).
			if os.Getenv("GOGC") == "" {
				debug.SetGCPercent(50)
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			srv := &embedded.Server{Config: cfg, Reporter: logReporter{}}
			return srv.Run(ctx)
		},
	}
	addServerFlags(cmd.Flags(), &cfg)
	cmd.Flags().IntVarP(&verbosity, "v", "v", 0, "log verbosity of the Kubernetes components")
	return cmd
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
