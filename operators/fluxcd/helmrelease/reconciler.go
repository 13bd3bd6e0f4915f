// Package helmrelease reconciles helm.toolkit.fluxcd.io/v2 HelmReleases
// with the Helm SDK, as Flux's helm-controller does: dependencies first,
// the chart from a HelmRepository (HTTP index or OCI registry), values
// composed from valuesFrom and values, then install, upgrade, or
// remediation (uninstall between install attempts, rollback or uninstall
// after a failed upgrade) with Flux's conditions, reasons and messages,
// history and failure counters. On delete the release is uninstalled.
// Fields this controller does not implement make the object Stalled with
// a message naming the field; they are never silently ignored.
package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/velad-dev/velad/operators/fluxcd/conditions"
	"github.com/velad-dev/velad/operators/fluxcd/source"
	"github.com/velad-dev/velad/operators/fluxcd/storage"
)

// Index keys of HelmReleases.
const (
	indexSource    = "velad.fluxcd/source"
	indexDependsOn = "velad.fluxcd/dependsOn"
)

// DependencyRequeue is how soon a release waiting on a dependency or its
// source looks again (watches usually wake it earlier).
const DependencyRequeue = 10 * time.Second

// Reconciler reconciles HelmReleases.
type Reconciler struct {
	Client client.Client
	// APIReader reads Secrets, ConfigMaps and dependencies uncached.
	APIReader client.Reader
	Config    *rest.Config
	Storage   *storage.Storage
	Recorder  record.EventRecorder
	Workers   int

	kube   *kube
	charts *charts
}

// SetupWithManager registers the reconciler, its indexes and watches.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.kube = newKube(r.Config)
	r.charts = &charts{reader: r.APIReader, storage: r.Storage}
	ctx := context.Background()
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &helmv2.HelmRelease{}, indexSource, func(o client.Object) []string {
		hr := o.(*helmv2.HelmRelease)
		if hr.Spec.Chart == nil {
			return nil
		}
		ref := hr.Spec.Chart.Spec.SourceRef
		return []string{ref.Kind + "/" + hr.Spec.Chart.GetNamespace(hr.Namespace) + "/" + ref.Name}
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &helmv2.HelmRelease{}, indexDependsOn, func(o client.Object) []string {
		hr := o.(*helmv2.HelmRelease)
		var out []string
		for _, d := range hr.Spec.DependsOn {
			ns := d.Namespace
			if ns == "" {
				ns = hr.Namespace
			}
			out = append(out, ns+"/"+d.Name)
		}
		return out
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&helmv2.HelmRelease{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&sourcev1.HelmRepository{}, handler.EnqueueRequestsFromMapFunc(r.releasesOfSource)).
		Watches(&helmv2.HelmRelease{}, handler.EnqueueRequestsFromMapFunc(r.dependents)).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(r.Workers, 1)}).
		Named("helmrelease").
		Complete(r)
}

func (r *Reconciler) releasesOfSource(ctx context.Context, o client.Object) []reconcile.Request {
	return r.lookup(ctx, indexSource, sourcev1.HelmRepositoryKind+"/"+o.GetNamespace()+"/"+o.GetName())
}

func (r *Reconciler) dependents(ctx context.Context, o client.Object) []reconcile.Request {
	return r.lookup(ctx, indexDependsOn, o.GetNamespace()+"/"+o.GetName())
}

func (r *Reconciler) lookup(ctx context.Context, index, key string) []reconcile.Request {
	var list helmv2.HelmReleaseList
	if err := r.Client.List(ctx, &list, client.MatchingFields{index: key}); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, hr := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&hr)})
	}
	return reqs
}

// statusPatcher patches the status from the last written state.
type statusPatcher struct {
	c    client.Client
	base *helmv2.HelmRelease
}

func (p *statusPatcher) patch(ctx context.Context, hr *helmv2.HelmRelease) error {
	if err := p.c.Status().Patch(ctx, hr, client.MergeFrom(p.base)); err != nil {
		return fmt.Errorf("update status of HelmRelease %s/%s: %w", hr.Namespace, hr.Name, err)
	}
	p.base = hr.DeepCopy()
	return nil
}

