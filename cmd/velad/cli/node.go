package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/velad-dev/velad/bootstrap"
	"github.com/velad-dev/velad/embedded"
	"github.com/velad-dev/velad/embedded/config"
)

// installOnlyFlags are install's own flags, not passed to the server.
var installOnlyFlags = map[string]bool{"timeout": true, "cluster-only": true, "set": true}

func newInstallCommand() *cobra.Command {
	cfg := config.Default()
	timeout := 5 * time.Minute
	var clusterOnly bool
	var sets []string
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install velad on this machine and wait until the platform is ready",
		Long: `Install checks the host, installs this binary to /usr/local/bin/velad,
runs 'velad server' as a daemon (a systemd unit where systemd runs the
machine, else a supervised background process) and waits until the node is
Ready and cluster DNS and storage are available. Then it installs (or
upgrades) the application controller from the Helm chart velad carries,
into vela-system, and waits until it and the built-in definitions are
ready; --cluster-only skips that. Running it again on an installed machine
restarts velad with this binary and these flags and upgrades the
controller. It takes every 'velad server' flag.`,
		Example: `  velad install
  velad install --cluster-only
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
			if !clusterOnly {
				var err error
				if controller, err = bootstrap.PrepareControllerChart(sets); err != nil {
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
	cmd.Flags().BoolVar(&clusterOnly, "cluster-only", false, "install Kubernetes only, not the application controller")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "a value of the controller's chart, key=value (repeatable; see charts/velad-controller/values.yaml)")
	return cmd
}

// serverArgs are the flags the daemon runs `velad server` with: what the
// user set, plus the data dir and kubeconfig path always.
func serverArgs(fs *pflag.FlagSet, cfg *config.Config) []string {
	args := []string{"--data-dir=" + cfg.DataDir, "--write-kubeconfig=" + cfg.KubeconfigPath}
	fs.Visit(func(f *pflag.Flag) {
		if installOnlyFlags[f.Name] || f.Name == "data-dir" || f.Name == "write-kubeconfig" {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				args = append(args, "--"+f.Name+"="+v)
			}
			return
		}
		args = append(args, "--"+f.Name+"="+f.Value.String())
	})
	return args
}

func newUninstallCommand() *cobra.Command {
	cfg := config.Default()
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Remove velad and everything it created from this machine",
		Long: `Uninstall stops velad and its pods, then removes what install and the
server created: processes, mounts, network namespaces, the cni0 bridge and
veths, the iptables/nft rules, the data dir, the kubeconfig, the daemon's
files and the installed binary. It is safe to run again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if os.Getuid() != 0 {
				return fmt.Errorf("velad uninstall needs root; run it with sudo")
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			opts := &bootstrap.UninstallOptions{Config: cfg, Daemon: bootstrap.NewDaemon(), ProcRoot: "/proc"}
			if err := bootstrap.Uninstall(cmd.Context(), opts, newProgress(cmd.OutOrStdout())); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "velad is uninstalled.")
			return nil
		},
	}
	cmd.Flags().StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "data dir of the installed server")
	cmd.Flags().StringVarP(&cfg.KubeconfigPath, "write-kubeconfig", "o", cfg.KubeconfigPath, "kubeconfig file install wrote")
	return cmd
}

func newStartCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "start",
		Short: "Start the installed velad daemon again (after a stop or a crash)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return bootstrap.NewDaemon().Start()
		},
	}
}

func newStopCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "Stop the velad daemon (pods keep their data; 'velad start' brings it back)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return bootstrap.NewDaemon().Stop()
		},
	}
}

func runClusterStatus(cmd *cobra.Command, dataDir string) error {
	cfg := config.Default()
	cfg.DataDir = dataDir
	if err := embedded.Complete(&cfg); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(orBackground(cmd.Context()), 30*time.Second)
	defer cancel()
	healthy := true
	for _, l := range bootstrap.Status(ctx, &cfg, bootstrap.NewDaemon()) {
		mark := "✓"
		if !l.OK {
			mark, healthy = "✗", false
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s %-40s %s\n", mark, l.Name, l.Detail)
	}
	if !healthy {
		return exitCode(1)
	}
	return nil
}

// stepProgress shows install steps: a spinner on a terminal, plain lines
// otherwise (logs, CI).
type stepProgress struct {
	out  io.Writer
	tty  bool
	bar  *progressbar.ProgressBar
	name string
}

func newProgress(out io.Writer) *stepProgress {
	f, ok := out.(*os.File)
	return &stepProgress{out: out, tty: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *stepProgress) Start(name string) {
	p.name = name
	if p.tty {
		p.bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(p.out), progressbar.OptionSetDescription(name),
			progressbar.OptionSpinnerType(14), progressbar.OptionClearOnFinish())
		go func(b *progressbar.ProgressBar) {
			for !b.IsFinished() {
				_ = b.Add(1)
				time.Sleep(100 * time.Millisecond)
			}
		}(p.bar)
	}
}

func (p *stepProgress) Done(err error, took time.Duration) {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
	mark := "✓"
	if err != nil {
		mark = "✗"
	}
	if took > 0 {
		fmt.Fprintf(p.out, "%s %s (%s)\n", mark, p.name, took.Round(100*time.Millisecond))
	} else {
		fmt.Fprintf(p.out, "%s %s\n", mark, p.name)
	}
}

func (p *stepProgress) Note(msg string) { fmt.Fprintln(p.out, msg) }
