package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/velad-dev/velad/controller/appcli"
)

func newDeleteCommand() *cobra.Command {
	var (
		f       clusterFlags
		wait    bool
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "delete APP [--wait]",
		Short: "Delete an application and everything it applied",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ns, err := f.client()
			if err != nil {
				return err
			}
			if err := appcli.Delete(orBackground(cmd.Context()), c, ns, args[0], wait, timeout); err != nil {
				return err
			}
			if wait {
				fmt.Fprintf(cmd.OutOrStdout(), "application %s/%s deleted\n", ns, args[0])
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "application %s/%s is being deleted\n", ns, args[0])
			}
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the application and its resources are gone")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "how long --wait waits")
	return cmd
}