// Reconcile brings one HelmRelease's Helm release to its spec.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	hr := &helmv2.HelmRelease{}
	if err := r.Client.Get(ctx, req.NamespacedName, hr); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	p := &statusPatcher{c: r.Client, base: hr.DeepCopy()}
	if !hr.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, hr, p)
	}
	if !controllerutil.ContainsFinalizer(hr, helmv2.HelmReleaseFinalizer) {
		patch := client.MergeFrom(hr.DeepCopy())
		controllerutil.AddFinalizer(hr, helmv2.HelmReleaseFinalizer)
		if err := r.Client.Patch(ctx, hr, patch); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
		p.base = hr.DeepCopy()
	}
	if hr.Spec.Suspend {
		return ctrl.Result{}, nil
	}
	res, recErr := r.reconcile(ctx, hr, p)
	hr.Status.ObservedGeneration = hr.Generation
	if v, ok := meta.ReconcileAnnotationValue(hr.GetAnnotations()); ok {
		hr.Status.SetLastHandledReconcileRequest(v)
	}
	if err := p.patch(ctx, hr); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, errors.Join(recErr, err)
	}
	return res, recErr
}

func (r *Reconciler) reconcile(ctx context.Context, hr *helmv2.HelmRelease, p *statusPatcher) (ctrl.Result, error) {
	if field, why := Unsupported(hr); field != "" {
		msg := fmt.Sprintf("%s is not supported by velad's fluxcd controller: %s", field, why)
		conditions.MarkFalse(hr, meta.ReadyCondition, ReasonUnsupported, "%s", msg)
		conditions.MarkStalled(hr, ReasonUnsupported, "%s", msg)
		r.event(hr, corev1.EventTypeWarning, ReasonUnsupported, msg)
		return ctrl.Result{}, nil
	}
	conditions.Delete(hr, meta.StalledCondition)
	conditions.MarkReconciling(hr, meta.ProgressingReason, "Fulfilling prerequisites")
	if err := p.patch(ctx, hr); err != nil {
		return ctrl.Result{}, err
	}

	if err := r.checkDependencies(ctx, hr); err != nil {
		conditions.MarkFalse(hr, meta.ReadyCondition, helmv2.DependencyNotReadyReason, "%s", err)
		r.event(hr, corev1.EventTypeNormal, helmv2.DependencyNotReadyReason, err.Error())
		return ctrl.Result{RequeueAfter: DependencyRequeue}, nil
	}
	clearReason(hr, helmv2.DependencyNotReadyReason)

	repo, err := r.getSource(ctx, hr)
	if err != nil {
		conditions.MarkFalse(hr, meta.ReadyCondition, helmv2.ArtifactFailedReason, "could not get Source object: %s", err)
		return ctrl.Result{}, err
	}
	if ok, msg := source.Ready(repo); !ok {
		conditions.MarkFalse(hr, meta.ReadyCondition, "SourceNotReady", "%s", msg)
		return ctrl.Result{RequeueAfter: DependencyRequeue}, nil
	}
	clearReason(hr, helmv2.ArtifactFailedReason, "SourceNotReady")

	values, err := ComposeValues(ctx, r.APIReader, hr)
	if err != nil {
		conditions.MarkFalse(hr, meta.ReadyCondition, "ValuesError", "%s", err)
		r.event(hr, corev1.EventTypeWarning, "ValuesError", err.Error())
		return ctrl.Result{}, err
	}
	clearReason(hr, "ValuesError")

	loaded, err := r.charts.load(ctx, hr, repo)
	if err != nil {
		conditions.MarkFalse(hr, meta.ReadyCondition, helmv2.ArtifactFailedReason, "%s", err)
		r.event(hr, corev1.EventTypeWarning, helmv2.ArtifactFailedReason, err.Error())
		var ce *chartError
		if errors.As(err, &ce) && ce.stalled {
			conditions.MarkStalled(hr, helmv2.ArtifactFailedReason, "%s", err)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	clearReason(hr, helmv2.ArtifactFailedReason)
	return r.release(ctx, hr, p, loaded, values)
}

// release runs Helm for a resolved chart and values.
func (r *Reconciler) release(ctx context.Context, hr *helmv2.HelmRelease, p *statusPatcher, loaded *loadedChart, values map[string]any) (ctrl.Result, error) {
	name, ns, storageNS := ReleaseName(hr), hr.GetReleaseNamespace(), hr.GetStorageNamespace()
	if changed, err := r.uninstallOldTarget(hr, loaded.chart.Name()); err != nil {
		conditions.MarkFalse(hr, meta.ReadyCondition, helmv2.UninstallFailedReason, "uninstall of the previous release target failed: %s", err)
		return ctrl.Result{}, err
	} else if changed {
		if err := p.patch(ctx, hr); err != nil {
			return ctrl.Result{}, err
		}
	}
	hr.Status.StorageNamespace = storageNS

	digest := ConfigDigest(values)
	version := loaded.chart.Metadata.Version
	if hr.Status.LastAttemptedGeneration != hr.Generation || hr.Status.LastAttemptedRevision != version ||
		hr.Status.LastAttemptedConfigDigest != digest || helmv2.ShouldHandleResetRequest(hr) {
		hr.Status.ClearFailures()
	}
	hr.Status.LastAttemptedGeneration = hr.Generation
	hr.Status.LastAttemptedRevision = version
	hr.Status.LastAttemptedRevisionDigest = loaded.ociDigest
	hr.Status.LastAttemptedConfigDigest = digest
	hr.Status.LastAttemptedValuesChecksum = ValuesChecksum(values)

	logs := &logBuffer{}
	cfg, err := r.kube.actionConfig(hr, storageNS, logs)
	if err != nil {
		conditions.MarkFalse(hr, meta.ReadyCondition, "FactoryError", "%s", err)
		return ctrl.Result{}, err
	}
	clearReason(hr, "FactoryError")
	req := &request{hr: hr, cfg: cfg, chart: loaded, values: values, name: name, ns: ns, digest: digest,
		patch: func() error { return p.patch(ctx, hr) }}
	err = atomicRelease(ctx, req)
	if last := hr.Status.History.Latest(); last != nil {
		hr.Status.LastReleaseRevision = last.Version
	}
	switch {
	case err == nil:
		return ctrl.Result{RequeueAfter: hr.GetRequeueAfter()}, nil
	case errors.Is(err, errMustRequeue):
		// The next attempt, after the rate limiter's backoff.
		return ctrl.Result{Requeue: true}, nil
	case errors.Is(err, errExceededMaxRetries), errors.Is(err, errMissingRollbackTarget):
		// Stalled: nothing changes until the object does.
		return ctrl.Result{}, nil
	default:
		return ctrl.Result{}, err
	}
}

// uninstallOldTarget uninstalls the release the history names when the
// release name, namespace or storage namespace (or, with the Reinstall
// strategy, the chart name) changed, as Flux does.
func (r *Reconciler) uninstallOldTarget(hr *helmv2.HelmRelease, chartName string) (bool, error) {
	cur := hr.Status.History.Latest()
	if cur == nil {
		return false, nil
	}
	oldStorage := hr.Status.StorageNamespace
	changed := cur.Name != ReleaseName(hr) || cur.Namespace != hr.GetReleaseNamespace() ||
		(oldStorage != "" && oldStorage != hr.GetStorageNamespace()) ||
		(cur.ChartName != chartName && hr.GetUpgrade().GetChartNameChangeStrategy() == helmv2.ChartNameChangeStrategyReinstall)
	if !changed {
		return false, nil
	}
	if oldStorage == "" {
		oldStorage = hr.GetStorageNamespace()
	}
	old := hr.DeepCopy()
	old.Spec.TargetNamespace = cur.Namespace
	cfg, err := r.kube.actionConfig(old, oldStorage, &logBuffer{})
	if err != nil {
		return false, err
	}
	if err := runUninstall(cfg, hr, cur.Name); err != nil {
		return false, err
	}
	r.event(hr, corev1.EventTypeNormal, helmv2.UninstallSucceededReason,
		fmt.Sprintf("release target changed: uninstalled %s", cur.FullReleaseName()))
	hr.Status.ClearHistory()
	hr.Status.ClearFailures()
	hr.Status.StorageNamespace = ""
	return true, nil
}

// checkDependencies requires every dependency to exist, to have observed
// its generation and to be Ready.
func (r *Reconciler) checkDependencies(ctx context.Context, hr *helmv2.HelmRelease) error {
	for _, d := range hr.Spec.DependsOn {
		ns := d.Namespace
		if ns == "" {
			ns = hr.Namespace
		}
		key := ns + "/" + d.Name
		dep := &helmv2.HelmRelease{}
		if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: ns, Name: d.Name}, dep); err != nil {
			return fmt.Errorf("unable to get '%s' dependency: %w", key, err)
		}
		if dep.Generation != dep.Status.ObservedGeneration || !conditions.IsTrue(dep, meta.ReadyCondition) {
			return fmt.Errorf("dependency '%s' is not ready", key)
		}
	}
	return nil
}

