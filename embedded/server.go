// Package embedded is velad's embedded Kubernetes: one file per part
// (datastore, certificates, kube-apiserver, kube-controller-manager,
// kube-scheduler; the runtime, containerd, images, kubelet, CNI,
// kube-proxy and cluster services of the node), each a
// component.Component, assembled by Server.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/klog/v2"

	"github.com/velad-dev/velad/embedded/component"
	"github.com/velad-dev/velad/embedded/config"
)

// Server is a velad server: the control plane of one machine and, unless
// --disable-agent, its node.
type Server struct {
	Config   config.Config
	Reporter component.Reporter

	manager *component.Manager
}

// Components lists the parts of the server in start order: the control
// plane, then (unless --disable-agent) the node.
func Components(cfg *config.Config) []component.Component {
	ds := &Datastore{Config: cfg}
	parts := []component.Component{
		&Certificates{Config: cfg},
		ds,
		&APIServer{Config: cfg, Datastore: ds},
		&ControllerManager{Config: cfg, Datastore: ds},
		&Scheduler{Config: cfg, Datastore: ds},
		&NodePools{Config: cfg},
	}
	if cfg.SupervisorPort != 0 {
		parts = append(parts, &Supervisor{Config: cfg})
	}
	if cfg.DisableAgent {
		return parts
	}
	rt := &Runtime{Config: cfg}
	return append(parts,
		rt,
		&Containerd{Config: cfg, Runtime: rt},
		&Images{Config: cfg, Runtime: rt},
		&Kubelet{Config: cfg},
		&CNI{Config: cfg},
		&PodNetwork{Config: cfg},
		&KubeProxy{Config: cfg},
		&ClusterServices{Config: cfg},
	)
}

// Start validates the settings and starts every component in order,
// returning once all are ready.
func (s *Server) Start(ctx context.Context) error {
	if err := s.Config.Validate(); err != nil {
		return err
	}
	if err := Complete(&s.Config); err != nil {
		return err
	}
	s.manager = &component.Manager{
		Components:   Components(&s.Config),
		ReadyTimeout: 3 * time.Minute,
		Reporter:     s.Reporter,
	}
	return s.manager.Start(ctx)
}

// Wait blocks until ctx ends (nil) or a component fails (its error).
func (s *Server) Wait(ctx context.Context) error { return s.manager.Wait(ctx) }

// Stop stops every component in reverse order, the datastore last.
func (s *Server) Stop() error {
	if s.manager == nil {
		return nil
	}
	return s.manager.Stop()
}

// Run starts the server, waits until ctx ends or a component fails, then
// stops it.
func (s *Server) Run(ctx context.Context) error {
	begin := time.Now()
	if err := s.Start(ctx); err != nil {
		if ctx.Err() != nil {
			// Asked to stop while starting: Start has stopped what it began.
			klog.Info("stopped before the control plane was ready")
			return nil
		}
		return err
	}
	klog.Infof("velad server ready in %s", time.Since(begin).Round(time.Millisecond))
	runErr := s.Wait(ctx)
	return errors.Join(runErr, s.Stop())
}

// Complete fills settings that depend on the host.
func Complete(cfg *config.Config) error {
	if err := completeAdvertiseIP(cfg); err != nil {
		return err
	}
	if cfg.DisableAgent {
		return nil
	}
	if cfg.NodeName == "" {
		host, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("cannot read the hostname (%v); pass --node-name", err)
		}
		cfg.NodeName = strings.ToLower(host)
	}
	if cfg.NodeIP == "" {
		cfg.NodeIP = cfg.AdvertiseIP
	}
	return nil
}

func completeAdvertiseIP(cfg *config.Config) error {
	if cfg.AdvertiseIP != "" {
		return nil
	}
	// The API server may not advertise a loopback address: the
	// `kubernetes` Service must be reachable from pods.
	if ip := net.ParseIP(cfg.BindIP); ip != nil && !ip.IsLoopback() {
		cfg.AdvertiseIP = cfg.BindIP
		return nil
	}
	ip, err := utilnet.ChooseHostInterface()
	if err != nil {
		return fmt.Errorf("cannot find this host's address for the API server to advertise (%v); pass --advertise-address or --bind-ip", err)
	}
	cfg.AdvertiseIP = ip.String()
	return nil
}
