package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/apply"
	"github.com/velad-dev/velad/controller/cluster"
	"github.com/velad-dev/velad/controller/render"
	"github.com/velad-dev/velad/controller/tracker"
	"github.com/velad-dev/velad/controller/workflow"
)

// Delivery to joined clusters: objects placed in a cluster other than
// local carry its name (tracker.LabelCluster) and are applied, read and
// deleted through its client. A cluster that does not answer fails only
// the deploy steps that deliver there (ClusterUnreachable, naming it),
// retried with backoff; the others go on.

// Cluster backoff bounds.
const (
	clusterRetryMin = 2 * time.Second
	clusterRetryMax = time.Minute
)

// clusterClient is the client of cluster name ("" or local: the
// controller's own).
func (r *Reconciler) clusterClient(ctx context.Context, name string) (client.Client, error) {
	if cluster.IsLocal(name) {
		return r.Client, nil
	}
	if r.Clusters == nil {
		return nil, fmt.Errorf("cluster %q: %w (this controller delivers only to local)", name, cluster.ErrNotFound)
	}
	return r.Clusters.Client(ctx, name)
}

// clusterInfos lists the clusters topology policies choose from.
func (r *Reconciler) clusterInfos(ctx context.Context) ([]render.ClusterInfo, error) {
	if r.Clusters == nil {
		return []render.ClusterInfo{{Name: cluster.Local, Labels: map[string]string{}}}, nil
	}
	cs, err := r.Clusters.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]render.ClusterInfo, len(cs))
	for i, c := range cs {
		out[i] = render.ClusterInfo{Name: c.Name, Labels: c.Labels}
	}
	return out, nil
}

// trackerClusters is the tracker's view of the registry: a cluster that
// is no longer joined is gone.
func (r *Reconciler) trackerClusters(ctx context.Context, name string) (client.Client, error) {
	c, err := r.clusterClient(ctx, name)
	if errors.Is(err, cluster.ErrNotFound) {
		return nil, fmt.Errorf("%w: %v", tracker.ErrClusterGone, err)
	}
	return c, err
}

// applierFor is the applier of the cluster u is placed in.
func (run *appRun) applierFor(ctx context.Context, u interface{ GetLabels() map[string]string }) (*apply.Applier, string, error) {
	name := u.GetLabels()[tracker.LabelCluster]
	if cluster.IsLocal(name) {
		return run.r.applier(), "", nil
	}
	if err := run.down(name); err != nil {
		return nil, name, err
	}
	c, err := run.r.clusterClient(ctx, name)
	if err != nil {
		run.markUnreachable(name, err)
		return nil, name, err
	}
	return apply.New(c), name, nil
}

func (run *appRun) markUnreachable(name string, err error) {
	run.mu.Lock()
	defer run.mu.Unlock()
	if run.unreachable == nil {
		run.unreachable = map[string]error{}
	}
	run.unreachable[name] = err
}

// clusterError is a failure to reach a joined cluster.
type clusterError struct {
	cluster string
	err     error
}

func (e *clusterError) Error() string { return fmt.Sprintf("cluster %q: %v", e.cluster, e.err) }
func (e *clusterError) Unwrap() error { return e.err }

// clusterBackoff counts the consecutive failures per app and cluster.
type clusterBackoff struct {
	mu sync.Mutex
	n  map[string]int
}

func backoffKey(app *v1beta1.Application, c string) string {
	return app.Namespace + "/" + app.Name + "/" + c
}

// failed counts one more failure and returns how long to wait.
func (b *clusterBackoff) failed(app *v1beta1.Application, c string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.n == nil {
		b.n = map[string]int{}
	}
	k := backoffKey(app, c)
	d := clusterRetryMin << min(b.n[k], 8)
	b.n[k]++
	return min(d, clusterRetryMax)
}

func (b *clusterBackoff) reset(app *v1beta1.Application, c string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.n, backoffKey(app, c))
}

// down is why cluster c failed in this reconcile (nil: it did not).
func (run *appRun) down(c string) error {
	run.mu.Lock()
	defer run.mu.Unlock()
	return run.unreachable[c]
}

func (run *appRun) liveOf(key string) (*unstructured.Unstructured, bool) {
	run.mu.Lock()
	defer run.mu.Unlock()
	l, ok := run.live[key]
	return l, ok
}

func (run *appRun) setLive(key string, l *unstructured.Unstructured) {
	run.mu.Lock()
	defer run.mu.Unlock()
	run.live[key] = l
}

// applyAll applies entries, the clusters' in parallel (each cluster's in
// order); a cluster that fails is reported in down, and the first other
// failure ends it.
func (run *appRun) applyAll(ctx context.Context, entries []tracker.Entry) (down []*clusterError, _ workflow.Outcome, _ error) {
	var order []string
	byCluster := map[string][]tracker.Entry{}
	for _, e := range entries {
		c := tracker.ClusterOf(e.Object)
		if _, ok := byCluster[c]; !ok {
			order = append(order, c)
		}
		byCluster[c] = append(byCluster[c], e)
	}
	type result struct {
		down *clusterError
		out  workflow.Outcome
		err  error
	}
	results := make([]result, len(order))
	applyCluster := func(i int) {
		for _, e := range byCluster[order[i]] {
			if run.down(order[i]) != nil {
				return
			}
			out, err := run.applyEntry(ctx, e)
			var ce *clusterError
			if errors.As(err, &ce) {
				results[i].down = ce
				return
			}
			if err != nil || out.Failed {
				results[i].out, results[i].err = out, err
				return
			}
		}
	}
	if len(order) == 1 {
		applyCluster(0)
	} else {
		var wg sync.WaitGroup
		for i := range order {
			wg.Add(1)
			go func() { defer wg.Done(); applyCluster(i) }()
		}
		wg.Wait()
	}
	for _, r := range results {
		if r.down != nil {
			down = append(down, r.down)
		}
	}
	for _, r := range results {
		if r.err != nil || r.out.Failed {
			return down, r.out, r.err
		}
	}
	return down, workflow.Outcome{}, nil
}
