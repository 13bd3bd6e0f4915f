package app

import (
	"context"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/render"
	"github.com/velad-dev/velad/controller/tracker"
)

// liveObject is the live counterpart of a rendered object: from this
// reconcile's apply, or read from the API server; nil when absent.
func (run *appRun) liveObject(ctx context.Context, u *unstructured.Unstructured) *unstructured.Unstructured {
	key := tracker.Key(tracker.Ref(u))
	if l, ok := run.liveOf(key); ok {
		return l
	}
	l, err := run.r.readLive(ctx, u)
	if err != nil {
		if !apierrors.IsNotFound(err) {
			return nil
		}
		l = nil
	}
	run.setLive(key, l)
	return l
}

// readLive reads the live counterpart of u. Deployments come from the
// cache (the controller watches those it rendered); one the cache does
// not have (not labelled as ours, or too new) and every other kind come
// from the API server. A cached object may lag behind this controller's
// last apply: its generation then differs from the applied one, so it is
// applied again (see appliedObject.unchanged), and never judged healthy
// on an older spec (the health policies compare observedGeneration).
func (r *Reconciler) readLive(ctx context.Context, u *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	key := client.ObjectKey{Namespace: u.GetNamespace(), Name: u.GetName()}
	if c := tracker.ClusterOf(u); c != "" {
		// A joined cluster's objects are read from it (not cached).
		cl, err := r.clusterClient(ctx, c)
		if err != nil {
			return nil, err
		}
		l := &unstructured.Unstructured{}
		l.SetGroupVersionKind(u.GroupVersionKind())
		if err := cl.Get(ctx, key, l); err != nil {
			return nil, err
		}
		return l, nil
	}
	if u.GroupVersionKind() == deploymentGVK {
		d := &appsv1.Deployment{}
		err := r.Client.Get(ctx, key, d)
		if err == nil {
			m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(d)
			if err != nil {
				return nil, err
			}
			l := &unstructured.Unstructured{Object: m}
			l.SetGroupVersionKind(deploymentGVK)
			return l, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	l := &unstructured.Unstructured{}
	l.SetGroupVersionKind(u.GroupVersionKind())
	if err := r.Client.Get(ctx, key, l); err != nil {
		return nil, err
	}
	return l, nil
}

var deploymentGVK = appsv1.SchemeGroupVersion.WithKind("Deployment")

// componentStatus evaluates the health of a component and its traits
// from their definitions' healthPolicy and customStatus.
func (run *appRun) componentStatus(ctx context.Context, rc *render.RenderedComponent) v1beta1.ApplicationComponentStatus {
	st := v1beta1.ApplicationComponentStatus{Name: rc.Name, Namespace: run.app.Namespace, Cluster: rc.Cluster, Healthy: true}
	if rc.Workload != nil {
		st.Namespace = rc.Workload.GetNamespace()
	}
	if rc.Workload != nil {
		st.WorkloadDefinition = v1beta1.WorkloadGVK{APIVersion: rc.Workload.GetAPIVersion(), Kind: rc.Workload.GetKind()}
	}
	own := render.LiveObjects{Outputs: map[string]*unstructured.Unstructured{}}
	byTrait := map[string]render.LiveObjects{}
	if rc.Workload != nil {
		own.Output = run.liveObject(ctx, rc.Workload)
		if own.Output == nil {
			st.Healthy, st.Message = false, "workload "+rc.Workload.GetKind()+" "+rc.Workload.GetName()+" not found"
			return st
		}
	}
	for _, a := range rc.Auxiliaries {
		l := run.liveObject(ctx, a.Object)
		if a.Trait == "" {
			own.Outputs[a.Name] = l
			continue
		}
		t := byTrait[a.Trait]
		if t.Outputs == nil {
			t.Outputs = map[string]*unstructured.Unstructured{}
		}
		t.Output = own.Output
		t.Outputs[a.Name] = l
		byTrait[a.Trait] = t
	}
	h, err := run.r.Renderer.EvalStatus(rc.Definition, rc.Properties, rc.Context, own)
	if err != nil {
		st.Healthy, st.Message = false, err.Error()
	} else {
		st.Healthy, st.Message, st.Details = h.Healthy, h.Message, h.Details
	}
	for _, t := range rc.Traits {
		if t.Skipped {
			continue
		}
		live, ok := byTrait[t.Type]
		if !ok {
			live = render.LiveObjects{Output: own.Output}
		}
		ts := v1beta1.ApplicationTraitStatus{Type: t.Type, Healthy: true}
		th, err := run.r.Renderer.EvalStatus(t.Definition, t.Properties, rc.Context, live)
		if err != nil {
			ts.Healthy, ts.Message = false, err.Error()
		} else {
			ts.Healthy, ts.Message, ts.Details = th.Healthy, th.Message, th.Details
		}
		if !ts.Healthy {
			st.Healthy = false
		}
		st.Traits = append(st.Traits, ts)
	}
	return st
}

// updateServices writes status.services and status.appliedResources for
// the components deployed so far.
func (run *appRun) updateServices(ctx context.Context) {
	var services []v1beta1.ApplicationComponentStatus
	var applied []v1beta1.ClusterObjectReference
	for i := range run.comps {
		rc := &run.comps[i]
		if !run.deployed[i] {
			continue
		}
		services = append(services, run.componentStatus(ctx, rc))
		for _, o := range rc.Objects() {
			applied = append(applied, tracker.Ref(o))
		}
	}
	sort.SliceStable(applied, func(i, j int) bool { return tracker.Key(applied[i]) < tracker.Key(applied[j]) })
	run.app.Status.Services = services
	run.app.Status.AppliedResources = applied
}

// healthy reports whether every service is healthy.
func healthy(app *v1beta1.Application) bool {
	for _, s := range app.Status.Services {
		if !s.Healthy {
			return false
		}
	}
	return true
}
