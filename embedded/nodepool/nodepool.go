// Package nodepool is OpenYurt's NodePool API (apps.openyurt.io) and its
// controller, run in the server: a node is in pool P when it carries the
// label apps.openyurt.io/nodepool=P (a node asks for P with
// apps.openyurt.io/desired-nodepool=P); the controller applies the pool's
// labels, annotations and taints to its nodes, removes those it applied
// before and the pool no longer has, and lists the nodes in the pool's
// status.
package nodepool

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

// Labels and annotations of the OpenYurt contract.
const (
	LabelPool        = "apps.openyurt.io/nodepool"
	LabelDesiredPool = "apps.openyurt.io/desired-nodepool"
	// AnnotationPrevious remembers what the controller applied to a node,
	// so that what a pool drops is removed.
	AnnotationPrevious = "nodepool.openyurt.io/previous-attributes"
)

// GVR is the stored version's resource.
var GVR = schema.GroupVersionResource{Group: "apps.openyurt.io", Version: "v1beta2", Resource: "nodepools"}

//go:embed crd.yaml
var crdYAML []byte

// CRD returns the NodePool CustomResourceDefinition.
func CRD() (*apiextensionsv1.CustomResourceDefinition, error) {
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(crdYAML, &crd); err != nil {
		return nil, fmt.Errorf("NodePool CRD: %w", err)
	}
	return &crd, nil
}

// ApplyCRD creates or updates the CRD and waits until it is served.
func ApplyCRD(ctx context.Context, cs apiextensions.Interface) error {
	want, err := CRD()
	if err != nil {
		return err
	}
	crds := cs.ApiextensionsV1().CustomResourceDefinitions()
	got, err := crds.Get(ctx, want.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		if _, err := crds.Create(ctx, want, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create the NodePool CRD: %w", err)
		}
	case err != nil:
		return fmt.Errorf("read the NodePool CRD: %w", err)
	default:
		want.ResourceVersion = got.ResourceVersion
		if _, err := crds.Update(ctx, want, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("update the NodePool CRD: %w", err)
		}
	}
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		crd, err := crds.Get(ctx, want.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, c := range crd.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
}

// Spec is the part of a NodePool velad acts on (v1beta1 and v1beta2 alike).
type Spec struct {
	Type        string            `json:"type,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Taints      []corev1.Taint    `json:"taints,omitempty"`
}

// Pool is a NodePool as read from the cluster.
type Pool struct {
	Name string
	Spec Spec
	obj  *unstructured.Unstructured
}

// ErrNotFound: no NodePool of that name.
var ErrNotFound = errors.New("no such NodePool")

// Get reads the pool name.
func Get(ctx context.Context, dyn dynamic.Interface, name string) (Pool, error) {
	obj, err := dyn.Resource(GVR).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return Pool{}, ErrNotFound
	}
	if err != nil {
		return Pool{}, fmt.Errorf("read NodePool %s: %w", name, err)
	}
	return fromUnstructured(obj)
}

// List reads every pool.
func List(ctx context.Context, dyn dynamic.Interface) ([]Pool, error) {
	list, err := dyn.Resource(GVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list NodePools: %w", err)
	}
	var out []Pool
	for i := range list.Items {
		p, err := fromUnstructured(&list.Items[i])
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func fromUnstructured(obj *unstructured.Unstructured) (Pool, error) {
	p := Pool{Name: obj.GetName(), obj: obj}
	if spec, ok := obj.Object["spec"].(map[string]any); ok {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(spec, &p.Spec); err != nil {
			return Pool{}, fmt.Errorf("NodePool %s: spec: %w", p.Name, err)
		}
	}
	return p, nil
}

// NodeLabels are the labels a node of pool p registers with.
func (p Pool) NodeLabels() []string {
	out := []string{LabelPool + "=" + p.Name, LabelDesiredPool + "=" + p.Name}
	for k, v := range p.Spec.Labels {
		out = append(out, k+"="+v)
	}
	return out
}

// NodeTaints are the taints (key[=value]:Effect) a node of p registers with.
func (p Pool) NodeTaints() []string {
	var out []string
	for _, t := range p.Spec.Taints {
		kv := t.Key
		if t.Value != "" {
			kv += "=" + t.Value
		}
		out = append(out, kv+":"+string(t.Effect))
	}
	return out
}

// Status is the part of a NodePool's status velad writes.
type Status struct {
	ReadyNodeNum   int64    `json:"readyNodeNum"`
	UnreadyNodeNum int64    `json:"unreadyNodeNum"`
	Nodes          []string `json:"nodes,omitempty"`
}

// Status reads the pool's status.
func (p Pool) Status() Status {
	var st Status
	if s, ok := p.obj.Object["status"].(map[string]any); ok {
		_ = runtime.DefaultUnstructuredConverter.FromUnstructured(s, &st)
	}
	return st
}
