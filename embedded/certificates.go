package embedded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"k8s.io/klog/v2"

	"github.com/velad-dev/velad/embedded/component"
	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/fileutil"
	"github.com/velad-dev/velad/embedded/kubeconfig"
	"github.com/velad-dev/velad/embedded/pki"
	"github.com/velad-dev/velad/embedded/token"
)

// Certificates lays out the data dir and makes sure the PKI, the token and
// the kubeconfigs exist and are current. All its work happens in Init, so
// a bad data dir or a corrupt CA stops the server before anything runs.
type Certificates struct {
	Config *config.Config
}

var _ component.Component = (*Certificates)(nil)

// Name implements component.Component.
func (c *Certificates) Name() string { return "certificates" }

// Init implements component.Component.
func (c *Certificates) Init(context.Context) error {
	p := c.Config.Paths()
	for _, dir := range p.PrivateDirs() {
		if err := fileutil.MkdirAll(dir, config.PrivateDirMode); err != nil {
			return fmt.Errorf("data dir %s is not usable (%v); run as root or pick another --data-dir", c.Config.DataDir, unwrapPath(err))
		}
	}
	spec := PKISpec(c.Config)
	res, err := pki.Ensure(spec)
	if err != nil {
		return err
	}
	if len(res.Created) > 0 {
		klog.Infof("created certificates: %v", res.Created)
	}
	if len(res.Renewed) > 0 {
		klog.Infof("renewed certificates: %v", res.Renewed)
	}
	serverCA, err := spec.ReadCert(pki.ServerCA)
	if err != nil {
		return err
	}
	if _, err := token.Ensure(p.TokenFile, serverCA, c.Config.Token); err != nil {
		return err
	}
	return c.writeKubeconfigs(spec, serverCA)
}

func (c *Certificates) writeKubeconfigs(spec pki.Spec, serverCA []byte) error {
	p := c.Config.Paths()
	local := LocalAPIServerURL(c.Config)
	files := []struct {
		path, cert string
	}{
		{p.AdminKubeconfig, pki.AdminCert},
		{p.ControllerManagerKubeconfig, pki.ControllerManagerCert},
		{p.SchedulerKubeconfig, pki.SchedulerCert},
	}
	var admin []byte
	for _, f := range files {
		data, err := renderKubeconfig(spec, local, serverCA, f.cert)
		if err != nil {
			return err
		}
		if _, err := fileutil.WriteIfChanged(f.path, data, config.SecretFileMode); err != nil {
			return err
		}
		if f.cert == pki.AdminCert {
			admin = data
		}
	}
	if err := c.writeExternalKubeconfig(admin); err != nil {
		return err
	}
	if c.Config.KubeconfigPath == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(c.Config.KubeconfigPath), config.DirMode); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", c.Config.KubeconfigPath, err)
	}
	if _, err := fileutil.WriteIfChanged(c.Config.KubeconfigPath, admin, config.SecretFileMode); err != nil {
		return fmt.Errorf("write kubeconfig (choose another path with --write-kubeconfig): %w", err)
	}
	return nil
}

// writeExternalKubeconfig keeps a copy of the admin kubeconfig that points
// at --bind-ip, for `velad kubeconfig --external`.
func (c *Certificates) writeExternalKubeconfig(admin []byte) error {
	path := c.Config.Paths().ExternalAdminKubeconfig
	if c.Config.BindIP == "" {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	data, err := kubeconfig.WithServer(admin, "https://"+net.JoinHostPort(c.Config.BindIP, strconv.Itoa(c.Config.HTTPSPort)))
	if err != nil {
		return err
	}
	_, err = fileutil.WriteIfChanged(path, data, config.SecretFileMode)
	return err
}

func renderKubeconfig(spec pki.Spec, server string, ca []byte, cert string) ([]byte, error) {
	certPEM, err := spec.ReadCert(cert)
	if err != nil {
		return nil, err
	}
	keyPEM, err := spec.ReadKey(cert)
	if err != nil {
		return nil, err
	}
	return kubeconfig.Render(kubeconfig.Spec{Server: server, CAPEM: ca, CertPEM: certPEM, KeyPEM: keyPEM})
}

// Start implements component.Component; there is nothing to run.
func (c *Certificates) Start(context.Context) error { return nil }

// Stop implements component.Component.
func (c *Certificates) Stop() error { return nil }

// PKISpec derives the PKI spec (folder and API server names) from cfg.
func PKISpec(cfg *config.Config) pki.Spec {
	var ips []net.IP
	var dns []string
	add := func(s string) {
		if s == "" {
			return
		}
		if ip := net.ParseIP(s); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, s)
		}
	}
	if ip := cfg.ServiceIP(); ip != nil {
		ips = append(ips, ip)
	}
	add(cfg.BindIP)
	add(cfg.AdvertiseIP)
	for _, san := range cfg.TLSSANs {
		add(san)
	}
	dir := cfg.Paths().TLSDir
	if cfg.IsAgent() {
		dir = cfg.Paths().AgentTLSDir
	}
	spec := pki.Spec{Dir: dir, APIServerIPs: ips, APIServerDNS: dns, ClusterDomain: cfg.ClusterDomain}
	if !cfg.DisableAgent && cfg.NodeName != "" {
		node := &pki.Node{Name: cfg.NodeName}
		if ip := net.ParseIP(cfg.NodeIP); ip != nil {
			node.IPs = append(node.IPs, ip)
		}
		spec.Node = node
	}
	return spec
}

// LocalAPIServerURL is how processes on this machine reach the API server.
func LocalAPIServerURL(cfg *config.Config) string {
	return "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.HTTPSPort))
}

// unwrapPath drops the *PathError wrapper's op for a shorter message.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}
