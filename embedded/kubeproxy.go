package embedded

import (
	"context"
	"fmt"
	"os/exec"
	"time"

	"github.com/spf13/pflag"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"

	"github.com/velad-dev/velad/embedded/component"
	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/pki"
)

// ProxyMode picks kube-proxy's mode from the host's userland: iptables
// when the iptables command exists, else nftables.
func ProxyMode(lookPath func(string) (string, error)) (string, error) {
	if _, err := lookPath("iptables"); err == nil {
		return "iptables", nil
	}
	if _, err := lookPath("nft"); err == nil {
		return "nftables", nil
	}
	return "", fmt.Errorf("neither iptables nor nft is installed; install the iptables package (apt-get install iptables)")
}

// KubeProxyArgs builds kube-proxy's command line (pure).
func KubeProxyArgs(cfg *config.Config, mode string) []string {
	return []string{
		"--cluster-cidr=" + cfg.ClusterCIDR,
		"--conntrack-max-per-core=0",
		"--conntrack-tcp-timeout-close-wait=0s",
		"--conntrack-tcp-timeout-established=0s",
		"--healthz-bind-address=127.0.0.1:10256",
		"--hostname-override=" + cfg.NodeName,
		"--kubeconfig=" + cfg.Paths().KubeProxyKubeconfig,
		"--metrics-bind-address=127.0.0.1:10249",
		"--proxy-mode=" + mode,
	}
}

// KubeProxy is kube-proxy, run in this process.
type KubeProxy struct {
	Config *config.Config

	inProcess
	mode string
}

var (
	_ component.Component = (*KubeProxy)(nil)
	_ component.Readier   = (*KubeProxy)(nil)
	_ component.Failer    = (*KubeProxy)(nil)
)

// Name implements component.Component.
func (k *KubeProxy) Name() string { return "kube-proxy" }

// Init implements component.Component.
func (k *KubeProxy) Init(context.Context) error {
	mode, err := ProxyMode(exec.LookPath)
	if err != nil {
		return err
	}
	k.mode = mode
	return writeComponentKubeconfig(k.Config, k.Config.Paths().KubeProxyKubeconfig, pki.KubeProxyCert)
}

// Start implements component.Component.
func (k *KubeProxy) Start(context.Context) error {
	opts := proxy.NewOptions()
	fs := pflag.NewFlagSet("kube-proxy", pflag.ContinueOnError)
	opts.AddFlags(fs)
	if err := fs.Parse(KubeProxyArgs(k.Config, k.mode)); err != nil {
		return fmt.Errorf("kube-proxy flags: %w", err)
	}
	if err := opts.Complete(fs); err != nil {
		return fmt.Errorf("kube-proxy settings: %w", err)
	}
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("kube-proxy settings: %w", err)
	}
	k.detachAfter = 2 * time.Second
	ctx := k.context()
	k.run(ctx, opts.Run)
	return nil
}

// Ready implements component.Readier.
func (k *KubeProxy) Ready(ctx context.Context) error {
	return (&probe{client: plainClient()}).ok(ctx, "http://127.0.0.1:10256/healthz")
}

// Stop implements component.Component.
func (k *KubeProxy) Stop() error { return k.stop() }
