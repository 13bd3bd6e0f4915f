package embedded

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/velad-dev/velad/embedded/component"
	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/fileutil"
	"github.com/velad-dev/velad/embedded/flannel"
	"github.com/velad-dev/velad/embedded/pki"
)

// PodNetwork connects this node's pods to other nodes' pods: flannel
// (package flannel) with the kube subnet manager and the vxlan backend,
// in this process. On a single node it is one idle device.
type PodNetwork struct {
	Config *config.Config

	inProcess
}

var (
	_ component.Component = (*PodNetwork)(nil)
	_ component.Failer    = (*PodNetwork)(nil)
)

// Name implements component.Component.
func (n *PodNetwork) Name() string { return "pod network" }

// Init implements component.Component: the kubeconfig flannel talks to
// the API with, and flannel's network config for the cluster CIDR.
func (n *PodNetwork) Init(context.Context) error {
	p := n.Config.Paths()
	if err := writeComponentKubeconfig(n.Config, p.PodNetworkKubeconfig, pki.PodNetworkCert); err != nil {
		return err
	}
	conf, err := flannel.NetConf(n.Config.ClusterCIDR)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p.FlannelNetConf), config.DirMode); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(p.FlannelNetConf), err)
	}
	_, err = fileutil.WriteIfChanged(p.FlannelNetConf, conf, config.PublicFileMode)
	return err
}

// Start implements component.Component: it checks the node IP and
// starts flannel, which brings the device up, publishes this node's
// lease and follows the other nodes until Stop. Nothing on this node
// waits for it (a single node never needs the device), so it comes up
// beside the components started after it; a failure is reported on
// Failed.
func (n *PodNetwork) Start(context.Context) error {
	p := n.Config.Paths()
	node := flannel.Node{
		Name:       n.Config.NodeName,
		IP:         net.ParseIP(n.Config.NodeIP),
		Kubeconfig: p.PodNetworkKubeconfig,
		NetConf:    p.FlannelNetConf,
	}
	if err := flannel.CheckNodeIP(node.IP); err != nil {
		return err
	}
	n.run(n.context(), func(ctx context.Context) error { return flannel.Run(ctx, node) })
	return nil
}

// Stop implements component.Component; the device stays (pods keep
// their routes while velad restarts); uninstall removes it.
func (n *PodNetwork) Stop() error { return n.stop() }
