package cli

import (
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/appcli"
)

// newWorkflowLogsCommand is `velad workflow logs APP [--step S]`.
func newWorkflowLogsCommand() *cobra.Command {
	var (
		f    clusterFlags
		step string
	)
	cmd := &cobra.Command{
		Use:   "logs APP [--step STEP]",
		Short: "Show what the steps of an application's workflow logged (#Log)",
		Long: `Logs prints the lines the steps of the application's current workflow run
logged with #Log (vela/builtin or vela/util), the newest 100 per step, in
step order. Values read from Secrets are masked.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ns, err := f.client()
			if err != nil {
				return err
			}
			ctx := orBackground(cmd.Context())
			app, err := appcli.Get(ctx, c, ns, args[0])
			if err != nil {
				return err
			}
			wc, err := appcli.WorkflowContext(ctx, c, app)
			if err != nil {
				return err
			}
			logs, err := appcli.StepLogs(app, wc, step)
			if err != nil {
				return err
			}
			printStepLogs(cmd.OutOrStdout(), app, logs)
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().StringVar(&step, "step", "", "show only this step's lines")
	return cmd
}

// printStepLogs prints logs in the order of the workflow's steps.
func printStepLogs(w io.Writer, app *v1beta1.Application, logs map[string][]string) {
	var order []string
	seen := map[string]bool{}
	if wf := app.Status.Workflow; wf != nil {
		for _, s := range wf.Steps {
			order = append(order, s.Name)
			for _, sub := range s.SubStepsStatus {
				order = append(order, sub.Name)
			}
		}
	}
	for _, s := range order {
		seen[s] = true
	}
	var rest []string
	for s := range logs {
		if !seen[s] {
			rest = append(rest, s)
		}
	}
	sort.Strings(rest)
	n := 0
	for _, s := range append(order, rest...) {
		for _, l := range logs[s] {
			fmt.Fprintf(w, "[%s] %s\n", s, l)
			n++
		}
	}
	if n == 0 {
		fmt.Fprintln(w, "no step has logged anything")
	}
}
