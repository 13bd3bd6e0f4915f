package embedded

import (
	"context"
	"net"
	"strconv"

	cm "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	cmoptions "k8s.io/kubernetes/cmd/kube-controller-manager/app/options"

	"github.com/velad-dev/velad/embedded/component"
	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/pki"
)

// ControllerManagerArgs builds the kube-controller-manager command line
// (pure). It allocates node pod CIDRs from the cluster CIDR and signs
// CSRs with the cluster CAs.
func ControllerManagerArgs(cfg *config.Config, leaderElect bool) []string {
	p := cfg.Paths()
	spec := PKISpec(cfg)
	return []string{
		"--allocate-node-cidrs=true",
		"--authentication-kubeconfig=" + p.ControllerManagerKubeconfig,
		"--authorization-kubeconfig=" + p.ControllerManagerKubeconfig,
		"--bind-address=127.0.0.1",
		"--cert-dir=" + p.TempCertDir,
		"--cluster-cidr=" + cfg.ClusterCIDR,
		"--cluster-signing-kube-apiserver-client-cert-file=" + spec.CertFile(pki.ClientCA),
		"--cluster-signing-kube-apiserver-client-key-file=" + spec.KeyFile(pki.ClientCA),
		"--cluster-signing-kubelet-client-cert-file=" + spec.CertFile(pki.ClientCA),
		"--cluster-signing-kubelet-client-key-file=" + spec.KeyFile(pki.ClientCA),
		"--cluster-signing-kubelet-serving-cert-file=" + spec.CertFile(pki.ServerCA),
		"--cluster-signing-kubelet-serving-key-file=" + spec.KeyFile(pki.ServerCA),
		"--cluster-signing-legacy-unknown-cert-file=" + spec.CertFile(pki.ServerCA),
		"--cluster-signing-legacy-unknown-key-file=" + spec.KeyFile(pki.ServerCA),
		"--configure-cloud-routes=false",
		"--controllers=*,tokencleaner",
		// The defaults (20 QPS, burst 30 per controller) make the
		// Deployment and ReplicaSet controllers take minutes to catch up
		// with a few hundred new Deployments: creating ReplicaSets and
		// writing status.observedGeneration wait on the client's rate
		// limiter. The API server's priority and fairness still protects
		// it.
		"--kube-api-burst=300",
		"--kube-api-qps=150",
		"--kubeconfig=" + p.ControllerManagerKubeconfig,
		"--leader-elect=" + strconv.FormatBool(leaderElect),
		"--profiling=false",
		"--root-ca-file=" + spec.CertFile(pki.ServerCA),
		"--secure-port=" + strconv.Itoa(cfg.ControllerManagerPort),
		"--service-account-private-key-file=" + spec.KeyFile(pki.ServiceAccountKey),
		"--service-cluster-ip-range=" + cfg.ServiceCIDR,
		"--use-service-account-credentials=true",
	}
}

func controllerManagerOptions(args []string) (*cmoptions.KubeControllerManagerOptions, error) {
	opts, err := cmoptions.NewKubeControllerManagerOptions()
	if err != nil {
		return nil, err
	}
	sets := opts.Flags(cm.KnownControllers(), cm.ControllersDisabledByDefault(), cm.ControllerAliases())
	opts.ParsedFlags = &sets
	return opts, parseFlags("kube-controller-manager", sets, args)
}

// ControllerManager is kube-controller-manager, run in this process.
type ControllerManager struct {
	Config    *config.Config
	Datastore *Datastore

	inProcess
	probe *probe
}

var (
	_ component.Component = (*ControllerManager)(nil)
	_ component.Readier   = (*ControllerManager)(nil)
	_ component.Failer    = (*ControllerManager)(nil)
)

// Name implements component.Component.
func (c *ControllerManager) Name() string { return "kube-controller-manager" }

// Init implements component.Component.
func (c *ControllerManager) Init(context.Context) error {
	return portFree(net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Config.ControllerManagerPort)), "--kube-controller-manager-port")
}

// Start implements component.Component.
func (c *ControllerManager) Start(context.Context) error {
	opts, err := controllerManagerOptions(ControllerManagerArgs(c.Config, c.Datastore.LeaderElect()))
	if err != nil {
		return err
	}
	if err := opts.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	probe, err := newProbe(PKISpec(c.Config), false)
	if err != nil {
		return err
	}
	c.probe = probe
	ctx := c.context()
	cfg, err := opts.Config(ctx, cm.KnownControllers(), cm.ControllersDisabledByDefault(), cm.ControllerAliases())
	if err != nil {
		c.stop()
		return err
	}
	completed := cfg.Complete()
	c.run(ctx, func(ctx context.Context) error { return cm.Run(ctx, completed) })
	return nil
}

// Ready implements component.Readier.
func (c *ControllerManager) Ready(ctx context.Context) error {
	return c.probe.ok(ctx, "https://"+net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Config.ControllerManagerPort))+"/healthz")
}

// Stop implements component.Component.
func (c *ControllerManager) Stop() error { return c.stop() }
