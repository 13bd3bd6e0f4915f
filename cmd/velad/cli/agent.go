package cli

import (
	"github.com/spf13/cobra"

	"github.com/velad-dev/velad/embedded"
	"github.com/velad-dev/velad/embedded/config"
)

func newAgentCommand() *cobra.Command {
	cfg := config.DefaultAgent()
	var verbosity int
	cmd := &cobra.Command{
		Use:   "agent --server https://HOST:9345 --token TOKEN",
		Short: "Run a node that joins a velad server, in the foreground",
		Long: `Run a node (containerd, kubelet, kube-proxy) that joins the velad server at
--server until SIGINT or SIGTERM. The agent checks the server's CA against
the hash the token pins before it sends anything secret, and reaches the
API server only through --server's host (a local load balancer).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a := &embedded.Agent{Config: cfg, Reporter: logReporter{}}
			return runForeground(cmd.Context(), verbosity, a.Run)
		},
	}
	addAgentFlags(cmd.Flags(), &cfg)
	cmd.Flags().IntVarP(&verbosity, "v", "v", 0, "log verbosity of the Kubernetes components")
	return cmd
}
