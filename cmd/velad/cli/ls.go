package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/velad-dev/velad/controller/appcli"
)

func newLsCommand() *cobra.Command {
	var (
		f   clusterFlags
		all bool
	)
	cmd := &cobra.Command{
		Use:   "ls [-n NS | -A]",
		Short: "List applications",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, ns, err := f.client()
			if err != nil {
				return err
			}
			if all {
				ns = ""
			}
			apps, err := appcli.List(orBackground(cmd.Context()), c, ns)
			if err != nil {
				return err
			}
			return printList(cmd.OutOrStdout(), apps, time.Now())
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list applications of every namespace")
	return cmd
}
