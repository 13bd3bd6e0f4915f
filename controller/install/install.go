// Package install puts what the controller needs into the cluster: the
// OAM CRDs and the built-in definitions in vela-system.
package install

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/charts"
	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
)

// FieldManager owns what the installer applies.
const FieldManager = "velad-installer"

// CRDs applies the OAM CRDs and waits (up to timeout) until they serve.
func CRDs(ctx context.Context, c client.Client, timeout time.Duration) error {
	docs, err := charts.ControllerCRDs()
	if err != nil {
		return err
	}
	return ApplyCRDs(ctx, c, docs, timeout)
}

// ApplyCRDs applies CRD manifests (server-side, so a newer chart updates
// them, which Helm never does) and waits (up to timeout) until they serve.
func ApplyCRDs(ctx context.Context, c client.Client, docs [][]byte, timeout time.Duration) error {
	var names []string
	for _, d := range docs {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(d, &u.Object); err != nil {
			return fmt.Errorf("parse CRD: %w", err)
		}
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			return fmt.Errorf("apply CRD %s: %w", u.GetName(), err)
		}
		names = append(names, u.GetName())
	}
	deadline := time.Now().Add(timeout)
	for _, n := range names {
		for {
			ok, err := established(ctx, c, n)
			if err != nil {
				return err
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s not established after %s", n, timeout)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

func established(ctx context.Context, c client.Client, name string) (bool, error) {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("apiextensions.k8s.io/v1")
	u.SetKind("CustomResourceDefinition")
	if err := c.Get(ctx, client.ObjectKey{Name: name}, u); err != nil {
		return false, fmt.Errorf("get CRD %s: %w", name, err)
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, x := range conds {
		m, _ := x.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true, nil
		}
	}
	return false, nil
}

// Definitions installs or updates the built-in definitions in
// vela-system (created if missing). Definitions users put in an app's
// namespace override these.
func Definitions(ctx context.Context, c client.Client) (int, error) {
	ns := &corev1.Namespace{}
	ns.Name = definition.DefaultNamespace
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return 0, fmt.Errorf("create namespace %s: %w", ns.Name, err)
	}
	set, err := builtins.Load()
	if err != nil {
		return 0, err
	}
	defs, err := set.List(ctx)
	if err != nil {
		return 0, err
	}
	for _, d := range defs {
		u, err := Object(d)
		if err != nil {
			return 0, err
		}
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			return 0, fmt.Errorf("install built-in %s %q: %w", d.Kind, d.Name, err)
		}
	}
	return len(defs), nil
}

// Object is the definition's object as it is applied into vela-system:
// no status, no server-set metadata.
func Object(d *definition.Definition) (*unstructured.Unstructured, error) {
	obj := d.Object.DeepCopyObject().(client.Object)
	obj.SetNamespace(definition.DefaultNamespace)
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("convert %s %q: %w", d.Kind, d.Name, err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(obj.GetObjectKind().GroupVersionKind())
	if u.GetKind() == "" {
		u.SetAPIVersion("core.oam.dev/v1beta1")
		u.SetKind(d.Kind.CRDKind())
	}
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	return u, nil
}
