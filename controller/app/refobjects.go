package app

import (
	"context"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/cluster"
	"github.com/velad-dev/velad/controller/render"
)

// The objects ref-objects components deliver are read here, for the
// renderer, straight from the API server (not the cache: they may be of
// any type) of the cluster an entry names. An app reads in its own
// namespace; reading elsewhere, or cluster-scoped objects, takes what
// writing there takes (lane.go): else any app could copy another
// namespace's Secrets into its own.

// refMissing: an object (or type) a ref-objects component names is not
// there (yet): the app is rendered again soon.
type refMissing struct{ msg string }

func (e *refMissing) Error() string { return e.msg }

func missingRef(format string, args ...any) error {
	return &refMissing{msg: fmt.Sprintf(format, args...)}
}

// isMissingRef reports whether err is a refMissing.
func isMissingRef(err error) bool {
	var m *refMissing
	return errors.As(err, &m)
}

// objectReader reads the objects of app's ref-objects components.
func (r *Reconciler) objectReader(app *v1beta1.Application) render.ReadObjects {
	return func(ctx context.Context, ref render.ObjectRef) ([]*unstructured.Unstructured, error) {
		reader, mapper, err := r.readerOf(ctx, ref.Cluster)
		if err != nil {
			return nil, err
		}
		gvk, ok, err := ref.GroupVersionKind()
		if err != nil {
			return nil, err
		}
		if !ok {
			kinds, err := mapper.KindsFor(schema.GroupVersionResource{Group: ref.Group, Resource: ref.Resource})
			if err != nil || len(kinds) == 0 {
				return nil, missingRef("%s: the cluster serves no such resource (kubectl api-resources lists those it does)", ref)
			}
			gvk = kinds[0]
		}
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return nil, missingRef("%s: the cluster serves no kind %s in %s", ref, gvk.Kind, gvk.GroupVersion())
		}
		if mapping.Scope.Name() == meta.RESTScopeNameRoot {
			ref.Namespace = ""
		}
		if err := r.checkReadLane(app, ref); err != nil {
			return nil, err
		}
		if ref.LabelSelector == nil {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(gvk)
			if err := reader.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, u); err != nil {
				if apierrors.IsNotFound(err) {
					return nil, missingRef("%s not found", ref)
				}
				return nil, fmt.Errorf("read %s: %w", ref, err)
			}
			return []*unstructured.Unstructured{u}, nil
		}
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		opts := []client.ListOption{client.MatchingLabels(ref.LabelSelector)}
		if ref.Namespace != "" {
			opts = append(opts, client.InNamespace(ref.Namespace))
		}
		if err := reader.List(ctx, list, opts...); err != nil {
			return nil, fmt.Errorf("read %s: %w", ref, err)
		}
		out := make([]*unstructured.Unstructured, len(list.Items))
		for i := range list.Items {
			out[i] = &list.Items[i]
		}
		return out, nil
	}
}

// readerOf is the uncached reader of a cluster, and its REST mapper.
func (r *Reconciler) readerOf(ctx context.Context, name string) (client.Reader, meta.RESTMapper, error) {
	if cluster.IsLocal(name) {
		return r.APIReader, r.Client.RESTMapper(), nil
	}
	if r.Clusters == nil {
		return nil, nil, fmt.Errorf("cluster %q is not joined (join it with 'velad cluster join')", name)
	}
	c, err := r.Clusters.Client(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	return c, c.RESTMapper(), nil
}

// checkReadLane refuses to read outside app's namespace unless its apps
// may write there.
func (r *Reconciler) checkReadLane(app *v1beta1.Application, ref render.ObjectRef) error {
	allowed := r.CrossNamespace
	if allowed == nil {
		allowed = DefaultCrossNamespace
	}
	if ref.Namespace == app.Namespace || slices.Contains(allowed, AnyNamespace) || slices.Contains(allowed, app.Namespace) {
		return nil
	}
	const how = "an application reads objects only in its own namespace; an administrator may let the apps of a namespace reach elsewhere (controller flag --cross-namespace-apps, chart value crossNamespaceApps)"
	if ref.Namespace == "" {
		return fmt.Errorf("%s: cluster-scoped objects may not be read by the apps of namespace %q: %s", ref, app.Namespace, how)
	}
	return fmt.Errorf("%s: outside the application's namespace %q: %s", ref, app.Namespace, how)
}
