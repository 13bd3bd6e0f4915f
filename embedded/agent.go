package embedded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strconv"
	"time"

	"k8s.io/klog/v2"

	"github.com/velad-dev/velad/embedded/component"
	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/loadbalancer"
)

// Agent is a velad agent: a node (containerd, kubelet, kube-proxy, the
// pod network) that joins a server through its supervisor.
type Agent struct {
	Config   config.Config
	Reporter component.Reporter

	manager *component.Manager
}

// AgentComponents lists the parts of an agent in start order.
func AgentComponents(cfg *config.Config) []component.Component {
	join := &Join{Config: cfg}
	rt := &Runtime{Config: cfg}
	img := &Images{Config: cfg, Runtime: rt, Deferred: true}
	return []component.Component{
		join,
		&LoadBalancer{Config: cfg, Join: join},
		rt,
		&Containerd{Config: cfg, Runtime: rt},
		img,
		&Kubelet{Config: cfg},
		&NodeImagesImported{Images: img},
		&CNI{Config: cfg},
		&PodNetwork{Config: cfg},
		&KubeProxy{Config: cfg},
	}
}

// Start validates the settings and starts every component in order.
func (a *Agent) Start(ctx context.Context) error {
	if !a.Config.IsAgent() {
		return errors.New("--server is needed: the https://HOST:9345 address of the server to join")
	}
	if err := a.Config.Validate(); err != nil {
		return err
	}
	if err := Complete(&a.Config); err != nil {
		return err
	}
	a.manager = &component.Manager{Components: AgentComponents(&a.Config), ReadyTimeout: 3 * time.Minute, Reporter: a.Reporter}
	return a.manager.Start(ctx)
}

// Run starts the agent, waits until ctx ends or a component fails, then
// stops it.
func (a *Agent) Run(ctx context.Context) error {
	begin := time.Now()
	if err := a.Start(ctx); err != nil {
		if ctx.Err() != nil {
			klog.Info("stopped before the node was ready")
			return nil
		}
		return err
	}
	klog.Infof("velad agent ready in %s", time.Since(begin).Round(time.Millisecond))
	// Starting (unpacking and importing the image payload above all)
	// leaves garbage an edge box should not keep resident.
	debug.FreeOSMemory()
	runErr := a.manager.Wait(ctx)
	return errors.Join(runErr, a.manager.Stop())
}

// LoadBalancer is the agent's local proxy to the server's API server.
type LoadBalancer struct {
	Config *config.Config
	Join   *Join

	lb *loadbalancer.LB
}

var _ component.Component = (*LoadBalancer)(nil)

// Name implements component.Component.
func (l *LoadBalancer) Name() string { return "load balancer" }

func (l *LoadBalancer) addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Config.HTTPSPort))
}

// Init implements component.Component.
func (l *LoadBalancer) Init(context.Context) error {
	return portFree(l.addr(), fmt.Sprintf("(--lb-server-port %d)", l.Config.HTTPSPort))
}

// Start implements component.Component.
func (l *LoadBalancer) Start(context.Context) error {
	l.lb = &loadbalancer.LB{Listen: l.addr(), Backend: l.Join.APIServer}
	if err := l.lb.Start(); err != nil {
		return fmt.Errorf("listen on %s: %w", l.addr(), err)
	}
	return nil
}

// Stop implements component.Component.
func (l *LoadBalancer) Stop() error {
	if l.lb == nil {
		return nil
	}
	return l.lb.Close()
}
