package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/velad-dev/velad/controller/appcli"
	"github.com/velad-dev/velad/controller/cluster"
)

func newClusterCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Manage the clusters applications are delivered to (topology policies)",
		Long: `Join other clusters to this velad, so that topology policies deliver
applications to them. Each is stored as KubeVela stores it: a Secret in
vela-system named after the cluster. "local" is this velad.`,
	}
	cmd.AddCommand(newClusterJoinCommand(), newClusterListCommand(), newClusterLabelsCommand(), newClusterDetachCommand())
	return cmd
}

func newClusterJoinCommand() *cobra.Command {
	var (
		kubeconfig, name, context, labels string
	)
	cmd := &cobra.Command{
		Use:   "join KUBECONFIG --name NAME [--context C] [--labels k=v,...]",
		Short: "Join a cluster from its kubeconfig",
		Long: `Join a cluster from its kubeconfig. The cluster must answer, and its server
address must be one the controller's pod reaches: for another velad, start
it with --bind-ip and join the kubeconfig 'velad kubeconfig --external' prints.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("read kubeconfig: %w", err)
			}
			l, err := cluster.ParseLabels(labels)
			if err != nil {
				return err
			}
			c, err := appcli.Client(kubeconfig)
			if err != nil {
				return err
			}
			cl, err := cluster.Join(orBackground(cmd.Context()), c, data, cluster.JoinOptions{Name: name, Context: context, Labels: l})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cluster %s joined (%s, Kubernetes %s)\n", cl.Name, cl.Endpoint, cl.Version)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of this velad (default $KUBECONFIG, else "+appcli.DefaultKubeconfig+")")
	fs.StringVar(&name, "name", "", "name of the cluster (required)")
	fs.StringVar(&context, "context", "", "context of KUBECONFIG to use (default: its current context)")
	fs.StringVar(&labels, "labels", "", "labels k=v,... (topology policies select clusters by them)")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func newClusterListCommand() *cobra.Command {
	var kubeconfig string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the clusters: name, endpoint, Kubernetes version, labels, reachable or why not",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := appcli.Client(kubeconfig)
			if err != nil {
				return err
			}
			l, err := cluster.List(orBackground(cmd.Context()), c)
			if err != nil {
				return err
			}
			return printClusters(cmd.OutOrStdout(), l)
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of this velad")
	return cmd
}

func printClusters(w io.Writer, l []cluster.Status) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tTYPE\tENDPOINT\tVERSION\tLABELS\tSTATUS")
	for _, s := range l {
		typ, endpoint, version, status := s.CredentialType, s.Endpoint, s.Version, "reachable"
		if cluster.IsLocal(s.Name) {
			typ, endpoint, version = "Internal", "-", "-"
		}
		if version == "" {
			version = "-"
		}
		if s.Err != nil {
			status = "unreachable: " + oneLine(s.Err.Error())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, typ, endpoint, version, formatLabels(s.Labels), status)
	}
	return tw.Flush()
}

func formatLabels(l map[string]string) string {
	if len(l) == 0 {
		return "-"
	}
	var kv []string
	for k, v := range l {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

func newClusterLabelsCommand() *cobra.Command {
	var kubeconfig string
	cmd := &cobra.Command{Use: "labels", Short: "Add or remove labels of a joined cluster"}
	add := &cobra.Command{
		Use:   "add NAME k=v[,k=v...]",
		Short: "Add (or change) labels",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := cluster.ParseLabels(args[1])
			if err != nil {
				return err
			}
			c, err := appcli.Client(kubeconfig)
			if err != nil {
				return err
			}
			return cluster.SetLabels(orBackground(cmd.Context()), c, args[0], l, nil)
		},
	}
	del := &cobra.Command{
		Use:   "del NAME k[,k...]",
		Short: "Remove labels",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var keys []string
			for _, k := range strings.Split(args[1], ",") {
				if k = strings.TrimSpace(k); k != "" {
					k, _, _ = strings.Cut(k, "=")
					keys = append(keys, k)
				}
			}
			c, err := appcli.Client(kubeconfig)
			if err != nil {
				return err
			}
			return cluster.SetLabels(orBackground(cmd.Context()), c, args[0], nil, keys)
		},
	}
	cmd.PersistentFlags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of this velad")
	cmd.AddCommand(add, del)
	return cmd
}

func newClusterDetachCommand() *cobra.Command {
	var (
		kubeconfig string
		force      bool
	)
	cmd := &cobra.Command{
		Use:   "detach NAME [--force]",
		Short: "Forget a joined cluster",
		Long: `Forget a joined cluster (delete its Secret). Refused while applications
deliver to it, naming them; with --force it is forgotten anyway and their
objects there are left as they are: the controller no longer reaches them.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := appcli.Client(kubeconfig)
			if err != nil {
				return err
			}
			if err := cluster.Detach(orBackground(cmd.Context()), c, args[0], force); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cluster %s detached\n", args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of this velad")
	cmd.Flags().BoolVar(&force, "force", false, "detach even while applications deliver to it (their objects there stay)")
	return cmd
}
