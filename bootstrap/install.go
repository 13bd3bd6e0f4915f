package bootstrap

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/velad-dev/velad/embedded/config"
)

// InstallOptions are what install needs to know.
type InstallOptions struct {
	Config config.Config
	// ServerArgs are the `velad server` flags to run the daemon with.
	ServerArgs []string
	// Self is the path of the running velad binary.
	Self    string
	Host    Host
	Daemon  Daemon
	Timeout time.Duration
	// Controller is the application controller's chart and values; nil
	// installs the cluster only (--cluster-only).
	Controller *ControllerChart
}

// InstallSteps lists what `velad install` does, in order.
func InstallSteps(o *InstallOptions) []Step {
	cfg := &o.Config
	var cs clientHolder
	steps := []Step{
		{"Preparing the host (kernel modules, sysctls)", func(context.Context) error { return prepareHost(o.Host.ProcRoot) }},
		{"Checking the host", func(context.Context) error {
			if running, _ := o.Daemon.Running(); running {
				// Re-install: the ports are ours; stop to replace the binary.
				if err := o.Daemon.Stop(); err != nil {
					return err
				}
			}
			return Preflight(o.Host, cfg)
		}},
		{"Installing the velad binary to " + InstalledBinary + " (and vela, kubectl links)", func(context.Context) error {
			if _, err := installBinary(o.Self); err != nil {
				return err
			}
			return linkCommands(filepath.Dir(InstalledBinary), InstalledBinary, exec.LookPath)
		}},
		{"Starting velad (" + o.Daemon.Kind() + ")", func(context.Context) error { return o.Daemon.Install(o.ServerArgs) }},
		{"Waiting for the API server", func(ctx context.Context) error {
			return waitFor(ctx, o.Timeout, "the API server", func(ctx context.Context) (bool, string) {
				if err := cs.load(cfg.Paths().AdminKubeconfig); err != nil {
					return false, err.Error()
				}
				if _, err := cs.c.Discovery().ServerVersion(); err != nil {
					return false, err.Error()
				}
				return true, ""
			})
		}},
		{"Waiting for the node to be Ready", func(ctx context.Context) error {
			return waitFor(ctx, o.Timeout, "node "+cfg.NodeName, func(ctx context.Context) (bool, string) {
				return NodeReady(ctx, cs.c, cfg.NodeName)
			})
		}},
		{"Waiting for cluster DNS (CoreDNS)", func(ctx context.Context) error {
			return waitFor(ctx, o.Timeout, "CoreDNS", func(ctx context.Context) (bool, string) {
				return DeploymentAvailable(ctx, cs.c, "kube-system", "coredns")
			})
		}},
		{"Waiting for local-path storage", func(ctx context.Context) error {
			return waitFor(ctx, o.Timeout, "the local-path provisioner", func(ctx context.Context) (bool, string) {
				return DeploymentAvailable(ctx, cs.c, "local-path-storage", "local-path-provisioner")
			})
		}},
	}
	if o.Controller == nil {
		return steps
	}
	kubeconfig := cfg.Paths().AdminKubeconfig
	return append(steps,
		Step{"Installing the velad controller (Helm release " + ControllerNamespace + "/" + ControllerRelease + ")", func(ctx context.Context) error {
			return installController(ctx, kubeconfig, o.Controller, o.Timeout)
		}},
		Step{"Waiting for the velad controller and its definitions", func(ctx context.Context) error {
			if err := cs.load(kubeconfig); err != nil {
				return err
			}
			c, err := runtimeClient(kubeconfig)
			if err != nil {
				return err
			}
			return waitFor(ctx, o.Timeout, "the velad controller", func(ctx context.Context) (bool, string) {
				return ControllerReady(ctx, cs.c, c)
			})
		}},
	)
}

// clientHolder builds the client once the kubeconfig exists.
type clientHolder struct {
	c kubernetes.Interface
}

func (h *clientHolder) load(kubeconfig string) error {
	if h.c != nil {
		return nil
	}
	c, err := clientFor(kubeconfig)
	if err != nil {
		return err
	}
	h.c = c
	return nil
}

// Install runs the install steps.
func Install(ctx context.Context, o *InstallOptions, p Progress) error {
	if err := RunSteps(ctx, InstallSteps(o), p); err != nil {
		return err
	}
	p.Note(fmt.Sprintf("velad is running: kubeconfig %s", o.Config.KubeconfigPath))
	return nil
}
