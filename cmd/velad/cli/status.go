package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/velad-dev/velad/bootstrap"
	"github.com/velad-dev/velad/controller/appcli"
	"github.com/velad-dev/velad/embedded"
	"github.com/velad-dev/velad/embedded/config"
)

// newStatusCommand is `velad status`: the node's health without an
// argument, an application's state with one.
func newStatusCommand() *cobra.Command {
	var (
		f           clusterFlags
		tree        bool
		detail      bool
		nodeDataDir string
	)
	cmd := &cobra.Command{
		Use:   "status [APP [-n NS] [--tree] [--detail]]",
		Short: "Show velad's health, or an application's phase, workflow, services and resources",
		Long: `Without an argument: the velad daemon, the node and the system pods,
one line each; the exit code is non-zero when something is unhealthy.
With APP: the application's phase, workflow steps, services and resources;
--detail adds the inputs and outputs of its steps and components.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return runClusterStatus(cmd, nodeDataDir)
			}
			c, ns, err := f.client()
			if err != nil {
				return err
			}
			ctx := orBackground(cmd.Context())
			app, err := appcli.Get(ctx, c, ns, args[0])
			if err != nil {
				return err
			}
			var res []appcli.Resource
			if tree {
				if res, err = appcli.Resources(ctx, c, app); err != nil {
					return err
				}
			}
			if err := printStatus(cmd.OutOrStdout(), app, tree, res); err != nil || !detail {
				return err
			}
			wc, err := appcli.WorkflowContext(ctx, c, app)
			if err != nil {
				return err
			}
			printWorkflowIO(cmd.OutOrStdout(), appcli.WorkflowIO(app, wc))
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVar(&tree, "tree", false, "show the applied resources as a tree")
	cmd.Flags().BoolVar(&detail, "detail", false, "show the inputs and outputs of the workflow's steps and components")
	cmd.Flags().StringVar(&nodeDataDir, "data-dir", config.DefaultDataDir, "data dir of the installed server (without APP)")
	return cmd
}

// runClusterStatus reports the daemon, the node, the system pods and the
// controller, one line each; unhealthy exits 1.
func runClusterStatus(cmd *cobra.Command, dataDir string) error {
	cfg := config.Default()
	cfg.DataDir = dataDir
	if err := embedded.Complete(&cfg); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(orBackground(cmd.Context()), 30*time.Second)
	defer cancel()
	if healthy := printClusterStatus(cmd.OutOrStdout(), bootstrap.Status(ctx, &cfg, bootstrap.NewDaemon())); !healthy {
		return exitCode(1)
	}
	return nil
}
