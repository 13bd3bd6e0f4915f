// Package vxlan routes other nodes' pod CIDRs over a VXLAN device, with
// flannel's data and conventions (the vxlan backend, VNI 1, UDP 8472,
// device flannel.1, the Node annotations flannel.alpha.coreos.com/*) so a
// node here and a flannel node read each other. Each node publishes its
// VTEP MAC and public IP on its Node; every node then programs, for every
// other node: an FDB entry (MAC → public IP), a neighbour entry (the
// node's VTEP address → MAC) and a route (its pod CIDR → its VTEP address,
// onlink). The node's VTEP address is its pod CIDR's network address.
package vxlan

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/vishvananda/netlink"
)

// Flannel's settings for the vxlan backend.
const (
	Device   = "flannel.1"
	VNI      = 1
	Port     = 8472
	Overhead = 50 // outer IPv4 + UDP + VXLAN + inner Ethernet header

	AnnotationBackendData = "flannel.alpha.coreos.com/backend-data"
	AnnotationBackendType = "flannel.alpha.coreos.com/backend-type"
	AnnotationPublicIP    = "flannel.alpha.coreos.com/public-ip"
	AnnotationSubnetMgr   = "flannel.alpha.coreos.com/kube-subnet-manager"
)

// BackendData is flannel's backend-data annotation for vxlan.
type BackendData struct {
	VNI     int    `json:"VNI"`
	VtepMAC string `json:"VtepMAC"`
}

// Peer is another node as the pod network needs it.
type Peer struct {
	PodCIDR  *net.IPNet
	PublicIP net.IP
	MAC      net.HardwareAddr
}

// PeerFromAnnotations reads a node's VTEP from its annotations and pod
// CIDR; ok is false while the node has not published one yet.
func PeerFromAnnotations(podCIDR string, ann map[string]string) (Peer, bool) {
	_, cidr, err := net.ParseCIDR(podCIDR)
	if err != nil || ann[AnnotationBackendType] != "vxlan" {
		return Peer{}, false
	}
	var bd BackendData
	if json.Unmarshal([]byte(ann[AnnotationBackendData]), &bd) != nil || bd.VNI != VNI {
		return Peer{}, false
	}
	mac, err := net.ParseMAC(bd.VtepMAC)
	ip := net.ParseIP(ann[AnnotationPublicIP])
	if err != nil || ip == nil || ip.To4() == nil {
		return Peer{}, false
	}
	return Peer{PodCIDR: cidr, PublicIP: ip.To4(), MAC: mac}, true
}

// Annotations are what a node publishes for its VTEP.
func Annotations(publicIP net.IP, mac net.HardwareAddr) (map[string]string, error) {
	bd, err := json.Marshal(BackendData{VNI: VNI, VtepMAC: mac.String()})
	if err != nil {
		return nil, err
	}
	return map[string]string{
		AnnotationBackendData: string(bd),
		AnnotationBackendType: "vxlan",
		AnnotationPublicIP:    publicIP.String(),
		AnnotationSubnetMgr:   "true",
	}, nil
}

// LinkFor finds the interface holding ip (the node's public address).
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

// PodMTU is the MTU pods get so VXLAN packets fit the node's interface.
func PodMTU(nodeIP net.IP) (int, error) {
	l, err := LinkFor(nodeIP)
	if err != nil {
		return 0, err
	}
	return l.Attrs().MTU - Overhead, nil
}

// Ensure creates (or keeps) the VXLAN device on the interface holding
// nodeIP, gives it podCIDR's network address and brings it up; it
// returns the device's MAC.
func Ensure(nodeIP net.IP, podCIDR *net.IPNet) (net.HardwareAddr, error) {
	parent, err := LinkFor(nodeIP)
	if err != nil {
		return nil, err
	}
	want := &netlink.Vxlan{
		LinkAttrs:    netlink.LinkAttrs{Name: Device, MTU: parent.Attrs().MTU - Overhead},
		VxlanId:      VNI,
		VtepDevIndex: parent.Attrs().Index,
		SrcAddr:      nodeIP.To4(),
		Port:         Port,
		Learning:     false,
	}
	if existing, err := netlink.LinkByName(Device); err == nil {
		vx, ok := existing.(*netlink.Vxlan)
		if !ok || vx.VxlanId != VNI || vx.Port != Port || !vx.SrcAddr.Equal(nodeIP) || vx.VtepDevIndex != parent.Attrs().Index {
			if err := netlink.LinkDel(existing); err != nil {
				return nil, fmt.Errorf("replace %s: %w", Device, err)
			}
		}
	}
	if _, err := netlink.LinkByName(Device); err != nil {
		if err := netlink.LinkAdd(want); err != nil {
			return nil, fmt.Errorf("create %s: %w", Device, err)
		}
	}
	link, err := netlink.LinkByName(Device)
	if err != nil {
		return nil, err
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: podCIDR.IP.Mask(podCIDR.Mask), Mask: net.CIDRMask(32, 32)}}
	if err := netlink.AddrReplace(link, addr); err != nil {
		return nil, fmt.Errorf("address %s on %s: %w", addr.IPNet, Device, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return nil, fmt.Errorf("bring %s up: %w", Device, err)
	}
	return link.Attrs().HardwareAddr, nil
}

// Sync programs FDB, neighbour and route entries for peers and removes
// the routes over the device to pod CIDRs no peer has any more.
func Sync(peers []Peer) error {
	link, err := netlink.LinkByName(Device)
	if err != nil {
		return fmt.Errorf("%s: %w", Device, err)
	}
	idx := link.Attrs().Index
	var errs []error
	want := map[string]bool{}
	for _, p := range peers {
		gw := p.PodCIDR.IP.Mask(p.PodCIDR.Mask)
		want[p.PodCIDR.String()] = true
		if err := netlink.NeighSet(&netlink.Neigh{LinkIndex: idx, Family: syscall.AF_BRIDGE, Flags: netlink.NTF_SELF,
			State: netlink.NUD_PERMANENT, IP: p.PublicIP, HardwareAddr: p.MAC}); err != nil {
			errs = append(errs, fmt.Errorf("fdb %s → %s: %w", p.MAC, p.PublicIP, err))
		}
		if err := netlink.NeighSet(&netlink.Neigh{LinkIndex: idx, Family: netlink.FAMILY_V4, Type: syscall.RTN_UNICAST,
			State: netlink.NUD_PERMANENT, IP: gw, HardwareAddr: p.MAC}); err != nil {
			errs = append(errs, fmt.Errorf("neighbour %s: %w", gw, err))
		}
		if err := netlink.RouteReplace(&netlink.Route{LinkIndex: idx, Dst: p.PodCIDR, Gw: gw, Flags: int(netlink.FLAG_ONLINK)}); err != nil {
			errs = append(errs, fmt.Errorf("route %s: %w", p.PodCIDR, err))
		}
	}
	routes, err := netlink.RouteList(link, netlink.FAMILY_V4)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, r := range routes {
		if r.Dst != nil && r.Gw != nil && !want[r.Dst.String()] {
			if err := netlink.RouteDel(&r); err != nil {
				errs = append(errs, fmt.Errorf("remove route %s: %w", r.Dst, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Remove deletes the device (its routes and entries go with it).
func Remove() error {
	link, err := netlink.LinkByName(Device)
	if err != nil {
		return nil //nolint:nilerr // nothing to remove
	}
	return netlink.LinkDel(link)
}
