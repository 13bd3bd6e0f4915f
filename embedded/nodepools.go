package embedded

import (
	"context"
	"fmt"

	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/velad-dev/velad/embedded/component"
	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/nodepool"
	"github.com/velad-dev/velad/embedded/pki"
	"github.com/velad-dev/velad/embedded/supervisor"
)

// NodePools applies the NodePool CRD and runs its controller in the
// server, as k3s runs its own controllers; it also grants every node's
// pod network its permissions (it needs them before any node starts).
type NodePools struct {
	Config *config.Config

	inProcess
}

var (
	_ component.Component = (*NodePools)(nil)
	_ component.Failer    = (*NodePools)(nil)
)

// Name implements component.Component.
func (n *NodePools) Name() string { return "node pools" }

// Init implements component.Component.
func (n *NodePools) Init(context.Context) error { return nil }

// Start implements component.Component: the CRD is served when it returns.
func (n *NodePools) Start(ctx context.Context) error {
	rc, err := clientcmd.BuildConfigFromFlags("", n.Config.Paths().AdminKubeconfig)
	if err != nil {
		return err
	}
	ext, err := apiextensions.NewForConfig(rc)
	if err != nil {
		return err
	}
	if err := nodepool.ApplyCRD(ctx, ext); err != nil {
		return err
	}
	cs, dyn, err := adminClients(n.Config)
	if err != nil {
		return err
	}
	if err := nodepool.EnsurePodNetworkRBAC(ctx, cs, pki.PodNetworkUser); err != nil {
		return err
	}
	c := &nodepool.Controller{Client: cs, Dynamic: dyn, OnNodeDeleted: func(ctx context.Context, node string) {
		if err := supervisor.DeleteNodePassword(ctx, cs, node); err != nil {
			klog.Warningf("node %s was deleted; its node password stays: %v", node, err)
		}
	}}
	n.run(n.context(), func(ctx context.Context) error {
		if err := c.Run(ctx); err != nil {
			return fmt.Errorf("node pool controller: %w", err)
		}
		return nil
	})
	return nil
}

// Stop implements component.Component.
func (n *NodePools) Stop() error { return n.stop() }
