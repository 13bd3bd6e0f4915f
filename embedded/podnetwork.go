package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/velad-dev/velad/embedded/component"
	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/pki"
	"github.com/velad-dev/velad/embedded/vxlan"
)

// PodNetwork connects this node's pods to other nodes' pods: a VXLAN
// device (flannel's vxlan backend conventions, package vxlan) whose
// routes follow the Nodes' pod CIDRs and VTEP annotations. On a single
// node it is one idle device.
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

// Init implements component.Component.
func (n *PodNetwork) Init(context.Context) error {
	return writeComponentKubeconfig(n.Config, n.Config.Paths().PodNetworkKubeconfig, pki.PodNetworkCert)
}

// Start implements component.Component: the device is up and published
// when it returns.
func (n *PodNetwork) Start(ctx context.Context) error {
	cs, err := clientFor(n.Config.Paths().PodNetworkKubeconfig)
	if err != nil {
		return err
	}
	node, err := cs.CoreV1().Nodes().Get(ctx, n.Config.NodeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	_, podCIDR, err := net.ParseCIDR(node.Spec.PodCIDR)
	if err != nil {
		return fmt.Errorf("node %s has no pod CIDR yet: %w", n.Config.NodeName, err)
	}
	nodeIP := net.ParseIP(n.Config.NodeIP)
	mac, err := vxlan.Ensure(nodeIP, podCIDR)
	if err != nil {
		return err
	}
	ann, err := vxlan.Annotations(nodeIP, mac)
	if err != nil {
		return err
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": ann}})
	if err != nil {
		return err
	}
	if _, err := cs.CoreV1().Nodes().Patch(ctx, n.Config.NodeName, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("publish this node's VXLAN endpoint: %w", err)
	}
	n.run(n.context(), func(ctx context.Context) error { return n.follow(ctx, cs) })
	return nil
}

// follow keeps the routes in step with the other nodes until ctx ends.
func (n *PodNetwork) follow(ctx context.Context, cs kubernetes.Interface) error {
	kick := make(chan struct{}, 1)
	poke := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	factory := informers.NewSharedInformerFactory(cs, 0)
	nodes := factory.Core().V1().Nodes()
	if _, err := nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { poke() }, UpdateFunc: func(any, any) { poke() }, DeleteFunc: func(any) { poke() },
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	cache.WaitForCacheSync(ctx.Done(), nodes.Informer().HasSynced)
	ticker := time.NewTicker(time.Minute)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
		case <-ticker.C:
		}
		list, err := nodes.Lister().List(labels.Everything())
		if err != nil {
			continue
		}
		if err := vxlan.Sync(peers(list, n.Config.NodeName)); err != nil {
			klog.Warningf("pod network: %v", err)
			if errors.Is(err, context.Canceled) {
				return nil
			}
		}
	}
}

func peers(nodes []*corev1.Node, self string) []vxlan.Peer {
	var out []vxlan.Peer
	for _, node := range nodes {
		if node.Name == self {
			continue
		}
		if p, ok := vxlan.PeerFromAnnotations(node.Spec.PodCIDR, node.Annotations); ok {
			out = append(out, p)
		}
	}
	return out
}

// Stop implements component.Component; the device stays (pods keep
// their routes while velad restarts); uninstall removes it.
func (n *PodNetwork) Stop() error { return n.stop() }
