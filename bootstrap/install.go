package bootstrap

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

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
	// Addons are enabled after the controller (the default ones but those
	// --disable-addon names; what they depend on comes first). Ignored
	// without a controller.
	Addons []string
	// IngressPorts are the node ports the ingress addon's Traefik takes
	// (its chart's hostPorts); empty when it is not installed.
	IngressPorts []int
}

// InstallSteps lists what `velad install` does, in order. Each step is a
// method of installer in its own step_*.go file.
func InstallSteps(o *InstallOptions) []Step {
	in := &installer{o: o}
	steps := []Step{{"Preparing the host (kernel modules, sysctls)", in.prepareHost}}
	if running, _ := o.Daemon.Running(); running {
		steps = append(steps, Step{"Stopping the running velad", in.stopRunning})
	}
	steps = append(steps,
		Step{"Checking the host", in.checkHost},
		Step{"Installing the velad binary to " + InstalledBinary + " (and vela, kubectl links)", in.installBinary},
		Step{"Starting velad (" + o.Daemon.Kind() + ")", in.startDaemon},
		Step{"Waiting for the API server", in.waitAPIServer},
		Step{"Waiting for the node to be Ready", in.waitNode},
		Step{"Waiting for cluster DNS (CoreDNS)", in.waitDeployment("kube-system", "coredns", "CoreDNS")},
		Step{"Waiting for local-path storage", in.waitDeployment("local-path-storage", "local-path-provisioner", "the local-path provisioner")},
	)
	if o.Controller == nil {
		return steps
	}
	steps = append(steps,
		Step{"Installing the velad controller (Helm release " + ControllerNamespace + "/" + ControllerRelease + ")", in.installController},
		Step{"Waiting for the velad controller and its definitions", in.waitController},
	)
	if len(o.Addons) == 0 {
		return steps
	}
	return append(steps, Step{"Enabling the default addons (" + strings.Join(o.Addons, ", ") + ")", in.enableAddons})
}

// installer is one run of `velad install`: the options, and the cluster's
// clients, built once when the API server first answers and shared by
// every later step.
type installer struct {
	o *InstallOptions

	kube kubernetes.Interface
	ctrl client.Client
	// started is when this run started the daemon; the node's Ready
	// condition counts only when its kubelet posted it after that.
	started time.Time
}

// Install runs the install steps.
func Install(ctx context.Context, o *InstallOptions, p Progress) error {
	if err := RunSteps(ctx, InstallSteps(o), p); err != nil {
		return err
	}
	p.Note(fmt.Sprintf("velad is running: kubeconfig %s", o.Config.KubeconfigPath))
	return nil
}
