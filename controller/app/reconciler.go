// Package app is the Application reconciler: revision → render →
// workflow (apply, wait for health) → health → garbage collection, with
// drift correction on every reconcile and cleanup on deletion.
package app

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/apply"
	"github.com/velad-dev/velad/controller/cluster"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
	"github.com/velad-dev/velad/controller/revision"
	"github.com/velad-dev/velad/controller/tracker"
)

// Finalizer keeps an Application until everything it applied is deleted.
const Finalizer = "app.oam.dev/resource-tracker-finalizer"

// Defaults.
const (
	DefaultResync = 5 * time.Minute
	// DefaultWorkers is how many applications are reconciled at once. A
	// reconcile mostly waits for the API server, whose writes velad's
	// datastore (SQLite through kine) makes one at a time: more workers
	// only queue there and make every reconcile slower without
	// reconciling more applications per second (1,000 apps on 2 cores: 2
	// workers were as fast as 4 or 8, at half the p99 latency or less).
	// With an external datastore, raise --concurrent-reconciles.
	DefaultWorkers = 2
	// HealthPoll is how soon an app waiting for a component to become
	// healthy is looked at again when no watched object changes.
	HealthPoll = 5 * time.Second
	// WatchedHealthPoll replaces HealthPoll when the app waits only for
	// Deployments: their changes are watched and reconcile it at once.
	WatchedHealthPoll = 30 * time.Second
	// ConflictRetry is how soon an app whose status could not be written
	// (it changed meanwhile) is reconciled again.
	ConflictRetry = 200 * time.Millisecond
	// MissingDefinitionRetry is how soon an app that names a definition
	// that does not exist (yet) is rendered again.
	MissingDefinitionRetry = 30 * time.Second
)

// Reconciler reconciles Applications.
type Reconciler struct {
	Client client.Client
	// APIReader reads what the controller does not cache (revisions,
	// resource trackers).
	APIReader client.Reader
	Recorder  events.EventRecorder
	Renderer  *render.Renderer
	// Builtins are the definitions compiled into the controller, used
	// when neither the app's namespace nor vela-system has one.
	Builtins definition.Source
	// Resync is the default periodic reconcile interval.
	Resync time.Duration
	// Workers is the number of concurrent reconciles.
	Workers int
	// RevisionLimit is how many ApplicationRevisions are kept per app.
	RevisionLimit int
	// CrossNamespace lists the namespaces whose apps may write outside
	// them (lane.go); nil: DefaultCrossNamespace.
	CrossNamespace []string
	Now            func() time.Time
	// HTTP is the client of workflow steps' HTTP requests (nil: the
	// default client).
	HTTP *http.Client

	// Clusters is the registry of joined clusters topology policies
	// deliver to; nil: only local.
	Clusters *cluster.Registry

	applied appliedStates
	backoff clusterBackoff
}

// Reconcile brings one Application to its desired state.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, err error) {
	defer recoverPanic(ctx, req, &err)
	app := &v1beta1.Application{}
	if err := r.Client.Get(ctx, req.NamespacedName, app); err != nil {
		if apierrors.IsNotFound(err) {
			r.applied.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if app.Labels[v1beta1.LabelPause] == "true" {
		return ctrl.Result{}, nil
	}
	if !app.DeletionTimestamp.IsZero() {
		r.applied.forget(req.NamespacedName)
		return r.finalize(ctx, app)
	}
	before := app.Status.DeepCopy()
	// The finalizer, a new revision and the tracker are written at the same
	// time; only applying waits for the finalizer.
	run := r.newRun(ctx, app)
	res, err = r.reconcileApp(ctx, run)
	ferr, rerr := run.finalized(), run.revised()
	if ferr != nil {
		run.dropTracker(ctx)
		return ctrl.Result{}, ferr
	}
	if rerr != nil {
		return ctrl.Result{}, rerr
	}
	return r.saveStatus(ctx, app, before, res, err)
}

// reconcileApp runs one pass of the pipeline and fills app.Status.
func (r *Reconciler) reconcileApp(ctx context.Context, run *appRun) (ctrl.Result, error) {
	app := run.app
	app.Status.ObservedGeneration = app.Generation
	if err := run.prepare(ctx); err != nil {
		return r.renderFailed(ctx, app, err)
	}
	wf, err := run.runWorkflow(ctx)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := run.keepState(ctx); err != nil {
		return ctrl.Result{}, err
	}
	run.updateServices(ctx)
	if err := run.collect(ctx, wf); err != nil {
		return ctrl.Result{}, err
	}
	r.setPhase(ctx, app, wf)
	r.applied.put(app, run.book.next)
	return r.requeue(app, wf), nil
}

// SetupWithManager registers the reconciler: Applications, and the
// Deployments they render so that health and drift are noticed at once
// (and read from the cache; CacheOptions limits it to rendered ones).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Renderer == nil {
		r.Renderer = render.NewRenderer()
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder("velad-controller")
	}
	workers := r.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("application").
		For(&v1beta1.Application{}, builder.WithPredicates(appChanged())).
		Watches(&appsv1.Deployment{}, handler.EnqueueRequestsFromMapFunc(appOf)).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers}).
		Complete(r)
}

