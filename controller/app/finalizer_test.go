package app_test

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/velad-dev/velad/controller/api/scheme"
	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/app"
	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/render"
)

// The tracker of a new app is written while its finalizer is; when the
// finalizer cannot be added, nothing is applied and the tracker goes
// again (without the finalizer nothing would delete it with the app).
func TestTrackerDroppedWhenFinalizerFails(t *testing.T) {
	scheme, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(appsv1.SchemeGroupVersion.WithKind("Deployment"), meta.RESTScopeNamespace)
	mapper.Add(corev1.SchemeGroupVersion.WithKind("Service"), meta.RESTScopeNamespace)
	for _, k := range []string{"Application", "ApplicationRevision", "ComponentDefinition", "TraitDefinition", "PolicyDefinition", "WorkflowStepDefinition", "DefinitionRevision"} {
		mapper.Add(v1beta1.GroupVersion.WithKind(k), meta.RESTScopeNamespace)
	}
	mapper.Add(v1beta1.GroupVersion.WithKind("ResourceTracker"), meta.RESTScopeRoot)
	a := parseApp(t, "default", webApp("nofin", "nginx", 0))
	applied, trackers := 0, 0
	c := fake.NewClientBuilder().WithScheme(scheme).WithRESTMapper(mapper).
		WithObjects(a).WithStatusSubresource(&v1beta1.Application{}).
		WithInterceptorFuncs(interceptor.Funcs{
			Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				if _, ok := obj.(*v1beta1.ResourceTracker); ok {
					trackers++
				}
				return c.Create(ctx, obj, opts...)
			},
			Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
				if _, ok := obj.(*v1beta1.Application); ok {
					return apierrors.NewConflict(schema.GroupResource{Group: "core.oam.dev", Resource: "applications"}, obj.GetName(), nil)
				}
				return c.Update(ctx, obj, opts...)
			},
			Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
				applied++
				return c.Apply(ctx, obj, opts...)
			},
		}).Build()
	builtins, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	r := &app.Reconciler{Client: c, APIReader: c, Builtins: builtins, Renderer: render.NewRenderer()}
	_, err = r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "default", Name: "nofin"}})
	if err == nil || !strings.Contains(err.Error(), "add finalizer") {
		t.Fatalf("reconcile: %v, want the finalizer's conflict", err)
	}
	if trackers != 1 {
		t.Errorf("%d resource trackers created, want 1 (at the same time as the finalizer)", trackers)
	}
	if applied != 0 {
		t.Errorf("%d objects applied without the finalizer", applied)
	}
	var rts v1beta1.ResourceTrackerList
	if err := c.List(context.Background(), &rts); err != nil {
		t.Fatal(err)
	}
	if len(rts.Items) != 0 {
		t.Errorf("%d resource trackers left", len(rts.Items))
	}
}
