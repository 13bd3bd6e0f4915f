package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/velad-dev/velad/controller/appcli"
	"github.com/velad-dev/velad/operators/fluxcd/chartrepo"
)

func newChartCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chart",
		Short: "Push charts to the in-cluster chart repository (the fluxcd addon's), list them",
		Long: `The fluxcd addon serves a Helm chart repository inside the cluster, at
` + chartrepo.DefaultURL + `: push a packaged chart (helm package) there
and deploy it with a helm component, with no network:

  components:
  - name: hello
    type: helm
    properties: {url: "` + chartrepo.DefaultURL + `", chart: hello, version: 0.1.0}`,
	}
	cmd.AddCommand(newChartPushCommand(), newChartListCommand(), newChartDeleteCommand())
	return cmd
}

// chartStore is the in-cluster chart repository of the cluster of the
// kubeconfig flag.
func chartStore(kubeconfig string) (*chartrepo.Store, error) {
	c, err := appcli.Client(kubeconfig)
	if err != nil {
		return nil, err
	}
	return chartrepo.NewStore(c), nil
}

func newChartPushCommand() *cobra.Command {
	var (
		kubeconfig string
		force      bool
	)
	cmd := &cobra.Command{
		Use:   "push CHART.tgz|CHART_DIR [--force]",
		Short: "Store a packaged chart in the in-cluster chart repository",
		Long: `Stores a chart packaged with 'helm package' (or a chart's folder, packaged
here) in the in-cluster chart repository. Chart versions are immutable: pushing the same version with other
content is refused unless --force replaces it.`,
		Args: exactArgs(1, "CHART.tgz or CHART_DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readChart(args[0])
			if err != nil {
				return err
			}
			s, err := chartStore(kubeconfig)
			if err != nil {
				return err
			}
			e, changed, err := s.Push(orBackground(cmd.Context()), data, chartrepo.PushOptions{Force: force})
			if err != nil {
				return err
			}
			if !changed {
				fmt.Fprintf(cmd.OutOrStdout(), "chart %s %s is already in the repository (same content)\n", e.Name, e.Version)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "pushed chart %s %s to %s\n", e.Name, e.Version, chartrepo.DefaultURL)
			return nil
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, else "+appcli.DefaultKubeconfig+")")
	cmd.Flags().BoolVar(&force, "force", false, "replace a stored version whose content differs")
	return cmd
}

func newChartListCommand() *cobra.Command {
	var kubeconfig, output string
	cmd := &cobra.Command{
		Use:   "list [-o json|yaml]",
		Short: "List the charts in the in-cluster chart repository",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			s, err := chartStore(kubeconfig)
			if err != nil {
				return err
			}
			entries, err := s.List(orBackground(cmd.Context()))
			if err != nil {
				return err
			}
			if output != "" {
				return printStructured(cmd.OutOrStdout(), output, entries)
			}
			return printChartList(cmd.OutOrStdout(), entries)
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, else "+appcli.DefaultKubeconfig+")")
	cmd.Flags().StringVarP(&output, "output", "o", "", "json or yaml (default: a table)")
	return cmd
}

func newChartDeleteCommand() *cobra.Command {
	var kubeconfig string
	cmd := &cobra.Command{
		Use:   "delete NAME VERSION",
		Short: "Delete a chart version from the in-cluster chart repository",
		Args:  exactArgs(2, "NAME VERSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := chartStore(kubeconfig)
			if err != nil {
				return err
			}
			if err := s.Delete(orBackground(cmd.Context()), args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted chart %s %s\n", args[0], args[1])
			return nil
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, else "+appcli.DefaultKubeconfig+")")
	return cmd
}

// readChart reads a packaged chart, or packages a chart's folder (as
// 'helm package' does).
func readChart(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read chart: %w", err)
	}
	if !fi.IsDir() {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read chart: %w", err)
		}
		return data, nil
	}
	ch, err := loader.LoadDir(path)
	if err != nil {
		return nil, fmt.Errorf("load chart folder %s: %w", path, err)
	}
	tmp, err := os.MkdirTemp("", "velad-chart-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	tgz, err := chartutil.Save(ch, tmp)
	if err != nil {
		return nil, fmt.Errorf("package chart %s: %w", path, err)
	}
	return os.ReadFile(tgz)
}
