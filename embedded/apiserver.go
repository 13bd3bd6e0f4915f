package embedded

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	apiserveroptions "k8s.io/kubernetes/cmd/kube-apiserver/app/options"

	"github.com/velad-dev/velad/embedded/component"
	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/pki"
)

// EtcdEndpoint is where the API server finds its storage.
type EtcdEndpoint struct {
	Servers  []string
	CAFile   string
	CertFile string
	KeyFile  string
}

// APIServerArgs builds the kube-apiserver command line. It has no side
// effects; its output is checked against a golden file.
func APIServerArgs(cfg *config.Config, etcd EtcdEndpoint) []string {
	p := cfg.Paths()
	spec := PKISpec(cfg)
	issuer := "https://kubernetes.default.svc." + cfg.ClusterDomain
	args := []string{
		"--advertise-address=" + cfg.AdvertiseIP,
		"--allow-privileged=true",
		"--anonymous-auth=false",
		"--api-audiences=" + issuer + ",velad",
		"--authorization-mode=Node,RBAC",
		"--bind-address=0.0.0.0",
		"--cert-dir=" + p.TempCertDir,
		"--client-ca-file=" + spec.CertFile(pki.ClientCA),
		"--enable-admission-plugins=NodeRestriction",
		"--enable-aggregator-routing=true",
		"--enable-bootstrap-token-auth=true",
		"--etcd-servers=" + strings.Join(etcd.Servers, ","),
		"--kubelet-certificate-authority=" + spec.CertFile(pki.ServerCA),
		"--kubelet-client-certificate=" + spec.CertFile(pki.KubeletClientCert),
		"--kubelet-client-key=" + spec.KeyFile(pki.KubeletClientCert),
		"--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
		"--profiling=false",
		"--proxy-client-cert-file=" + spec.CertFile(pki.AuthProxyCert),
		"--proxy-client-key-file=" + spec.KeyFile(pki.AuthProxyCert),
		"--requestheader-allowed-names=system:auth-proxy",
		"--requestheader-client-ca-file=" + spec.CertFile(pki.RequestHeaderCA),
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-username-headers=X-Remote-User",
		"--secure-port=" + strconv.Itoa(cfg.HTTPSPort),
		"--service-account-issuer=" + issuer,
		"--service-account-key-file=" + spec.KeyFile(pki.ServiceAccountKey),
		"--service-account-signing-key-file=" + spec.KeyFile(pki.ServiceAccountKey),
		"--service-cluster-ip-range=" + cfg.ServiceCIDR,
		"--storage-backend=etcd3",
		"--tls-cert-file=" + spec.CertFile(pki.APIServerServingCert),
		"--tls-private-key-file=" + spec.KeyFile(pki.APIServerServingCert),
	}
	if etcd.CAFile != "" {
		args = append(args, "--etcd-cafile="+etcd.CAFile)
	}
	if etcd.CertFile != "" {
		args = append(args, "--etcd-certfile="+etcd.CertFile, "--etcd-keyfile="+etcd.KeyFile)
	}
	return args
}

func apiServerOptions(args []string) (*apiserveroptions.ServerRunOptions, error) {
	opts := apiserveroptions.NewServerRunOptions()
	return opts, parseFlags("kube-apiserver", opts.Flags(), args)
}

// APIServer is kube-apiserver, run in this process.
type APIServer struct {
	Config    *config.Config
	Datastore *Datastore

	inProcess
	probe *probe
}

var (
	_ component.Component = (*APIServer)(nil)
	_ component.Readier   = (*APIServer)(nil)
	_ component.Failer    = (*APIServer)(nil)
)

// Name implements component.Component.
func (a *APIServer) Name() string { return "kube-apiserver" }

// Init implements component.Component.
func (a *APIServer) Init(context.Context) error {
	return portFree(net.JoinHostPort("0.0.0.0", strconv.Itoa(a.Config.HTTPSPort)), "--https-listen-port")
}

// Start implements component.Component.
func (a *APIServer) Start(context.Context) error {
	tlsCfg := a.Datastore.TLS()
	args := APIServerArgs(a.Config, EtcdEndpoint{
		Servers:  a.Datastore.Endpoints(),
		CAFile:   tlsCfg.CAFile,
		CertFile: tlsCfg.CertFile,
		KeyFile:  tlsCfg.KeyFile,
	})
	opts, err := apiServerOptions(args)
	if err != nil {
		return err
	}
	if err := opts.GenericServerRunOptions.ComponentGlobalsRegistry.Set(); err != nil {
		return fmt.Errorf("feature gates: %w", err)
	}
	// The API server's loopback clients should not log self-issued warnings.
	rest.SetDefaultWarningHandler(rest.NoWarnings{})
	// With a node, the kubelet's and kube-proxy's clients outlive their
	// components and can hold the API server's graceful shutdown.
	if !a.Config.DisableAgent {
		a.detachAfter = 15 * time.Second
	}
	ctx := a.context()
	completed, err := opts.Complete(ctx)
	if err != nil {
		a.stop()
		return err
	}
	if errs := completed.Validate(); len(errs) > 0 {
		a.stop()
		return fmt.Errorf("invalid kube-apiserver settings: %v", errs)
	}
	probe, err := newProbe(PKISpec(a.Config), true)
	if err != nil {
		a.stop()
		return err
	}
	a.probe = probe
	a.run(ctx, func(ctx context.Context) error { return apiserver.Run(ctx, completed) })
	return nil
}

// Ready implements component.Readier.
func (a *APIServer) Ready(ctx context.Context) error {
	return a.probe.ok(ctx, LocalAPIServerURL(a.Config)+"/readyz")
}

// Stop implements component.Component.
func (a *APIServer) Stop() error { return a.stop() }