// CacheOptions limits the controller's cache of Deployments to those an
// application rendered (they carry its name label).
func CacheOptions() cache.Options {
	rendered, _ := labels.NewRequirement(v1beta1.LabelAppName, selection.Exists, nil)
	return cache.Options{ByObject: map[client.Object]cache.ByObject{
		&appsv1.Deployment{}: {Label: labels.NewSelector().Add(*rendered)},
	}}
}

// appOf maps a rendered object to its Application by its labels.
func appOf(_ context.Context, o client.Object) []reconcile.Request {
	l := o.GetLabels()
	name, ns := l[v1beta1.LabelAppName], l[v1beta1.LabelAppNamespace]
	if name == "" || ns == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}}
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler) applier() *apply.Applier { return apply.New(r.Client) }

func (r *Reconciler) tracker() *tracker.Tracker {
	return &tracker.Tracker{Client: r.Client, Reader: r.APIReader, Clusters: r.trackerClusters}
}

func (r *Reconciler) revisions() *revision.Store {
	return &revision.Store{Client: r.Client, Reader: r.APIReader, Limit: r.RevisionLimit}
}

// addFinalizer starts adding the finalizer to app (when it has none) and
// returns a function that waits for the write (and may be called again).
// Until then app must not be written; once it returns nil, app carries
// the finalizer and the resourceVersion the write left.
func (r *Reconciler) addFinalizer(ctx context.Context, app *v1beta1.Application) (wait func() error) {
	if controllerutil.ContainsFinalizer(app, Finalizer) {
		return func() error { return nil }
	}
	obj := app.DeepCopy()
	controllerutil.AddFinalizer(obj, Finalizer)
	done := make(chan error, 1)
	go func() { done <- r.Client.Update(ctx, obj) }()
	return sync.OnceValue(func() error {
		if err := <-done; err != nil {
			return fmt.Errorf("add finalizer to application %s/%s: %w", app.Namespace, app.Name, err)
		}
		app.Finalizers = obj.Finalizers
		app.ResourceVersion = obj.ResourceVersion
		return nil
	})
}

// saveStatus writes the status when it changed. A conflict means the app
// changed meanwhile; its watch event reconciles it again.
func (r *Reconciler) saveStatus(ctx context.Context, app *v1beta1.Application, before *v1beta1.AppStatus, res ctrl.Result, err error) (ctrl.Result, error) {
	if equality.Semantic.DeepEqual(before, &app.Status) {
		return res, err
	}
	if uerr := r.Client.Status().Update(ctx, app); uerr != nil {
		if apierrors.IsNotFound(uerr) {
			return ctrl.Result{}, err
		}
		if apierrors.IsConflict(uerr) {
			// The app changed meanwhile. Its update event may be one the
			// predicates drop (a status write), so look again soon.
			if err == nil {
				res = ctrl.Result{RequeueAfter: ConflictRetry}
			}
			return res, err
		}
		if err == nil {
			err = fmt.Errorf("update status of application %s/%s: %w", app.Namespace, app.Name, uerr)
		}
	}
	return res, err
}

// fullApplyEvery is how long reconciles may skip applying unchanged
// objects: a little less than the periodic resync, so that every resync
// applies everything again.
func (r *Reconciler) fullApplyEvery(app *v1beta1.Application) time.Duration {
	return r.requeue(app, workflowResult{}).RequeueAfter * 9 / 10
}

// requeue is when to look at app again without an event.
func (r *Reconciler) requeue(app *v1beta1.Application, wf workflowResult) ctrl.Result {
	after := r.Resync
	if after <= 0 {
		after = DefaultResync
	}
	if s := app.Annotations[v1beta1.AnnotationReconcileInterval]; s != "" {
		if d, err := parseInterval(s); err == nil && d > 0 {
			after = d
		}
	}
	if wf.requeueAfter > 0 && wf.requeueAfter < after {
		after = wf.requeueAfter
	}
	return ctrl.Result{RequeueAfter: after}
}

// parseInterval accepts a Go duration ("30s") or a number of seconds.
func parseInterval(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(s)
}

// recoverPanic turns a panic into an error: user input must never take
// the controller down.
func recoverPanic(ctx context.Context, req ctrl.Request, err *error) {
	if p := recover(); p != nil {
		log.FromContext(ctx).Error(fmt.Errorf("%v", p), "panic while reconciling", "application", req.NamespacedName, "stack", string(debug.Stack()))
		*err = fmt.Errorf("reconcile application %s: internal error: %v", req.NamespacedName, p)
	}
}
