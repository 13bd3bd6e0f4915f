// Package tracker records what an application applied, one
// ResourceTracker per application revision, and removes what is no longer
// wanted: objects of older revisions that the current one does not keep,
// and everything when the application is deleted.
package tracker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// Tracker reads and writes ResourceTrackers. Reader should read from the
// API server (trackers are not cached by the controller).
type Tracker struct {
	Client client.Client
	Reader client.Reader
	// Clusters returns the client of a joined cluster (the objects an
	// app delivered there are deleted through it); nil: only local. An
	// error wrapping ErrClusterGone means the cluster is no longer
	// joined: its objects are left there (detached with them).
	Clusters func(ctx context.Context, name string) (client.Client, error)
}

// ErrClusterGone marks a cluster that is no longer joined.
var ErrClusterGone = errors.New("cluster is not joined")

// LabelCluster is the label (KubeVela's app.oam.dev/cluster) naming the
// cluster an object is delivered to, on objects not delivered to local.
const LabelCluster = "app.oam.dev/cluster"

// Name is the tracker of one app revision: "<app>-v<N>-<namespace>".
func Name(app *v1beta1.Application, revision string) string {
	return revision + "-" + app.Namespace
}

// Key identifies an object across versions of its kind, in its cluster.
func Key(r v1beta1.ClusterObjectReference) string {
	gv, _ := schema.ParseGroupVersion(r.APIVersion)
	k := gv.Group + "/" + r.Kind + "/" + r.Namespace + "/" + r.Name
	if !isLocal(r.Cluster) {
		k = r.Cluster + ":" + k
	}
	return k
}

// Ref makes the reference of an object; its cluster is the one its
// LabelCluster names ("": local).
func Ref(u *unstructured.Unstructured) v1beta1.ClusterObjectReference {
	return v1beta1.ClusterObjectReference{Cluster: ClusterOf(u), ObjectReference: v1beta1.ObjectReference{
		APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(),
	}}
}

// ClusterOf is the cluster an object is delivered to ("": local).
func ClusterOf(u *unstructured.Unstructured) string {
	c := u.GetLabels()[LabelCluster]
	if isLocal(c) {
		return ""
	}
	return c
}

func isLocal(c string) bool { return c == "" || c == "local" }

