package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/velad-dev/velad/bootstrap"
	"github.com/velad-dev/velad/embedded"
	"github.com/velad-dev/velad/embedded/config"
)

func newStartCommand() *cobra.Command {
	dataDir := config.DefaultDataDir
	timeout := 3 * time.Minute
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start the installed velad daemon again (after a stop or a crash) and wait until the node is Ready",
		Long: `Start the installed velad daemon again and wait until the API server
answers and the node reports Ready from a status its kubelet posted after
this start (a Ready condition left from before the stop does not count).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if timeout <= 0 {
				return fmt.Errorf("--timeout must be positive, got %s", timeout)
			}
			cfg := config.Default()
			cfg.DataDir = dataDir
			if !cmd.Flags().Changed("data-dir") {
				// The data dir the daemon was installed with.
				if args, err := bootstrap.ServerArgs(); err == nil {
					for _, a := range args {
						if d, ok := strings.CutPrefix(a, "--data-dir="); ok {
							cfg.DataDir = d
						}
					}
				}
			}
			if err := embedded.Complete(&cfg); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			o := &bootstrap.StartOptions{Config: cfg, Daemon: bootstrap.NewDaemon(), Timeout: timeout}
			if err := bootstrap.Start(orBackground(cmd.Context()), o, newProgress(out)); err != nil {
				return err
			}
			fmt.Fprintln(out, "velad is running: 'velad status' shows the system pods and addons")
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", dataDir, "data dir of the installed server (default: the one it was installed with)")
	cmd.Flags().DurationVar(&timeout, "timeout", timeout, "how long to wait for each readiness step")
	return cmd
}

func newStopCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "Stop the velad daemon (pods keep their data; 'velad start' brings it back)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return bootstrap.NewDaemon().Stop()
		},
	}
}
