package cli

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/velad-dev/velad/addons"
	"github.com/velad-dev/velad/addons/ingress"
	"github.com/velad-dev/velad/bootstrap"
	"github.com/velad-dev/velad/embedded"
	"github.com/velad-dev/velad/embedded/config"
)

// installOnlyFlags are install's own flags, not passed to the server.
var installOnlyFlags = map[string]bool{"timeout": true, "cluster-only": true, "set": true, "disable-addon": true}

func newInstallCommand() *cobra.Command {
	cfg := config.Default()
	timeout := 5 * time.Minute
	var clusterOnly bool
	var sets, disabledAddons []string
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install velad on this machine and wait until the platform is ready",
		Long: `Install checks the host, installs this binary to /usr/local/bin/velad,
runs 'velad server' as a daemon (a systemd unit where systemd runs the
machine, else a supervised background process) and waits until the node is
Ready and cluster DNS and storage are available. Then it installs (or
upgrades) the application controller from the Helm chart velad carries,
into vela-system, and waits until it and the built-in definitions are
ready. Then it enables the default addons velad carries ('velad addon
list'), each from its chart and images in velad, and waits until they are
ready; --disable-addon NAME leaves one out, --cluster-only skips the
controller and the addons. Running it again on an installed machine
restarts velad with this binary and these flags and upgrades the
controller and the addons (an addon enabled before and now left out with
--disable-addon stays; 'velad addon disable NAME' removes it). It takes
every 'velad server' flag.`,
		Example: `  velad install
  velad install --cluster-only
  velad install --disable-addon fluxcd
  velad install --set replicas=2 --set logLevel=debug`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return err
			}
			if err := embedded.Complete(&cfg); err != nil {
				return err
			}
			var controller *bootstrap.ControllerChart
			if clusterOnly && len(sets) > 0 {
				return fmt.Errorf("--set configures the controller, which --cluster-only does not install; drop one of them")
			}
			// Checked even with --cluster-only: an unknown name is a typo.
			addonNames, err := defaultAddons(disabledAddons)
			if err != nil {
				return err
			}
			if !clusterOnly {
				if controller, err = bootstrap.PrepareControllerChart(sets); err != nil {
					return err
				}
			}
			var ingressPorts []int
			if !clusterOnly && slices.Contains(addonNames, ingress.Chart) {
				if ingressPorts, err = ingress.DefaultHostPorts(); err != nil {
					return err
				}
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			opts := &bootstrap.InstallOptions{
				Config:     cfg,
				ServerArgs: serverArgs(cmd.Flags(), &cfg),
				Self:       self,
				Host:       bootstrap.RealHost(exec.LookPath),
				Daemon:     bootstrap.NewDaemon(),
				Timeout:    timeout,
				Controller: controller,
				Addons:     addonNames,
				// Checked free before anything is touched.
				IngressPorts: ingressPorts,
			}
			out := cmd.OutOrStdout()
			if err := bootstrap.Install(cmd.Context(), opts, newProgress(out)); err != nil {
				return err
			}
			fmt.Fprintf(out, "\nvelad is ready.\n  export KUBECONFIG=%s\n  velad kubectl get pods -A\n", cfg.KubeconfigPath)
			if clusterOnly {
				fmt.Fprintln(out, "  (no application controller: --cluster-only; 'velad install' without it adds it)")
			} else {
				fmt.Fprintln(out, "  velad up -f examples/hello.yaml --wait && velad status hello")
			}
			return nil
		},
	}
	addServerFlags(cmd.Flags(), &cfg)
	cmd.Flags().DurationVar(&timeout, "timeout", timeout, "how long to wait for each readiness step")
	cmd.Flags().BoolVar(&clusterOnly, "cluster-only", false, "install Kubernetes only, not the application controller nor the addons")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "a value of the controller's chart, key=value (repeatable; see charts/velad-controller/values.yaml)")
	cmd.Flags().StringArrayVar(&disabledAddons, "disable-addon", nil, "do not enable this default addon (repeatable; see 'velad addon list')")
	return cmd
}

// defaultAddons are the addons install enables: the default ones but the
// disabled, and what they need. An unknown name is refused.
func defaultAddons(disabled []string) ([]string, error) {
	reg, err := addons.Load()
	if err != nil {
		return nil, err
	}
	names, err := reg.Select(disabled)
	if err != nil {
		return nil, fmt.Errorf("--disable-addon: %w", err)
	}
	return names, nil
}

// serverArgs are the flags the daemon runs `velad server` with: what the
// user set, plus the data dir and kubeconfig path always.
func serverArgs(fs *pflag.FlagSet, cfg *config.Config) []string {
	fixed := []string{"--data-dir=" + cfg.DataDir, "--write-kubeconfig=" + cfg.KubeconfigPath}
	return daemonArgs(fs, fixed, func(name string) bool {
		return installOnlyFlags[name] || name == "data-dir" || name == "write-kubeconfig"
	})
}
