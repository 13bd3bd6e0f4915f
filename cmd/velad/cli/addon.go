package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/addons"
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

// kubeconfigPath is the kubeconfig file to use: the flag, else the one
// $KUBECONFIG names, else velad's admin kubeconfig.
func kubeconfigPath(flag string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
		return filepath.SplitList(env)[0]
	}
	return appcli.DefaultKubeconfig
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
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tENABLED\tHEALTH\tDESCRIPTION")
			for _, i := range infos {
				enabled, health := "no", "-"
				if i.Enabled {
					enabled = "yes"
					health = tick(i.Healthy) + " " + i.Health
				}
				version := i.Version
				if i.Installed != "" && i.Installed != i.Version {
					version = i.Installed + " (velad carries " + i.Version + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", i.Name, version, enabled, health, i.Description)
			}
			return tw.Flush()
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
			p := &addonProgress{steps: newProgress(out)}
			m, err := f.manager(p, args[0])
			if err != nil {
				return err
			}
			outcomes, err := m.Enable(orBackground(cmd.Context()), args[0], sets)
			p.finish(err)
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
			p := &addonProgress{steps: newProgress(out)}
			m, err := f.manager(p, args[0])
			if err != nil {
				return err
			}
			done, err := m.Disable(orBackground(cmd.Context()), args[0], force)
			p.finish(err)
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
			r, err := m.Status(orBackground(cmd.Context()), args[0])
			if err != nil {
				return err
			}
			if output != "" {
				err = printStructured(cmd.OutOrStdout(), output, r)
			} else {
				printAddonStatus(cmd.OutOrStdout(), r)
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

func printAddonStatus(w io.Writer, r *lifecycle.Report) {
	state := "not enabled ('velad addon enable " + r.Name + "' enables it)"
	if r.Enabled {
		state = "enabled, " + map[bool]string{true: "healthy", false: "unhealthy"}[r.Healthy]
	}
	fmt.Fprintf(w, "Addon:       %s %s\n", r.Name, r.Version)
	fmt.Fprintf(w, "State:       %s\n", state)
	fmt.Fprintf(w, "Description: %s\n", r.Description)
	fmt.Fprintf(w, "Namespace:   %s\n", r.Namespace)
	if len(r.Dependencies) > 0 {
		fmt.Fprintf(w, "Depends on:  %s\n", strings.Join(r.Dependencies, ", "))
	}
	if rel := r.Release; rel != nil {
		fmt.Fprintf(w, "Release:     %s/%s revision %d, %s, chart %s, updated %s\n",
			rel.Namespace, rel.Name, rel.Revision, rel.Status, rel.Chart, rel.Updated.Local().Format(time.DateTime))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(r.Workloads) > 0 {
		fmt.Fprintln(tw, "\nWorkloads:")
		for _, wl := range r.Workloads {
			fmt.Fprintf(tw, "  %s %s %s\t%s\n", tick(wl.Ready), wl.Kind, wl.Name, wl.State)
		}
	}
	if len(r.Pods) > 0 {
		fmt.Fprintln(tw, "\nPods:")
		for _, p := range r.Pods {
			fmt.Fprintf(tw, "  %s %s\t%s\trestarts %d\t%s\n", tick(p.Ready), p.Name, p.Phase, p.Restarts, p.Problem)
		}
	}
	if len(r.Definitions) > 0 {
		fmt.Fprintln(tw, "\nDefinitions:")
		for _, d := range r.Definitions {
			present := "present"
			if !d.Present {
				present = "missing"
			}
			fmt.Fprintf(tw, "  %s %s %s\t%s\n", tick(d.Present || !r.Enabled), d.Kind, d.Name, present)
		}
	}
	tw.Flush()
	if len(r.Problems) > 0 {
		fmt.Fprintln(w, "\nUnhealthy:")
		for _, p := range r.Problems {
			fmt.Fprintf(w, "  - %s\n", p)
		}
	}
}

// tick marks a check: ✓ or ✗.
func tick(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

func checkOutput(o string) error {
	if o != "" && o != "json" && o != "yaml" {
		return fmt.Errorf("--output %q: want json or yaml", o)
	}
	return nil
}

func printStructured(w io.Writer, format string, v any) error {
	var (
		data []byte
		err  error
	)
	if format == "json" {
		data, err = json.MarshalIndent(v, "", "  ")
		data = append(data, '\n')
	} else {
		data, err = yaml.Marshal(v)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// exactArgs wants n arguments, naming them in the error.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("'%s' takes %s; see '%s --help'", cmd.CommandPath(), names, cmd.CommandPath())
		}
		return nil
	}
}

// addonProgress shows each step of enabling or disabling as an install
// step (a spinner on a terminal, a ✓ line when it is done).
type addonProgress struct {
	steps   *stepProgress
	active  bool
	begin   time.Time
	waiting string
}

func (p *addonProgress) Step(msg string) {
	if p.active {
		p.steps.Done(nil, time.Since(p.begin))
	}
	p.steps.Start(msg)
	p.active, p.begin, p.waiting = true, time.Now(), ""
}

func (p *addonProgress) Waiting(msg string) {
	if msg == p.waiting {
		return
	}
	p.waiting = msg
	p.steps.Update(msg)
}

func (p *addonProgress) finish(err error) {
	if p.active {
		p.steps.Done(err, time.Since(p.begin))
		p.active = false
	}
}
