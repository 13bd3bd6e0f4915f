// Package source reconciles source.toolkit.fluxcd.io/v1 HelmRepositories
// as Flux's source-controller does: an HTTP(S) repository's index.yaml is
// fetched every interval (with the Secret's basic auth and TLS), checked
// with Helm's loader and stored as an artifact whose revision is the
// sha256 of the sorted index; Ready tells the outcome with Flux's reasons.
// An oci repository is a static object (Flux ≥ 2.0): no artifact, no
// conditions; its charts are pulled by the HelmRelease controller.
package source

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/velad-dev/velad/operators/fluxcd/conditions"
	"github.com/velad-dev/velad/operators/fluxcd/storage"
)

// Kind is the kind this package reconciles.
const Kind = sourcev1.HelmRepositoryKind

// Reconciler reconciles HelmRepositories.
type Reconciler struct {
	Client client.Client
	// APIReader reads Secrets uncached.
	APIReader client.Reader
	Storage   *storage.Storage
	Recorder  record.EventRecorder
	Workers   int
}

// SetupWithManager registers the reconciler.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&sourcev1.HelmRepository{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(r.Workers, 1)}).
		Named("helmrepository").
		Complete(r)
}

// Reconcile fetches one HelmRepository's index.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := &sourcev1.HelmRepository{}
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, obj)
	}
	if obj.Spec.Type == sourcev1.HelmRepositoryTypeOCI {
		return ctrl.Result{}, r.makeStatic(ctx, obj)
	}
	if !controllerutil.ContainsFinalizer(obj, sourcev1.SourceFinalizer) {
		patch := client.MergeFrom(obj.DeepCopy())
		controllerutil.AddFinalizer(obj, sourcev1.SourceFinalizer)
		if err := r.Client.Patch(ctx, obj, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
	}
	if obj.Spec.Suspend {
		return ctrl.Result{}, nil
	}

	before := obj.DeepCopy()
	res, recErr := r.reconcile(ctx, obj)
	obj.Status.ObservedGeneration = obj.Generation
	if v, ok := meta.ReconcileAnnotationValue(obj.GetAnnotations()); ok {
		obj.Status.SetLastHandledReconcileRequest(v)
	}
	if err := r.Client.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("update status: %w", err)
	}
	return res, recErr
}

// failure is a failed fetch: its condition, reason, and whether retrying
// can help (a Stalled failure waits for the object to change).
type failure struct {
	condition, reason string
	stalled           bool
	err               error
}

func (r *Reconciler) reconcile(ctx context.Context, obj *sourcev1.HelmRepository) (ctrl.Result, error) {
	artifact, f := r.fetch(ctx, obj)
	if f != nil {
		conditions.Delete(obj, sourcev1.ArtifactOutdatedCondition)
		for _, c := range []string{sourcev1.FetchFailedCondition, sourcev1.StorageOperationFailedCondition} {
			if c != f.condition {
				conditions.Delete(obj, c)
			}
		}
		conditions.MarkTrue(obj, f.condition, f.reason, "%s", f.err)
		conditions.MarkFalse(obj, meta.ReadyCondition, f.reason, "%s", f.err)
		r.event(obj, corev1.EventTypeWarning, f.reason, f.err.Error())
		if f.stalled {
			conditions.MarkStalled(obj, f.reason, "%s", f.err)
			return ctrl.Result{}, nil
		}
		conditions.MarkReconciling(obj, meta.ProgressingWithRetryReason, "retrying: %s", f.err)
		// The error makes controller-runtime retry with backoff.
		return ctrl.Result{}, f.err
	}
	if obj.Status.Artifact == nil || obj.Status.Artifact.Revision != artifact.Revision {
		r.event(obj, corev1.EventTypeNormal, "NewArtifact",
			fmt.Sprintf("stored fetched index of size %d from '%s'", *artifact.Size, obj.Spec.URL))
	}
	obj.Status.Artifact = artifact
	obj.Status.URL = artifact.URL
	for _, c := range []string{sourcev1.FetchFailedCondition, sourcev1.StorageOperationFailedCondition,
		sourcev1.ArtifactOutdatedCondition, meta.ReconcilingCondition, meta.StalledCondition} {
		conditions.Delete(obj, c)
	}
	msg := fmt.Sprintf("stored artifact: revision '%s'", artifact.Revision)
	conditions.MarkTrue(obj, sourcev1.ArtifactInStorageCondition, meta.SucceededReason, "%s", msg)
	conditions.MarkTrue(obj, meta.ReadyCondition, meta.SucceededReason, "%s", msg)
	return ctrl.Result{RequeueAfter: obj.GetRequeueAfter()}, nil
}

