package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/velad-dev/velad/embedded/component"
	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/fileutil"
	"github.com/velad-dev/velad/embedded/flannel"
)

// CNINetworkName names velad's pod network; the bridge is BridgeName.
const (
	CNINetworkName = "velad"
	BridgeName     = "cni0"
	cniConfFile    = "10-velad.conflist"
)

// CNIConflist renders the pod network config for a node's pod CIDR: a
// bridge with host-local addresses and masquerading, plus portmap for
// hostPort. containerd adds the loopback interface itself. mtu leaves
// room for the VXLAN header on the node's interface (0: the default).
func CNIConflist(podCIDR, ipamDataDir string, mtu int) ([]byte, error) {
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       CNINetworkName,
		"plugins": []any{
			map[string]any{
				"type":         "bridge",
				"bridge":       BridgeName,
				"isGateway":    true,
				"ipMasq":       true,
				"hairpinMode":  true,
				"forceAddress": true,
				"mtu":          mtu,
				"ipam": map[string]any{
					"type":    "host-local",
					"ranges":  []any{[]any{map[string]any{"subnet": podCIDR}}},
					"routes":  []any{map[string]any{"dst": "0.0.0.0/0"}},
					"dataDir": ipamDataDir,
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]any{"portMappings": true}},
		},
	}
	return json.MarshalIndent(conf, "", "  ")
}

// CNI writes the pod network config once the controller-manager has
// given this node its pod CIDR.
type CNI struct {
	Config *config.Config
}

var (
	_ component.Component = (*CNI)(nil)
	_ component.Readier   = (*CNI)(nil)
)

// Name implements component.Component.
func (c *CNI) Name() string { return "cni" }

// Init implements component.Component.
func (c *CNI) Init(context.Context) error {
	p := c.Config.Paths()
	for _, dir := range []string{p.CNIConfDir, p.CNIStateDir} {
		if err := os.MkdirAll(dir, config.DirMode); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	return nil
}

// Start implements component.Component.
func (c *CNI) Start(context.Context) error { return nil }

// Ready implements component.Readier: it writes the conflist as soon as
// the node has a pod CIDR.
func (c *CNI) Ready(ctx context.Context) error {
	p := c.Config.Paths()
	cs, err := nodeClient(c.Config)
	if err != nil {
		return err
	}
	node, err := cs.CoreV1().Nodes().Get(ctx, c.Config.NodeName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("node %s not registered yet: %w", c.Config.NodeName, err)
	}
	if node.Spec.PodCIDR == "" {
		return errors.New("node has no pod CIDR yet")
	}
	mtu, err := flannel.PodMTU(net.ParseIP(c.Config.NodeIP))
	if err != nil {
		return err
	}
	data, err := CNIConflist(node.Spec.PodCIDR, filepath.Join(p.CNIStateDir, "networks"), mtu)
	if err != nil {
		return err
	}
	_, err = fileutil.WriteIfChanged(filepath.Join(p.CNIConfDir, cniConfFile), data, config.PublicFileMode)
	return err
}

// Stop implements component.Component.
func (c *CNI) Stop() error { return nil }