func (r *Reconciler) getSource(ctx context.Context, hr *helmv2.HelmRelease) (*sourcev1.HelmRepository, error) {
	ref := hr.Spec.Chart.Spec.SourceRef
	repo := &sourcev1.HelmRepository{}
	key := client.ObjectKey{Namespace: hr.Spec.Chart.GetNamespace(hr.Namespace), Name: ref.Name}
	if err := r.Client.Get(ctx, key, repo); err != nil {
		return nil, fmt.Errorf("HelmRepository '%s': %w", key, err)
	}
	return repo, nil
}

// finalize uninstalls the release (unless suspended), then lets the
// object go.
func (r *Reconciler) finalize(ctx context.Context, hr *helmv2.HelmRelease, p *statusPatcher) error {
	if !controllerutil.ContainsFinalizer(hr, helmv2.HelmReleaseFinalizer) {
		return nil
	}
	if !hr.Spec.Suspend && hr.Status.StorageNamespace != "" {
		name := ReleaseName(hr)
		if cur := hr.Status.History.Latest(); cur != nil {
			name = cur.Name
		}
		cfg, err := r.kube.actionConfig(hr, hr.Status.StorageNamespace, &logBuffer{})
		if err == nil {
			err = runUninstall(cfg, hr, name)
		}
		if err != nil {
			msg := fmt.Sprintf(fmtUninstallFailure, hr.Status.StorageNamespace+"/"+name, chartOf(hr), err)
			conditions.MarkFalse(hr, meta.ReadyCondition, helmv2.UninstallFailedReason, "%s", msg)
			r.event(hr, corev1.EventTypeWarning, helmv2.UninstallFailedReason, msg)
			_ = p.patch(ctx, hr)
			return err
		}
		r.event(hr, corev1.EventTypeNormal, helmv2.UninstallSucceededReason,
			fmt.Sprintf(fmtUninstallSuccess, hr.GetReleaseNamespace()+"/"+name, chartOf(hr)))
	}
	patch := client.MergeFrom(hr.DeepCopy())
	controllerutil.RemoveFinalizer(hr, helmv2.HelmReleaseFinalizer)
	return client.IgnoreNotFound(r.Client.Patch(ctx, hr, patch))
}

func chartOf(hr *helmv2.HelmRelease) string {
	if cur := hr.Status.History.Latest(); cur != nil {
		return cur.VersionedChartName()
	}
	return ""
}

// clearReason turns a Ready=False left by an earlier stage into Unknown
// once that stage passes.
func clearReason(hr *helmv2.HelmRelease, reasons ...string) {
	if c := conditions.Get(hr, meta.ReadyCondition); c != nil && c.Status != "True" && conditions.HasReason(hr, meta.ReadyCondition, reasons...) {
		conditions.MarkUnknown(hr, meta.ReadyCondition, meta.ProgressingReason, "reconciliation in progress")
	}
}

func (r *Reconciler) event(hr *helmv2.HelmRelease, typ, reason, msg string) {
	if r.Recorder != nil {
		r.Recorder.Event(hr, typ, reason, msg)
	}
}