// clients returns the writer and reader of cluster c; gone: the cluster
// is no longer joined.
func (t *Tracker) clients(ctx context.Context, c string) (_ client.Client, _ client.Reader, gone bool, _ error) {
	if isLocal(c) || t.Clusters == nil {
		return t.Client, t.Reader, false, nil
	}
	cl, err := t.Clusters(ctx, c)
	if errors.Is(err, ErrClusterGone) {
		return nil, nil, true, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	return cl, cl, false, nil
}

// Entry is one object to record.
type Entry struct {
	Object    *unstructured.Unstructured
	Component string
	Trait     string
	// ReadOnly: a read-only policy selects it; recorded with SkipGC, as
	// the app never deletes it.
	ReadOnly bool
}

// Current is the tracker of the running revision, loaded once per
// reconcile and written only when something new is recorded.
type Current struct {
	t      *Tracker
	rt     *v1beta1.ResourceTracker
	exists bool
	// created: this Current created the tracker.
	created bool
	index   map[string]int
}

// Load returns the tracker of revision (empty when it does not exist yet).
func (t *Tracker) Load(ctx context.Context, app *v1beta1.Application, revision string, generation int64) (*Current, error) {
	rt := &v1beta1.ResourceTracker{}
	c := &Current{t: t, rt: rt, index: map[string]int{}}
	err := t.Reader.Get(ctx, client.ObjectKey{Name: Name(app, revision)}, rt)
	switch {
	case err == nil:
		c.exists = true
		for i, m := range rt.Spec.ManagedResources {
			c.index[Key(m.ClusterObjectReference)] = i
		}
	case apierrors.IsNotFound(err):
		rt.Name = Name(app, revision)
		rt.Labels = map[string]string{
			v1beta1.LabelAppName:      app.Name,
			v1beta1.LabelAppNamespace: app.Namespace,
			v1beta1.LabelAppRevision:  revision,
		}
		rt.Spec.Type = v1beta1.ResourceTrackerTypeVersioned
		rt.Spec.ApplicationGeneration = generation
	default:
		return nil, fmt.Errorf("get resource tracker %s: %w", Name(app, revision), err)
	}
	return c, nil
}

// New returns the tracker of revision without reading it: for a revision
// just made, whose tracker does not exist yet (Record then fails with
// AlreadyExists if it does; Load it then).
func (t *Tracker) New(app *v1beta1.Application, revision string, generation int64) *Current {
	rt := &v1beta1.ResourceTracker{}
	rt.Name = Name(app, revision)
	rt.Labels = map[string]string{
		v1beta1.LabelAppName:      app.Name,
		v1beta1.LabelAppNamespace: app.Namespace,
		v1beta1.LabelAppRevision:  revision,
	}
	rt.Spec.Type = v1beta1.ResourceTrackerTypeVersioned
	rt.Spec.ApplicationGeneration = generation
	return &Current{t: t, rt: rt, index: map[string]int{}}
}

// Has reports whether the object is recorded.
func (c *Current) Has(u *unstructured.Unstructured) bool {
	_, ok := c.index[Key(Ref(u))]
	return ok
}

// Record adds the entries that are not recorded yet (or whose manifest
// changed) and saves the tracker. Call it before applying, so that an
// object is never applied without being tracked.
func (c *Current) Record(ctx context.Context, entries []Entry) error {
	changed := false
	for _, e := range entries {
		raw, err := json.Marshal(e.Object.Object)
		if err != nil {
			return fmt.Errorf("record %s: %w", e.Object.GetName(), err)
		}
		m := v1beta1.ManagedResource{ClusterObjectReference: Ref(e.Object), Component: e.Component, Trait: e.Trait,
			Data: &runtime.RawExtension{Raw: raw}, SkipGC: e.ReadOnly}
		k := Key(m.ClusterObjectReference)
		if i, ok := c.index[k]; ok {
			if old := c.rt.Spec.ManagedResources[i]; old.Data == nil || string(old.Data.Raw) != string(raw) || old.SkipGC != m.SkipGC {
				c.rt.Spec.ManagedResources[i] = m
				changed = true
			}
			continue
		}
		c.index[k] = len(c.rt.Spec.ManagedResources)
		c.rt.Spec.ManagedResources = append(c.rt.Spec.ManagedResources, m)
		changed = true
	}
	if !changed {
		return nil
	}
	if !c.exists {
		if err := c.t.Client.Create(ctx, c.rt); err != nil {
			return fmt.Errorf("create resource tracker %s: %w", c.rt.Name, err)
		}
		c.exists, c.created = true, true
		return nil
	}
	if err := c.t.Client.Update(ctx, c.rt); err != nil {
		return fmt.Errorf("update resource tracker %s: %w", c.rt.Name, err)
	}
	return nil
}

// Discard deletes the tracker if this Current created it (and nothing
// else); it is then empty again.
func (c *Current) Discard(ctx context.Context) error {
	if !c.created {
		return nil
	}
	if err := client.IgnoreNotFound(c.t.Client.Delete(ctx, c.rt)); err != nil {
		return fmt.Errorf("delete resource tracker %s: %w", c.rt.Name, err)
	}
	c.exists, c.created = false, false
	c.rt.Spec.ManagedResources = nil
	c.rt.ResourceVersion = ""
	c.index = map[string]int{}
	return nil
}

// List returns every tracker of app.
func (t *Tracker) List(ctx context.Context, app *v1beta1.Application) ([]v1beta1.ResourceTracker, error) {
	var l v1beta1.ResourceTrackerList
	if err := t.Reader.List(ctx, &l, client.MatchingLabels{
		v1beta1.LabelAppName: app.Name, v1beta1.LabelAppNamespace: app.Namespace,
	}); err != nil {
		return nil, fmt.Errorf("list resource trackers of %s/%s: %w", app.Namespace, app.Name, err)
	}
	return l.Items, nil
}

// Collect deletes the objects of every other tracker of app that the
// tracker of revision does not record, then those trackers, as policy
// allows: with keepLegacyResource nothing goes before the app does, and a
// tracker keeps the resources its rules keep (onAppDelete, never), so
// that they are still known when the app is deleted. It returns how many
// objects it deleted.
func (t *Tracker) Collect(ctx context.Context, app *v1beta1.Application, revision string, policy Policy) (int, error) {
	if policy.KeepLegacyResource {
		return 0, nil
	}
	all, err := t.List(ctx, app)
	if err != nil {
		return 0, err
	}
	keep := map[string]bool{}
	current := Name(app, revision)
	for _, rt := range all {
		if rt.Name == current {
			for _, m := range rt.Spec.ManagedResources {
				keep[Key(m.ClusterObjectReference)] = true
			}
		}
	}
	deleted := 0
	for i := range all {
		rt := &all[i]
		if rt.Name == current {
			continue
		}
		kept := 0
		for _, m := range rt.Spec.ManagedResources {
			if keep[Key(m.ClusterObjectReference)] || m.SkipGC {
				continue
			}
			strategy, propagation := policy.StrategyFor(m)
			if strategy != OnAppUpdate {
				kept++
				continue
			}
			gone, err := t.deleteObject(ctx, app, m.ClusterObjectReference, propagation)
			if err != nil {
				return deleted, err
			}
			if gone {
				deleted++
			}
		}
		if kept > 0 {
			continue
		}
		if err := client.IgnoreNotFound(t.Client.Delete(ctx, rt)); err != nil {
			return deleted, fmt.Errorf("delete resource tracker %s: %w", rt.Name, err)
		}
	}
	return deleted, nil
}

// DeleteAll deletes every object app applied, but those policy says never
// to delete, and its trackers.
func (t *Tracker) DeleteAll(ctx context.Context, app *v1beta1.Application, policy Policy) error {
	all, err := t.List(ctx, app)
	if err != nil {
		if cannotExist(err) {
			// The app's name or namespace is no label value: no tracker
			// can carry it, so there is nothing to delete.
			return nil
		}
		return err
	}
	// An object a tracker records as read-only is not the app's to
	// delete, whatever an older tracker recorded.
	readOnly := map[string]bool{}
	for i := range all {
		for _, m := range all[i].Spec.ManagedResources {
			if m.SkipGC {
				readOnly[Key(m.ClusterObjectReference)] = true
			}
		}
	}
	for i := range all {
		rt := &all[i]
		for _, m := range rt.Spec.ManagedResources {
			strategy, propagation := policy.StrategyFor(m)
			if m.SkipGC || readOnly[Key(m.ClusterObjectReference)] || strategy == Never {
				continue
			}
			if _, err := t.deleteObject(ctx, app, m.ClusterObjectReference, propagation); err != nil {
				return err
			}
		}
		if err := client.IgnoreNotFound(t.Client.Delete(ctx, rt)); err != nil {
			return fmt.Errorf("delete resource tracker %s: %w", rt.Name, err)
		}
	}
	return nil
}

// deleteObject deletes one object (dependents: propagation); an object that is
// already gone, whose kind no longer exists, or that cannot exist (its
// name cannot even be requested, the API server calls the request
// invalid) counts as deleted: else an app that recorded it could never
// be deleted. An object another application has taken over since (its
// labels name that app) is left to it.
func (t *Tracker) deleteObject(ctx context.Context, app *v1beta1.Application, r v1beta1.ClusterObjectReference, propagation metav1.DeletionPropagation) (bool, error) {
	if !addressable(r) {
		return false, nil
	}
	c, reader, gone, err := t.clients(ctx, r.Cluster)
	if err != nil {
		return false, fmt.Errorf("delete %s %s/%s in cluster %q: %w", r.Kind, r.Namespace, r.Name, r.Cluster, err)
	}
	if gone {
		return false, nil
	}
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(r.APIVersion)
	u.SetKind(r.Kind)
	u.SetNamespace(r.Namespace)
	u.SetName(r.Name)
	if managedByAnother(ctx, reader, app, u) {
		return false, nil
	}
	err = c.Delete(ctx, u, client.PropagationPolicy(propagation))
	if err == nil {
		return true, nil
	}
	if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) || cannotExist(err) {
		return false, nil
	}
	if !isLocal(r.Cluster) {
		return false, fmt.Errorf("delete %s %s/%s in cluster %q: %w", r.Kind, r.Namespace, r.Name, r.Cluster, err)
	}
	return false, fmt.Errorf("delete %s %s/%s: %w", r.Kind, r.Namespace, r.Name, err)
}