// fetch gets, checks and stores the index; an unchanged index keeps the
// stored artifact.
func (r *Reconciler) fetch(ctx context.Context, obj *sourcev1.HelmRepository) (*meta.Artifact, *failure) {
	u, err := url.Parse(obj.Spec.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		msg := fmt.Errorf("invalid Helm repository URL: %q must be an http:// or https:// URL", obj.Spec.URL)
		if err == nil && u.Scheme == "oci" {
			msg = errors.New("invalid Helm repository URL: 'oci' URL scheme cannot be used with 'default' HelmRepository type")
		}
		return nil, &failure{sourcev1.FetchFailedCondition, sourcev1.URLInvalidReason, true, msg}
	}
	creds, err := LoadCredentials(ctx, r.APIReader, obj)
	if err != nil {
		return nil, &failure{sourcev1.FetchFailedCondition, sourcev1.AuthenticationFailedReason, false, err}
	}
	hc, err := NewHTTPClient(obj.Spec.URL, creds, obj.Spec.PassCredentials, obj.GetTimeout())
	if err != nil {
		return nil, &failure{sourcev1.FetchFailedCondition, sourcev1.URLInvalidReason, true, err}
	}
	data, err := hc.Get(ctx, hc.IndexURL())
	if err != nil {
		reason := meta.FailedReason
		var auth *AuthError
		if errors.As(err, &auth) {
			reason = sourcev1.AuthenticationFailedReason
		}
		return nil, &failure{sourcev1.FetchFailedCondition, reason, false,
			fmt.Errorf("failed to fetch Helm repository index: %w", err)}
	}
	_, canonical, err := LoadIndex(data)
	if err != nil {
		return nil, &failure{sourcev1.FetchFailedCondition, sourcev1.IndexationFailedReason, false,
			fmt.Errorf("failed to load Helm repository from index YAML: %w", err)}
	}
	revision := Revision(canonical)
	if cur := obj.Status.Artifact; cur != nil && cur.Revision == revision {
		if _, err := r.Storage.Read(cur); err == nil {
			return cur, nil
		}
	}
	file := "index-" + strings.TrimPrefix(revision, "sha256:") + ".yaml"
	artifact, err := r.Storage.Store(Kind, obj.Namespace, obj.Name, file, revision, canonical)
	if err != nil {
		return nil, &failure{sourcev1.StorageOperationFailedCondition, sourcev1.ArchiveOperationFailedReason, false,
			fmt.Errorf("unable to save artifact to storage: %w", err)}
	}
	return artifact, nil
}

// makeStatic turns an oci HelmRepository into the static object Flux
// makes of it: no finalizer, artifact or conditions; observedGeneration.
func (r *Reconciler) makeStatic(ctx context.Context, obj *sourcev1.HelmRepository) error {
	if controllerutil.ContainsFinalizer(obj, sourcev1.SourceFinalizer) {
		if err := r.Storage.Remove(Kind, obj.Namespace, obj.Name); err != nil {
			return err
		}
		patch := client.MergeFrom(obj.DeepCopy())
		controllerutil.RemoveFinalizer(obj, sourcev1.SourceFinalizer)
		if err := r.Client.Patch(ctx, obj, patch); err != nil {
			return client.IgnoreNotFound(err)
		}
	}
	if obj.Status.ObservedGeneration == obj.Generation && obj.Status.Artifact == nil && len(obj.Status.Conditions) == 0 {
		return nil
	}
	before := obj.DeepCopy()
	obj.Status.ObservedGeneration = obj.Generation
	obj.Status.Artifact = nil
	obj.Status.URL = ""
	obj.Status.Conditions = nil
	return client.IgnoreNotFound(r.Client.Status().Patch(ctx, obj, client.MergeFrom(before)))
}

// finalize removes the object's artifacts, then its finalizer.
func (r *Reconciler) finalize(ctx context.Context, obj *sourcev1.HelmRepository) error {
	if !controllerutil.ContainsFinalizer(obj, sourcev1.SourceFinalizer) {
		return nil
	}
	if err := r.Storage.Remove(Kind, obj.Namespace, obj.Name); err != nil {
		return err
	}
	patch := client.MergeFrom(obj.DeepCopy())
	controllerutil.RemoveFinalizer(obj, sourcev1.SourceFinalizer)
	return client.IgnoreNotFound(r.Client.Patch(ctx, obj, patch))
}

func (r *Reconciler) event(obj *sourcev1.HelmRepository, typ, reason, msg string) {
	if r.Recorder != nil {
		r.Recorder.Event(obj, typ, reason, msg)
	}
}

// Ready tells whether a HelmRepository can serve charts, and why not:
// an oci repository always can (its pulls report their own errors); an
// HTTP one once its current generation has a stored artifact.
func Ready(obj *sourcev1.HelmRepository) (bool, string) {
	if obj.Spec.Type == sourcev1.HelmRepositoryTypeOCI {
		return true, ""
	}
	name := obj.Namespace + "/" + obj.Name
	if obj.Status.ObservedGeneration != obj.Generation {
		return false, fmt.Sprintf("HelmRepository '%s' is not ready: latest generation of object has not been reconciled", name)
	}
	if !conditions.IsTrue(obj, meta.ReadyCondition) || obj.Status.Artifact == nil {
		msg := "no artifact yet"
		if c := conditions.Get(obj, meta.ReadyCondition); c != nil && c.Message != "" {
			msg = c.Message
		}
		return false, fmt.Sprintf("HelmRepository '%s' is not ready: %s", name, msg)
	}
	return true, ""
}
