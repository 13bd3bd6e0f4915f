package tracker

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// Objects that cannot exist: a tracker may record an object before it is
// applied, and applying it may then fail for good (its name is not a
// name). Deleting such an object must not fail for ever, or the app's
// finalizer would never let it go.

// addressable reports whether r names an object a request can reach: a
// kind, a version and a name that is a path segment, in a namespace that
// is one too.
func addressable(r v1beta1.ClusterObjectReference) bool {
	if r.Kind == "" || r.Name == "" {
		return false
	}
	if _, err := schema.ParseGroupVersion(r.APIVersion); err != nil || r.APIVersion == "" {
		return false
	}
	if len(path.IsValidPathSegmentName(r.Name)) > 0 {
		return false
	}
	return r.Namespace == "" || len(path.IsValidPathSegmentName(r.Namespace)) == 0
}

// cannotExist reports whether the API server refused a request as invalid
// in itself (a bad name, a label value that is none): asking again cannot
// succeed, and no object can match it.
func cannotExist(err error) bool {
	return apierrors.IsBadRequest(err) || apierrors.IsInvalid(err)
}

// managedByAnother reports whether the live object u names carries the
// labels of an application other than app (it was taken over).
func managedByAnother(ctx context.Context, r client.Reader, app *v1beta1.Application, u *unstructured.Unstructured) bool {
	live := u.DeepCopy()
	if err := r.Get(ctx, client.ObjectKeyFromObject(u), live); err != nil {
		return false
	}
	l := live.GetLabels()
	name, ns := l[v1beta1.LabelAppName], l[v1beta1.LabelAppNamespace]
	return name != "" && (name != app.Name || ns != app.Namespace)
}
