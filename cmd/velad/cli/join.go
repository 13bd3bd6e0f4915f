package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/velad-dev/velad/bootstrap"
	"github.com/velad-dev/velad/embedded"
	"github.com/velad-dev/velad/embedded/config"
)

func newJoinCommand() *cobra.Command {
	cfg := config.DefaultAgent()
	timeout := 5 * time.Minute
	cmd := &cobra.Command{
		Use:   "join --server https://HOST:9345 --token TOKEN",
		Short: "Join this machine to a velad server as an agent daemon",
		Long: `Join checks the token with the server (refused: nothing is installed),
copies this binary into the data dir, runs 'velad agent' with these flags as
a daemon (a systemd unit where systemd runs the machine, else a supervised
background process) and waits until the node is Ready. The daemon's files
are derived from --data-dir, so agents with different data dirs on one
machine never share one; a data dir a velad server uses is refused.
'velad uninstall --data-dir DIR' removes the daemon, the node's pods,
network and files, and deletes its Node. It takes every 'velad agent' flag.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if os.Getuid() != 0 {
				return fmt.Errorf("velad join needs root; run it with sudo")
			}
			if !cfg.IsAgent() {
				return fmt.Errorf("--server is needed: the https://HOST:9345 address of the server to join")
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			if err := embedded.Complete(&cfg); err != nil {
				return err
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			opts := &bootstrap.JoinOptions{
				Config:    cfg,
				AgentArgs: agentArgs(cmd.Flags(), &cfg),
				Self:      self,
				Daemon:    bootstrap.NewDaemonFor(bootstrap.AgentDaemon(cfg.Paths())),
				Timeout:   timeout,
			}
			out := cmd.OutOrStdout()
			if err := bootstrap.Join(cmd.Context(), opts, newProgress(out)); err != nil {
				return err
			}
			fmt.Fprintf(out, "\nnode %s joined %s; its daemon is %s (log %s).\n  velad uninstall --data-dir %s   removes it and deletes the node\n",
				cfg.NodeName, cfg.ServerURL, cfg.Paths().AgentDaemonName, cfg.Paths().AgentDaemonLog, cfg.DataDir)
			return nil
		},
	}
	addAgentFlags(cmd.Flags(), &cfg)
	cmd.Flags().DurationVar(&timeout, "timeout", timeout, "how long to try joining, and to wait for the node")
	return cmd
}

// agentArgs are the flags the daemon runs `velad agent` with: what the
// user set but --timeout, plus the data dir and node name always.
func agentArgs(fs *pflag.FlagSet, cfg *config.Config) []string {
	fixed := []string{"--data-dir=" + cfg.DataDir, "--node-name=" + cfg.NodeName}
	return daemonArgs(fs, fixed, func(name string) bool {
		return name == "timeout" || name == "data-dir" || name == "node-name"
	})
}
