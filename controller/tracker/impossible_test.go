package tracker_test

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/velad-dev/velad/controller/api/scheme"
	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/tracker"
)

// An app's tracker may record objects that could never be created (they
// are recorded before they are applied); deleting the app must not fail
// on them for ever. Objects that do exist are still deleted, and a real
// failure still stops the deletion.
func TestDeleteAllGivesUpOnObjectsThatCannotExist(t *testing.T) {
	s, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(appsv1.SchemeGroupVersion.WithKind("Deployment"), meta.RESTScopeNamespace)
	mapper.Add(corev1.SchemeGroupVersion.WithKind("ConfigMap"), meta.RESTScopeNamespace)
	mapper.Add(v1beta1.GroupVersion.WithKind("ResourceTracker"), meta.RESTScopeRoot)
	app := &v1beta1.Application{}
	app.Name, app.Namespace = "shop", "default"

	obj := func(kind, apiVersion, name string) tracker.Entry {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(apiVersion)
		u.SetKind(kind)
		u.SetNamespace("default")
		u.SetName(name)
		return tracker.Entry{Object: u, Component: "web"}
	}
	real := &corev1.ConfigMap{}
	real.Name, real.Namespace = "real", "default"

	tests := []struct {
		name      string
		entries   []tracker.Entry
		deleteErr error // what the API server answers for "refused"
		wantErr   bool
	}{
		{"name that is no path segment", []tracker.Entry{obj("ConfigMap", "v1", "a/b"), obj("ConfigMap", "v1", "real")}, nil, false},
		{"empty name", []tracker.Entry{obj("ConfigMap", "v1", ""), obj("ConfigMap", "v1", "real")}, nil, false},
		{"the API server calls the name invalid", []tracker.Entry{obj("ConfigMap", "v1", "refused"), obj("ConfigMap", "v1", "real")},
			apierrors.NewBadRequest(`invalid resource name "refused"`), false},
		{"a real failure still fails", []tracker.Entry{obj("ConfigMap", "v1", "refused")},
			apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "refused", nil), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithScheme(s).WithRESTMapper(mapper).WithObjects(real.DeepCopy()).
				WithInterceptorFuncs(interceptor.Funcs{
					Delete: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.DeleteOption) error {
						if o.GetName() == "refused" {
							return tc.deleteErr
						}
						return c.Delete(ctx, o, opts...)
					},
				}).Build()
			tr := &tracker.Tracker{Client: c, Reader: c}
			if err := tr.New(app, "shop-v1", 1).Record(context.Background(), tc.entries); err != nil {
				t.Fatal(err)
			}
			err := tr.DeleteAll(context.Background(), app, tracker.Policy{})
			if (err != nil) != tc.wantErr {
				t.Fatalf("DeleteAll: %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if err := c.Get(context.Background(), client.ObjectKeyFromObject(real), &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
				t.Errorf("configmap real: %v, want deleted", err)
			}
			var rts v1beta1.ResourceTrackerList
			if err := c.List(context.Background(), &rts); err != nil {
				t.Fatal(err)
			}
			if len(rts.Items) != 0 {
				t.Errorf("%d trackers left", len(rts.Items))
			}
		})
	}
}
