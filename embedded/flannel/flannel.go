// Package flannel runs flannel (github.com/flannel-io/flannel) in this
// process as the node's pod network: the kube subnet manager (the Node's
// spec.podCIDR from the controller-manager, the node annotations
// flannel.alpha.coreos.com/*) and the vxlan backend (the device
// flannel.1, its routes, neighbour and FDB entries for the other nodes).
// What velad adds is the glue: the network config, the external
// interface found from the node IP, and removal at uninstall.
package flannel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"

	"github.com/flannel-io/flannel/pkg/backend"
	_ "github.com/flannel-io/flannel/pkg/backend/vxlan" // registers the vxlan backend
	"github.com/flannel-io/flannel/pkg/subnet/kube"
	"github.com/vishvananda/netlink"
)

// Flannel's settings for the vxlan backend velad uses.
const (
	BackendType = "vxlan"
	VNI         = 1
	// Device is the vxlan backend's device for VNI 1 (flannel names it
	// flannel.<VNI>); each node's network namespace has its own.
	Device = "flannel.1"
	// Overhead is what VXLAN adds to a packet (outer IPv4, UDP, VXLAN
	// and inner Ethernet headers): flannel's device MTU is the external
	// interface's less this.
	Overhead = 50
	// AnnotationPrefix is the prefix of flannel's node annotations.
	AnnotationPrefix = "flannel.alpha.coreos.com"
)

// netConf is flannel's net-conf.json (the kube-flannel-cfg ConfigMap's).
type netConf struct {
	Network    string
	EnableIPv4 bool
	Backend    backendConf
}

type backendConf struct {
	Type string
	VNI  int
}

// NetConf renders flannel's network config for a cluster CIDR.
func NetConf(clusterCIDR string) ([]byte, error) {
	if _, _, err := net.ParseCIDR(clusterCIDR); err != nil {
		return nil, fmt.Errorf("flannel network %q: %w", clusterCIDR, err)
	}
	return json.MarshalIndent(netConf{
		Network:    clusterCIDR,
		EnableIPv4: true,
		Backend:    backendConf{Type: BackendType, VNI: VNI},
	}, "", "  ")
}

// LinkFor finds the interface holding ip (the node's address).
func LinkFor(ip net.IP) (netlink.Link, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	for _, l := range links {
		addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if a.IP.Equal(ip) {
				return l, nil
			}
		}
	}
	return nil, fmt.Errorf("no interface has the node IP %s; pass the right --node-ip", ip)
}

// PodMTU is the MTU pods get so VXLAN packets fit the node's interface
// (flannel's own FLANNEL_MTU for the vxlan backend).
func PodMTU(nodeIP net.IP) (int, error) {
	l, err := LinkFor(nodeIP)
	if err != nil {
		return 0, err
	}
	return l.Attrs().MTU - Overhead, nil
}

// externalInterface is flannel's view of the interface holding nodeIP:
// VXLAN packets leave from it with nodeIP as their source.
func externalInterface(nodeIP net.IP) (*backend.ExternalInterface, error) {
	ip4 := nodeIP.To4()
	if ip4 == nil {
		return nil, fmt.Errorf("node IP %s is not IPv4; flannel here runs IPv4 only", nodeIP)
	}
	link, err := LinkFor(ip4)
	if err != nil {
		return nil, err
	}
	iface, err := net.InterfaceByIndex(link.Attrs().Index)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", link.Attrs().Name, err)
	}
	return &backend.ExternalInterface{Iface: iface, IfaceName: iface.Name, IfaceAddr: ip4, ExtAddr: ip4}, nil
}

// Node is what flannel needs to know about this node.
type Node struct {
	Name       string
	IP         net.IP
	Kubeconfig string
	// NetConf is the path of the network config NetConf rendered.
	NetConf string
}

// Run runs flannel's subnet manager and vxlan backend for node until ctx
// ends: it brings the device up, publishes this node's lease (its
// annotations) and then keeps the routes to the other nodes' pod CIDRs
// in step. It returns an error if flannel cannot start, nil once ctx
// ends.
func Run(ctx context.Context, node Node) error {
	ext, err := externalInterface(node.IP)
	if err != nil {
		return err
	}
	// The kube subnet manager reads the node's name from NODE_NAME, as
	// in flannel's DaemonSet; one velad process runs one node.
	if err := os.Setenv("NODE_NAME", node.Name); err != nil {
		return err
	}
	sm, err := kube.NewSubnetManager(ctx, "", node.Kubeconfig, AnnotationPrefix, node.NetConf, false)
	if err != nil {
		return fmt.Errorf("flannel subnet manager: %w", err)
	}
	cfg, err := sm.GetNetworkConfig(ctx)
	if err != nil {
		return fmt.Errorf("flannel network config: %w", err)
	}
	be, err := backend.NewManager(ctx, sm, ext).GetBackend(cfg.BackendType)
	if err != nil {
		return fmt.Errorf("flannel backend %s: %w", cfg.BackendType, err)
	}
	var wg sync.WaitGroup
	bn, err := be.RegisterNetwork(ctx, &wg, cfg)
	if err != nil {
		return fmt.Errorf("flannel %s network: %w", cfg.BackendType, err)
	}
	bn.Run(ctx)
	wg.Wait()
	return nil
}

// CheckNodeIP says whether flannel can send from nodeIP: an IPv4
// address on one of this namespace's interfaces.
func CheckNodeIP(nodeIP net.IP) error {
	_, err := externalInterface(nodeIP)
	return err
}

// Remove deletes the device (its routes and entries go with it).
func Remove() error {
	link, err := netlink.LinkByName(Device)
	if err != nil {
		var notFound netlink.LinkNotFoundError
		if errors.As(err, &notFound) {
			return nil
		}
		return fmt.Errorf("find %s: %w", Device, err)
	}
	if err := netlink.LinkDel(link); err != nil {
		return fmt.Errorf("delete %s: %w", Device, err)
	}
	return nil
}
