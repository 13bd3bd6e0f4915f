package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/velad-dev/velad/bootstrap"
	"github.com/velad-dev/velad/embedded/config"
)

func newUninstallCommand() *cobra.Command {
	cfg := config.Default()
	var lbPort int
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Remove velad and everything it created from this machine",
		Long: `Uninstall stops velad and its pods, then removes what install and the
server created: processes, mounts, network namespaces, the cni0 bridge and
veths, the iptables/nft rules, the data dir, the kubeconfig, the daemon's
files and the installed binary. It is safe to run again.

It decides from what is installed in --data-dir: the installed server's
data dir gets the above; an agent's (it joined a server) gets the
agent's pods, network, files and cgroups removed and its Node deleted,
leaving the host's other installs alone. Any other existing data dir is
refused, and nothing removed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if os.Getuid() != 0 {
				return fmt.Errorf("velad uninstall needs root; run it with sudo")
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			opts := &bootstrap.UninstallOptions{Config: cfg, Daemon: bootstrap.NewDaemon(), ProcRoot: "/proc"}
			kind, err := opts.Kind()
			if err != nil {
				return err
			}
			switch kind {
			case bootstrap.NothingInstalled:
				fmt.Fprintf(cmd.OutOrStdout(), "nothing of velad is installed in %s; nothing to do.\n", cfg.DataDir)
				return nil
			case bootstrap.AgentInstalled:
				opts.Config.HTTPSPort = lbPort
				if err := bootstrap.UninstallAgent(cmd.Context(), opts, newProgress(cmd.OutOrStdout())); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "the velad agent is uninstalled and its node deleted.")
				return nil
			}
			if err := bootstrap.Uninstall(cmd.Context(), opts, newProgress(cmd.OutOrStdout())); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "velad is uninstalled.")
			return nil
		},
	}
	cmd.Flags().StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "data dir of the installed server, or of an agent")
	cmd.Flags().IntVar(&lbPort, "lb-server-port", config.DefaultAgentLBPort, "an agent's load balancer port (to check it has stopped)")
	cmd.Flags().StringVarP(&cfg.KubeconfigPath, "write-kubeconfig", "o", cfg.KubeconfigPath, "kubeconfig file install wrote")
	return cmd
}
