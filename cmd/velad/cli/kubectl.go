package cli

import (
	"os"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"

	"github.com/velad-dev/velad/embedded/config"
)

// newKubectlCommand runs the embedded kubectl against the admin kubeconfig
// (unless KUBECONFIG or --kubeconfig says otherwise).
func newKubectlCommand() *cobra.Command {
	return &cobra.Command{
		Use:                "kubectl [kubectl arguments]",
		Short:              "Run kubectl against this velad (the admin kubeconfig by default)",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKubectl(args)
		},
	}
}

func runKubectl(args []string) error {
	if os.Getenv("KUBECONFIG") == "" {
		if _, err := os.Stat(config.DefaultKubeconfigPath); err == nil {
			os.Setenv("KUBECONFIG", config.DefaultKubeconfigPath)
		}
	}
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	kc := kubectlcmd.NewKubectlCommand(kubectlcmd.KubectlOptions{
		Arguments:   append([]string{"kubectl"}, args...),
		ConfigFlags: genericclioptions.NewConfigFlags(true).WithDiscoveryBurst(300).WithDiscoveryQPS(50).WithWarningPrinter(streams),
		IOStreams:   streams,
	})
	kc.SetArgs(args)
	if err := kc.Execute(); err != nil {
		return exitCode(1) // kubectl printed the error itself
	}
	return nil
}
