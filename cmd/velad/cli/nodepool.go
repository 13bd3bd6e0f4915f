package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/velad-dev/velad/embedded/nodepool"
)

func newNodePoolCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "nodepool",
		Aliases: []string{"np"},
		Short:   "Node pools (OpenYurt's apps.openyurt.io NodePool)",
	}
	var kubeconfig string
	list := &cobra.Command{
		Use:   "list",
		Short: "List node pools and their nodes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rc, err := clientcmd.BuildConfigFromFlags("", kubeconfigPath(kubeconfig))
			if err != nil {
				return err
			}
			rc.Timeout = 10 * time.Second
			dyn, err := dynamic.NewForConfig(rc)
			if err != nil {
				return err
			}
			pools, err := nodepool.List(cmd.Context(), dyn)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tTYPE\tREADY\tNOT READY\tNODES\tTAINTS")
			for _, p := range pools {
				st := p.Status()
				fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%s\n", p.Name, dash(p.Spec.Type), st.ReadyNodeNum, st.UnreadyNodeNum, dash(strings.Join(st.Nodes, ",")), dash(strings.Join(p.NodeTaints(), ",")))
			}
			return w.Flush()
		},
	}
	list.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, else velad's admin kubeconfig)")
	cmd.AddCommand(list)
	return cmd
}
