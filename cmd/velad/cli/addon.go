package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/velad-dev/velad/addons"
	"github.com/velad-dev/velad/addons/ingress"
	"github.com/velad-dev/velad/addons/lifecycle"
	"github.com/velad-dev/velad/controller/appcli"
	"github.com/velad-dev/velad/embedded/assets"
)

// addonFlags are the flags every addon command takes.
type addonFlags struct {
	kubeconfig string
	timeout    time.Duration
}

func (f *addonFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, else "+appcli.DefaultKubeconfig+")")
	cmd.Flags().DurationVar(&f.timeout, "timeout", lifecycle.DefaultTimeout, "how long each Helm action and each wait for readiness may take")
}

// manager connects the addon library to the cluster, with the images this
// velad carries. The named addons are checked first, so an unknown name is
// refused before anything connects.
// change runs op (enable, disable) on the manager of the addon name and
// those it needs, showing its steps on the command's output.
func (f *addonFlags) change(cmd *cobra.Command, name string, op func(context.Context, *lifecycle.Manager) error) error {
	p := &addonProgress{steps: newProgress(cmd.OutOrStdout())}
	m, err := f.manager(p, name)
	if err != nil {
		return err
	}
	err = op(orBackground(cmd.Context()), m)
	p.finish(err)
	return err
}

func (f *addonFlags) manager(p lifecycle.Progress, names ...string) (*lifecycle.Manager, error) {
	reg, err := addons.Load()
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, err := reg.Get(n); err != nil {
			return nil, err
		}
	}
	return lifecycle.New(reg, lifecycle.Options{
		Kubeconfig: kubeconfigPath(f.kubeconfig),
		Images:     assets.ImageRef,
		Timeout:    f.timeout,
		Progress:   p,
	})
}

func newAddonCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "addon",
		Short: "List, enable, disable and check the addons velad carries (fluxcd, …)",
		Long: `Addons come with velad, with their charts and images: nothing is downloaded.
'velad install' enables the default ones.`,
	}
	cmd.AddCommand(newAddonListCommand(), newAddonEnableCommand(), newAddonDisableCommand(), newAddonStatusCommand())
	return cmd
}

func newAddonListCommand() *cobra.Command {
	var (
		f      addonFlags
		output string
	)
	cmd := &cobra.Command{
		Use:   "list [-o json|yaml]",
		Short: "List the addons: version, enabled or not, health",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			m, err := f.manager(nil)
			if err != nil {
				return err
			}
			infos, err := m.List(orBackground(cmd.Context()))
			if err != nil {
				return err
			}
			if output != "" {
				return printStructured(cmd.OutOrStdout(), output, infos)
			}
			return printAddonList(cmd.OutOrStdout(), infos)
		},
	}
	f.bind(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "", "json or yaml (default: a table)")
	return cmd
}

func newAddonEnableCommand() *cobra.Command {
	var (
		f    addonFlags
		sets []string
	)
	cmd := &cobra.Command{
		Use:   "enable NAME [--set key=value]...",
		Short: "Install or upgrade an addon (and those it needs) and wait until it is ready",
		Long: `Installs the addon's chart as a Helm release (or upgrades it), applies its
definitions and waits until it is ready; the addons it depends on come
first. Enabling an enabled addon with the same values changes nothing.
--set sets a value of the addon's chart (charts/NAME/values.yaml).`,
		Example: `  velad addon enable fluxcd
  velad addon enable fluxcd --set concurrent=2`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			var outcomes []lifecycle.Outcome
			err := f.change(cmd, args[0], func(ctx context.Context, m *lifecycle.Manager) (err error) {
				outcomes, err = m.Enable(ctx, args[0], sets)
				return err
			})
			if err != nil {
				return err
			}
			for _, o := range outcomes {
				switch o.Action {
				case lifecycle.Unchanged:
					fmt.Fprintf(out, "addon %s %s was already enabled: nothing changed\n", o.Name, o.Version)
				case lifecycle.Upgraded:
					fmt.Fprintf(out, "addon %s upgraded from %s to %s and ready\n", o.Name, o.From, o.Version)
				default:
					fmt.Fprintf(out, "addon %s %s enabled and ready\n", o.Name, o.Version)
				}
			}
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().StringArrayVar(&sets, "set", nil, "a value of the addon's chart, key=value (repeatable)")
	return cmd
}

func newAddonDisableCommand() *cobra.Command {
	var (
		f     addonFlags
		force bool
	)
	cmd := &cobra.Command{
		Use:   "disable NAME [--force]",
		Short: "Remove an addon's definitions and its Helm release",
		Long: `Refuses while applications use the addon's definitions, or enabled addons
depend on it, and names them; --force disables it anyway (those
applications' components are then no longer rendered nor reconciled).
The addon's CRDs stay, so objects of those kinds are not lost.`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			var done *lifecycle.Disabled
			err := f.change(cmd, args[0], func(ctx context.Context, m *lifecycle.Manager) (err error) {
				done, err = m.Disable(ctx, args[0], force)
				return err
			})
			if err != nil {
				return err
			}
			if len(done.Forced) > 0 {
				fmt.Fprintf(out, "warning: disabled although in use by: %s\n", strings.Join(done.Forced, ", "))
			}
			fmt.Fprintf(out, "addon %s disabled\n", done.Name)
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVar(&force, "force", false, "disable even while applications or other addons use it")
	return cmd
}

// addonStatus is what `velad addon status` reports: the framework's
// report, and for the ingress addon the routes its Traefik serves.
type addonStatus struct {
	*lifecycle.Report
	Routes []ingress.Route `json:"routes,omitempty"`
}

func newAddonStatusCommand() *cobra.Command {
	var (
		f      addonFlags
		output string
	)
	cmd := &cobra.Command{
		Use:   "status NAME [-o json|yaml]",
		Short: "Show an addon's release, pods, definitions, and what is unhealthy and why",
		Long:  "The exit code is non-zero when the addon is enabled and unhealthy.",
		Args:  exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			m, err := f.manager(nil, args[0])
			if err != nil {
				return err
			}
			ctx := orBackground(cmd.Context())
			r, err := m.Status(ctx, args[0])
			if err != nil {
				return err
			}
			st := addonStatus{Report: r}
			if r.Enabled && r.Name == ingress.Chart {
				if st.Routes, err = ingress.Routes(ctx, m.Clientset()); err != nil {
					return err
				}
			}
			if output != "" {
				err = printStructured(cmd.OutOrStdout(), output, st)
			} else {
				printAddonStatus(cmd.OutOrStdout(), r)
				if r.Name == ingress.Chart && r.Enabled {
					printRoutes(cmd.OutOrStdout(), st.Routes)
				}
			}
			if err == nil && r.Enabled && !r.Healthy {
				return exitCode(1)
			}
			return err
		},
	}
	f.bind(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "", "json or yaml (default: text)")
	return cmd
}
