package nodepool

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// resync bounds how long a missed event can leave a pool stale.
const resync = 30 * time.Second

// Controller keeps nodes in step with their pools and the pools' status
// in step with their nodes.
type Controller struct {
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	// OnNodeDeleted runs when a Node is deleted (the server forgets its
	// node password there).
	OnNodeDeleted func(ctx context.Context, node string)
}

// previous is what the controller last applied to a node.
type previous struct {
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Taints      []corev1.Taint    `json:"taints,omitempty"`
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	kick := make(chan struct{}, 1)
	poke := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { poke() },
		UpdateFunc: func(any, any) { poke() },
		DeleteFunc: func(any) { poke() },
	}
	nodeFactory := informers.NewSharedInformerFactory(c.Client, 0)
	nodes := nodeFactory.Core().V1().Nodes()
	if _, err := nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { poke() },
		UpdateFunc: func(any, any) { poke() },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if n, ok := obj.(*corev1.Node); ok && c.OnNodeDeleted != nil {
				c.OnNodeDeleted(ctx, n.Name)
			}
			poke()
		},
	}); err != nil {
		return err
	}
	poolFactory := dynamicinformer.NewDynamicSharedInformerFactory(c.Dynamic, 0)
	pools := poolFactory.ForResource(GVR)
	if _, err := pools.Informer().AddEventHandler(handler); err != nil {
		return err
	}
	nodeFactory.Start(ctx.Done())
	poolFactory.Start(ctx.Done())
	defer nodeFactory.Shutdown()
	defer poolFactory.Shutdown()
	cache.WaitForCacheSync(ctx.Done(), nodes.Informer().HasSynced, pools.Informer().HasSynced)
	ticker := time.NewTicker(resync)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
		case <-ticker.C:
		}
		nodeList, err := nodes.Lister().List(labels.Everything())
		if err != nil {
			continue
		}
		objs, err := pools.Lister().List(labels.Everything())
		if err != nil {
			continue
		}
		var poolList []Pool
		for _, o := range objs {
			u, ok := o.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			p, err := fromUnstructured(u)
			if err != nil {
				klog.Warningf("nodepool: %v", err)
				continue
			}
			poolList = append(poolList, p)
		}
		if c.sync(ctx, poolList, nodeList) {
			poke() // a write failed (a conflict, most often): again
		}
	}
}

// sync applies pools to nodes and writes the pools' status; it reports
// whether something must be retried.
func (c *Controller) sync(ctx context.Context, pools []Pool, nodes []*corev1.Node) (retry bool) {
	byName := map[string]Pool{}
	for _, p := range pools {
		byName[p.Name] = p
	}
	members := map[string][]*corev1.Node{}
	for _, n := range nodes {
		name := n.Labels[LabelPool]
		if name == "" {
			name = n.Labels[LabelDesiredPool]
		}
		p, ok := byName[name]
		if !ok {
			continue
		}
		members[name] = append(members[name], n)
		want, changed, err := Apply(p, n)
		if err != nil {
			klog.Warningf("nodepool %s: node %s: %v", name, n.Name, err)
			continue
		}
		if !changed {
			continue
		}
		if _, err := c.Client.CoreV1().Nodes().Update(ctx, want, metav1.UpdateOptions{}); err != nil {
			klog.V(2).Infof("nodepool %s: update node %s: %v", name, n.Name, err)
			retry = true
		}
	}
	for _, p := range pools {
		if err := c.writeStatus(ctx, p, members[p.Name]); err != nil {
			klog.V(2).Infof("nodepool %s: status: %v", p.Name, err)
			retry = true
		}
	}
	return retry
}

// Apply returns node with pool p's labels, annotations and taints, without
// what an earlier version of the pool had and this one has not.
func Apply(p Pool, node *corev1.Node) (*corev1.Node, bool, error) {
	var prev previous
	if s := node.Annotations[AnnotationPrevious]; s != "" {
		if err := json.Unmarshal([]byte(s), &prev); err != nil {
			prev = previous{}
		}
	}
	n := node.DeepCopy()
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	if n.Annotations == nil {
		n.Annotations = map[string]string{}
	}
	for k := range prev.Labels {
		if _, keep := p.Spec.Labels[k]; !keep {
			delete(n.Labels, k)
		}
	}
	for k := range prev.Annotations {
		if _, keep := p.Spec.Annotations[k]; !keep {
			delete(n.Annotations, k)
		}
	}
	maps.Copy(n.Labels, p.Spec.Labels)
	maps.Copy(n.Annotations, p.Spec.Annotations)
	n.Labels[LabelPool] = p.Name
	if p.Spec.Type != "" {
		n.Labels["nodepool.openyurt.io/type"] = p.Spec.Type
	}
	sameTaint := func(a, b corev1.Taint) bool { return a.Key == b.Key && a.Effect == b.Effect }
	n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, func(t corev1.Taint) bool {
		return slices.ContainsFunc(prev.Taints, func(o corev1.Taint) bool { return sameTaint(o, t) }) ||
			slices.ContainsFunc(p.Spec.Taints, func(o corev1.Taint) bool { return sameTaint(o, t) })
	})
	for _, t := range p.Spec.Taints {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: t.Key, Value: t.Value, Effect: t.Effect})
	}
	rec, err := json.Marshal(previous{Labels: p.Spec.Labels, Annotations: p.Spec.Annotations, Taints: p.Spec.Taints})
	if err != nil {
		return nil, false, err
	}
	n.Annotations[AnnotationPrevious] = string(rec)
	// Taints the kubelet registered equal the pool's: keep their order so
	// an unchanged node is not rewritten.
	changed := !equality.Semantic.DeepEqual(n.Labels, node.Labels) || !equality.Semantic.DeepEqual(n.Annotations, node.Annotations) ||
		!sameTaints(n.Spec.Taints, node.Spec.Taints)
	return n, changed, nil
}

func sameTaints(a, b []corev1.Taint) bool {
	if len(a) != len(b) {
		return false
	}
	for _, t := range a {
		if !slices.ContainsFunc(b, func(o corev1.Taint) bool { return o.Key == t.Key && o.Value == t.Value && o.Effect == t.Effect }) {
			return false
		}
	}
	return true
}

func (c *Controller) writeStatus(ctx context.Context, p Pool, nodes []*corev1.Node) error {
	names := []any{}
	ready, unready := int64(0), int64(0)
	sorted := slices.Clone(nodes)
	slices.SortFunc(sorted, func(a, b *corev1.Node) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	for _, n := range sorted {
		names = append(names, n.Name)
		if nodeReady(n) {
			ready++
		} else {
			unready++
		}
	}
	obj := p.obj.DeepCopy()
	status, _ := obj.Object["status"].(map[string]any)
	if status == nil {
		status = map[string]any{}
	}
	want := maps.Clone(status)
	want["nodes"] = names
	want["readyNodeNum"] = ready
	want["unreadyNodeNum"] = unready
	if equality.Semantic.DeepEqual(runtimeJSON(want), runtimeJSON(status)) {
		return nil
	}
	obj.Object["status"] = want
	_, err := c.Dynamic.Resource(GVR).UpdateStatus(ctx, obj, metav1.UpdateOptions{})
	return err
}

func runtimeJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
