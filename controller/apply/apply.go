// Package apply writes rendered objects to the cluster with server-side
// apply under one field manager, so that re-applying the same object is
// a no-op and applying it again after a hand edit takes the fields back
// (drift correction).
package apply

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// FieldManager is the default server-side apply field manager.
const FieldManager = "velad-controller"

// Applier applies objects with server-side apply.
type Applier struct {
	Client       client.Client
	FieldManager string
}

// New returns an Applier using the default field manager.
func New(c client.Client) *Applier { return &Applier{Client: c, FieldManager: FieldManager} }

// Apply server-side applies obj (forcing ownership of conflicting fields)
// and returns the live object the API server answered with. A namespaced
// object without a namespace goes to defaultNamespace.
func (a *Applier) Apply(ctx context.Context, obj *unstructured.Unstructured, defaultNamespace string) (*unstructured.Unstructured, error) {
	return a.ApplyAt(ctx, obj, defaultNamespace, "")
}

// ApplyAt is Apply with a precondition: with resourceVersion set, the
// API server refuses the apply (a Conflict, retried by the caller) when
// the live object changed since it was read at that version.
func (a *Applier) ApplyAt(ctx context.Context, obj *unstructured.Unstructured, defaultNamespace, resourceVersion string) (*unstructured.Unstructured, error) {
	u := obj.DeepCopy()
	if err := a.Default(u, defaultNamespace); err != nil {
		return nil, err
	}
	u.SetResourceVersion(resourceVersion)
	u.SetManagedFields(nil)
	unstructured.RemoveNestedField(u.Object, "status")
	if err := a.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(a.FieldManager), client.ForceOwnership); err != nil {
		return nil, fmt.Errorf("apply %s: %w", Describe(u), err)
	}
	return u, nil
}

// Default sets the namespace of a namespaced object that has none, and
// clears it on a cluster-scoped one.
func (a *Applier) Default(u *unstructured.Unstructured, defaultNamespace string) error {
	namespaced, err := a.Client.IsObjectNamespaced(u)
	if err != nil {
		return fmt.Errorf("apply %s: %w", Describe(u), err)
	}
	switch {
	case !namespaced:
		u.SetNamespace("")
	case u.GetNamespace() == "":
		u.SetNamespace(defaultNamespace)
	}
	return nil
}

// Describe names an object for messages: "Deployment default/web".
func Describe(u *unstructured.Unstructured) string {
	if u.GetNamespace() == "" {
		return u.GetKind() + " " + u.GetName()
	}
	return u.GetKind() + " " + u.GetNamespace() + "/" + u.GetName()
}

// IsPermanent reports whether err will not go away by retrying: the
// object is invalid, its kind is unknown, or the request is refused.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	var noMatch *meta.NoKindMatchError
	if errors.As(err, &noMatch) || meta.IsNoMatchError(err) {
		return true
	}
	return apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) ||
		apierrors.IsForbidden(err) || apierrors.IsMethodNotSupported(err) ||
		apierrors.IsUnsupportedMediaType(err) || apierrors.IsRequestEntityTooLargeError(err)
}
