package embedded

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/velad-dev/velad/embedded/component"
	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/nodepool"
	"github.com/velad-dev/velad/embedded/pki"
	"github.com/velad-dev/velad/embedded/supervisor"
	"github.com/velad-dev/velad/embedded/token"
)

// Supervisor serves the join API for agents on --supervisor-port, with
// the API server's serving certificate (signed by the server CA).
type Supervisor struct {
	Config *config.Config

	srv    *http.Server
	failed chan error
}

var (
	_ component.Component = (*Supervisor)(nil)
	_ component.Failer    = (*Supervisor)(nil)
)

// Name implements component.Component.
func (s *Supervisor) Name() string { return "supervisor" }

// Init implements component.Component.
func (s *Supervisor) Init(context.Context) error {
	return portFree(s.addr(), fmt.Sprintf("(--supervisor-port %d)", s.Config.SupervisorPort))
}

func (s *Supervisor) addr() string {
	return net.JoinHostPort(s.Config.BindIP, strconv.Itoa(s.Config.SupervisorPort))
}

// Start implements component.Component.
func (s *Supervisor) Start(context.Context) error {
	spec := PKISpec(s.Config)
	cert, err := tls.LoadX509KeyPair(spec.CertFile(pki.APIServerServingCert), spec.KeyFile(pki.APIServerServingCert))
	if err != nil {
		return fmt.Errorf("serving certificate: %w", err)
	}
	data, err := os.ReadFile(s.Config.Paths().TokenFile)
	if err != nil {
		return fmt.Errorf("server token: %w", err)
	}
	serverToken, err := token.Parse(string(data))
	if err != nil {
		return fmt.Errorf("server token %s: %w", s.Config.Paths().TokenFile, err)
	}
	cs, dyn, err := adminClients(s.Config)
	if err != nil {
		return err
	}
	h := &supervisor.Handler{
		Client:      cs,
		PKI:         spec,
		ServerToken: serverToken,
		Cluster: supervisor.ClusterSettings{
			APIServerPort: s.Config.HTTPSPort,
			ClusterCIDR:   s.Config.ClusterCIDR,
			ServiceCIDR:   s.Config.ServiceCIDR,
			ClusterDomain: s.Config.ClusterDomain,
		},
		Pools: func(ctx context.Context, name string) (supervisor.Pool, error) {
			p, err := nodepool.Get(ctx, dyn, name)
			if errors.Is(err, nodepool.ErrNotFound) {
				return supervisor.Pool{}, supervisor.ErrNoPool
			}
			if err != nil {
				return supervisor.Pool{}, err
			}
			return supervisor.Pool{Labels: p.NodeLabels(), Taints: p.NodeTaints()}, nil
		},
	}
	l, err := net.Listen("tcp", s.addr())
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.addr(), err)
	}
	s.srv = &http.Server{
		Handler:           h,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
	}
	s.failed = make(chan error, 1)
	go func() {
		if err := s.srv.ServeTLS(l, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.failed <- err
		}
	}()
	klog.Infof("supervisor: agents join on %s", l.Addr())
	return nil
}

// Failed implements component.Failer.
func (s *Supervisor) Failed() <-chan error { return s.failed }

// Stop implements component.Component.
func (s *Supervisor) Stop() error {
	if s.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

func adminClients(cfg *config.Config) (kubernetes.Interface, dynamic.Interface, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", cfg.Paths().AdminKubeconfig)
	if err != nil {
		return nil, nil, err
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, nil, err
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, nil, err
	}
	return cs, dyn, nil
}
