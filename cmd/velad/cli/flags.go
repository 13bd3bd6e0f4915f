package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/appcli"
	"github.com/velad-dev/velad/embedded/config"
)

// clusterFlags are the flags of every command that talks to the cluster.
type clusterFlags struct {
	kubeconfig string
	namespace  string
}

func (f *clusterFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, else "+appcli.DefaultKubeconfig+")")
	cmd.Flags().StringVarP(&f.namespace, "namespace", "n", "", "namespace (default: the kubeconfig's, else default)")
}

func (f *clusterFlags) client() (client.Client, string, error) {
	c, err := appcli.Client(f.kubeconfig)
	if err != nil {
		return nil, "", err
	}
	ns := f.namespace
	if ns == "" {
		ns = appcli.Namespace(f.kubeconfig)
	}
	return c, ns, nil
}

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
	fs.IntVar(&cfg.SupervisorPort, "supervisor-port", cfg.SupervisorPort, "port agents join on (TLS; 0: no agents)")
	_ = fs.MarkHidden("kube-controller-manager-port")
	_ = fs.MarkHidden("kube-scheduler-port")
}

// addAgentFlags binds the flags of `agent` (and `join`).
func addAgentFlags(fs *pflag.FlagSet, cfg *config.Config) {
	fs.StringVar(&cfg.ServerURL, "server", cfg.ServerURL, "the server to join: https://HOST:9345 (its supervisor port)")
	fs.StringVar(&cfg.Token, "token", cfg.Token, "join token: `velad token create` (or `velad token`) on the server")
	fs.StringVar(&cfg.NodePool, "node-pool", cfg.NodePool, "NodePool to join (a token bound to a pool sets it)")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "folder holding the node's state")
	fs.StringVar(&cfg.NodeName, "node-name", cfg.NodeName, "node name (default: the hostname)")
	fs.StringVar(&cfg.NodeIP, "node-ip", cfg.NodeIP, "node IP address (default: the host's address)")
	fs.StringArrayVar(&cfg.NodeLabels, "node-label", cfg.NodeLabels, "label key=value for the node (repeatable)")
	fs.StringArrayVar(&cfg.NodeTaints, "node-taint", cfg.NodeTaints, "taint key[=value]:Effect registered with the node (repeatable)")
	fs.StringArrayVar(&cfg.RegistryMirrors, "registry-mirror", cfg.RegistryMirrors, "HOST=URL: pull HOST's images from the mirror URL first (repeatable)")
	fs.IntVar(&cfg.HTTPSPort, "lb-server-port", cfg.HTTPSPort, "local port (127.0.0.1) of the load balancer to the server's API server")
}

// kubeconfigPath is the kubeconfig file to use: the flag, else the one
// $KUBECONFIG names, else velad's admin kubeconfig.
func kubeconfigPath(flag string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
		return filepath.SplitList(env)[0]
	}
	return appcli.DefaultKubeconfig
}

func checkOutput(o string) error {
	if o != "" && o != "json" && o != "yaml" {
		return fmt.Errorf("--output %q: want json or yaml", o)
	}
	return nil
}

// exactArgs wants n arguments, naming them in the error.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("'%s' takes %s; see '%s --help'", cmd.CommandPath(), names, cmd.CommandPath())
		}
		return nil
	}
}
