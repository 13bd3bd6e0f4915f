package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/velad-dev/velad/controller/appcli"
)

func newWorkflowCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "workflow",
		Short: "Suspend, resume, terminate, restart or roll back an application's workflow, or show its logs",
	}
	for _, op := range []struct {
		op    appcli.WorkflowOp
		short string
	}{
		{appcli.Suspend, "Suspend the running workflow"},
		{appcli.Resume, "Resume a suspended workflow"},
		{appcli.Terminate, "Stop the workflow for good (until restarted)"},
		{appcli.Restart, "Run the workflow again from the first step"},
	} {
		var f clusterFlags
		sub := &cobra.Command{
			Use:   string(op.op) + " APP",
			Short: op.short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, ns, err := f.client()
				if err != nil {
					return err
				}
				if err := appcli.Workflow(orBackground(cmd.Context()), c, ns, args[0], op.op); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "workflow of %s/%s: %s\n", ns, args[0], op.op)
				return nil
			},
		}
		f.bind(sub)
		cmd.AddCommand(sub)
	}
	cmd.AddCommand(newRollbackCommand(), newWorkflowLogsCommand())
	return cmd
}

func newRollbackCommand() *cobra.Command {
	var f clusterFlags
	cmd := &cobra.Command{
		Use:   "rollback APP",
		Short: "Go back to the newest earlier revision whose workflow succeeded",
		Long: `Rollback puts the spec of the newest earlier revision whose workflow
succeeded back into the application; the controller delivers it as a new
revision and removes what only the abandoned revision applied.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ns, err := f.client()
			if err != nil {
				return err
			}
			rev, err := appcli.Rollback(orBackground(cmd.Context()), c, ns, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "application %s/%s rolled back to the spec of %s\n", ns, args[0], rev)
			return nil
		},
	}
	f.bind(cmd)
	return cmd
}
