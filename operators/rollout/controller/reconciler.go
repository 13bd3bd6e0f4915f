// Package controller is velad's rollout controller: canary releases of a
// Deployment on Kruise Rollout's API (rollouts.kruise.io/v1beta1).
//
// While a Rollout exists its Deployment is paused (spec.paused, applied
// with the controller's field manager), so a new pod template never rolls
// by itself: the stable pods stay as they are. The new template runs in
// a canary Deployment <name>-canary, as Kruise's canary-by-Deployment
// mode does; a canary Service <svc>-canary selects its pods, the stable
// Service is pinned to the stable pods' pod-template-hash, and the
// HTTPRoute in front of them gets weighted backendRefs. Each step scales
// the canary, shifts its share of traffic, and pauses (StepPaused) until
// approved (status patched to StepReady) or its duration passes. After
// the last step the Deployment rolls to the new template behind 100 %
// canary traffic, traffic returns to it, and the canary objects go. A
// template set back to the stable one (rollback) sends traffic to stable
// first, then removes the canary.
package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/velad-dev/velad/operators/rollout/api/v1beta1"
)

// FieldManager owns what the controller applies to others' objects.
const FieldManager = "rollout-controller"

// Finalizer lets the controller hand traffic and the Deployment back
// before a Rollout goes.
const Finalizer = "rollouts.kruise.io/rollout"

// DefaultGracePeriod is waited after a traffic change (Traefik reloads
// its routes from the API in well under a second).
const DefaultGracePeriod = 3 * time.Second

// Finalising steps (status.canaryStatus.finalisingStep).
const (
	finaliseRollStable = "RollStable" // 100 % canary traffic, Deployment rolls to the new template
	finaliseTraffic    = "RestoreTraffic"
	finaliseCanary     = "DeleteCanary"
)

// Reconciler reconciles Rollouts.
type Reconciler struct {
	Client client.Client
	// Now is the clock (tests move it); time.Now by default.
	Now     func() time.Time
	Workers int
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// SetupWithManager watches Rollouts, their workloads, what they made, and
// the HTTPRoutes they weigh (an application's apply may reset weights:
// they are set again).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	route := &unstructured.Unstructured{}
	route.SetGroupVersionKind(HTTPRouteGVK)
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1beta1.Rollout{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Watches(&appsv1.Deployment{}, handler.EnqueueRequestsFromMapFunc(r.byName(func(ro *v1beta1.Rollout) []string {
			return []string{ro.Spec.WorkloadRef.Name}
		}))).
		Watches(&appsv1.ReplicaSet{}, handler.EnqueueRequestsFromMapFunc(r.byOwner)).
		Watches(route, handler.EnqueueRequestsFromMapFunc(r.byName(func(ro *v1beta1.Rollout) []string {
			var names []string
			if c := ro.Spec.Strategy.Canary; c != nil {
				for _, t := range c.TrafficRoutings {
					if t.Gateway != nil && t.Gateway.HTTPRouteName != nil {
						names = append(names, *t.Gateway.HTTPRouteName)
					}
				}
			}
			return names
		}))).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(r.Workers, 1)}).
		Named("rollout").
		Complete(r)
}

// byName maps an object to the Rollouts of its namespace that name it.
func (r *Reconciler) byName(names func(*v1beta1.Rollout) []string) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		var list v1beta1.RolloutList
		if err := r.Client.List(ctx, &list, client.InNamespace(o.GetNamespace())); err != nil {
			return nil
		}
		var reqs []reconcile.Request
		for _, ro := range list.Items {
			for _, n := range names(&ro) {
				if n == o.GetName() {
					reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ro.Namespace, Name: ro.Name}})
				}
			}
		}
		return reqs
	}
}

// byOwner maps a ReplicaSet to the Rollouts of its Deployment.
func (r *Reconciler) byOwner(ctx context.Context, o client.Object) []reconcile.Request {
	ref := metav1.GetControllerOf(o)
	if ref == nil || ref.Kind != "Deployment" {
		return nil
	}
	d := &appsv1.Deployment{}
	d.SetNamespace(o.GetNamespace())
	d.SetName(ref.Name)
	return r.byName(func(ro *v1beta1.Rollout) []string { return []string{ro.Spec.WorkloadRef.Name} })(ctx, d)
}

// Reconcile moves one Rollout a step on.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ro := &v1beta1.Rollout{}
	if err := r.Client.Get(ctx, req.NamespacedName, ro); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := ro.Status.DeepCopy()
	res, err := r.reconcile(ctx, ro)
	ro.Status.ObservedGeneration = ro.Generation
	if c := ro.Status.CanaryStatus; c != nil {
		ro.Status.CurrentStepIndex, ro.Status.CurrentStepState = c.CurrentStepIndex, c.CurrentStepState
	} else {
		ro.Status.CurrentStepIndex, ro.Status.CurrentStepState = 0, ""
	}
	if !ro.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(ro, Finalizer) {
		return res, err
	}
	if !statusEqual(before, &ro.Status) {
		if uerr := r.Client.Status().Update(ctx, ro); uerr != nil {
			if apierrors.IsConflict(uerr) { // approved, or changed, meanwhile: read again
				return ctrl.Result{Requeue: true}, nil
			}
			return res, errors.Join(err, fmt.Errorf("update Rollout status: %w", uerr))
		}
	}
	return res, err
}

func (r *Reconciler) reconcile(ctx context.Context, ro *v1beta1.Rollout) (ctrl.Result, error) {
	if !ro.DeletionTimestamp.IsZero() {
		return r.release(ctx, ro, v1beta1.PhaseTerminating, "Rollout is being deleted")
	}
	if !controllerutil.ContainsFinalizer(ro, Finalizer) {
		controllerutil.AddFinalizer(ro, Finalizer)
		if err := r.Client.Update(ctx, ro); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
	}
	if ro.Spec.Disabled {
		return r.release(ctx, ro, v1beta1.PhaseDisabled, "Rollout is disabled: the workload rolls by itself")
	}
	w, err := r.loadWorkload(ctx, ro)
	if apierrors.IsNotFound(err) {
		r.setPhase(ro, v1beta1.PhaseInitial, fmt.Sprintf("workload %s %s not found: create it, or name an existing one in spec.workloadRef", ro.Spec.WorkloadRef.Kind, ro.Spec.WorkloadRef.Name))
		return ctrl.Result{}, nil // the Deployment watch brings it back
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	p, err := validate(ro, w.replicas())
	if err != nil {
		r.setPhase(ro, v1beta1.PhaseInitial, "invalid Rollout: "+err.Error())
		return ctrl.Result{}, nil
	}
	if w.stable == nil { // not paused before: a paused Deployment makes no ReplicaSet
		r.setPhase(ro, v1beta1.PhaseInitial, "waiting for the workload's first ReplicaSet")
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	if err := r.setPaused(ctx, w.d, !r.promoting(ro), false); err != nil {
		return ctrl.Result{}, err
	}
	cs := ro.Status.CanaryStatus
	switch {
	case cs != nil && cs.CurrentStepState == v1beta1.StepCompleted && cs.FinalisingStep != "":
		return r.finalise(ctx, ro, w)
	case !w.changed():
		if cs != nil && cs.CurrentStepState != v1beta1.StepCompleted {
			return r.cancel(ctx, ro, w) // rollback: the template is the stable one again
		}
		if ro.Status.Phase != v1beta1.PhaseHealthy { // else keep how it got there (completed, rolled back)
			r.setPhase(ro, v1beta1.PhaseHealthy, "workload is stable")
		}
		setCondition(ro, v1beta1.ConditionProgressing, metav1.ConditionFalse, v1beta1.ReasonCompleted, "", r.now())
		return ctrl.Result{}, nil
	}
	rev := templateHash(&w.d.Spec.Template)
	if cs == nil || cs.CanaryRevision != rev || cs.CurrentStepState == v1beta1.StepCompleted {
		now := metav1.NewTime(r.now())
		ro.Status.CanaryStatus = &v1beta1.CanaryStatus{
			StableRevision: templateHash(stableTemplate(w)), CanaryRevision: rev,
			PodTemplateHash: w.stableHash(), ObservedWorkloadGeneration: w.d.Generation,
			CurrentStepIndex: 1, NextStepIndex: 2, CurrentStepState: v1beta1.StepUpgrade, LastUpdateTime: &now,
			CurrentTraffic: trafficOf(cs),
		}
		setCondition(ro, v1beta1.ConditionProgressing, metav1.ConditionTrue, v1beta1.ReasonInitializing, "a new template of "+w.d.Name, r.now())
	}
	if ro.Spec.Strategy.Paused {
		r.setPhase(ro, v1beta1.PhaseProgressing, "Rollout is paused (spec.strategy.paused)")
		setCondition(ro, v1beta1.ConditionProgressing, metav1.ConditionTrue, v1beta1.ReasonPaused, "", r.now())
		return ctrl.Result{}, nil
	}
	return r.step(ctx, ro, w, p)
}

func trafficOf(cs *v1beta1.CanaryStatus) string {
	if cs == nil {
		return ""
	}
	return cs.CurrentTraffic
}

func stableTemplate(w *workload) *corev1.PodTemplateSpec {
	t := w.stable.Spec.Template.DeepCopy()
	delete(t.Labels, podTemplateHash)
	return t
}

// promoting says whether the Deployment may roll now (finalising).
func (r *Reconciler) promoting(ro *v1beta1.Rollout) bool {
	cs := ro.Status.CanaryStatus
	return cs != nil && cs.CurrentStepState == v1beta1.StepCompleted && cs.FinalisingStep == finaliseRollStable
}

// step runs the current step: canary pods, then traffic, then the pause.
func (r *Reconciler) step(ctx context.Context, ro *v1beta1.Rollout, w *workload, p *plan) (ctrl.Result, error) {
	cs := ro.Status.CanaryStatus
	n := int32(len(p.steps))
	if cs.CurrentStepIndex < 1 || cs.CurrentStepIndex > n {
		cs.CurrentStepIndex = n // the steps were shortened under it
	}
	st := p.steps[cs.CurrentStepIndex-1]
	tr, stableSvc, err := r.trafficTarget(ctx, ro)
	if err != nil {
		r.setPhase(ro, v1beta1.PhaseProgressing, err.Error())
		cs.Message = err.Error()
		return ctrl.Result{RequeueAfter: 5 * time.Second}, nil
	}
	setCondition(ro, v1beta1.ConditionProgressing, metav1.ConditionTrue, v1beta1.ReasonInRolling, "", r.now())
	canary, err := r.ensureCanary(ctx, ro, w, st.replicas)
	if err != nil {
		return ctrl.Result{}, err
	}
	cs.CanaryReplicas, cs.CanaryReadyReplicas = canary.Status.Replicas, canary.Status.AvailableReplicas
	cs.StableReplicas, cs.StableReadyReplicas = w.d.Status.Replicas, w.d.Status.AvailableReplicas
	if stableSvc != nil {
		if err := r.pinStable(ctx, stableSvc, w.stableHash()); err != nil {
			return ctrl.Result{}, err
		}
		if err := r.ensureCanaryService(ctx, ro, stableSvc, w.d.Name); err != nil {
			return ctrl.Result{}, err
		}
		// What the route should carry now (an application's apply may
		// have reset it).
		if cs.CurrentTraffic != "" {
			cur, _ := percent(cs.CurrentTraffic)
			if err := r.setTraffic(ctx, ro, *tr, cur); err != nil {
				return r.trafficFailed(ro, err)
			}
		}
	}
	progress := fmt.Sprintf("Rollout is in step(%d/%d)", cs.CurrentStepIndex, n)
	switch cs.CurrentStepState {
	case v1beta1.StepUpgrade, "":
		ready, why := canaryReady(canary, st.replicas)
		if !ready {
			msg := fmt.Sprintf("%s, waiting for %d canary pods to be ready (%d ready)", progress, st.replicas, canary.Status.AvailableReplicas)
			if why != "" {
				msg = why + "; traffic stays where it was"
				if pr := r.podReason(ctx, canary); pr != "" {
					msg += " (" + pr + ")"
				}
			}
			r.setPhase(ro, v1beta1.PhaseProgressing, msg)
			cs.Message = msg
			return ctrl.Result{RequeueAfter: 5 * time.Second}, nil
		}
		r.moveTo(cs, v1beta1.StepTrafficRouting)
		fallthrough
	case v1beta1.StepTrafficRouting:
		want := fmt.Sprintf("%d%%", st.weight)
		if stableSvc != nil && cs.CurrentTraffic != want {
			if err := r.setTraffic(ctx, ro, *tr, st.weight); err != nil {
				return r.trafficFailed(ro, err)
			}
			cs.CurrentTraffic = want
			r.moveTo(cs, v1beta1.StepTrafficRouting)
		}
		cs.CurrentTraffic = want
		if wait := grace(tr) - r.now().Sub(cs.LastUpdateTime.Time); stableSvc != nil && wait > 0 {
			r.setPhase(ro, v1beta1.PhaseProgressing, fmt.Sprintf("%s, %s of traffic to the canary", progress, want))
			return ctrl.Result{RequeueAfter: wait}, nil
		}
		r.moveTo(cs, v1beta1.StepPaused)
		fallthrough
	case v1beta1.StepMetricsAnalysis, v1beta1.StepPaused:
		if cs.CurrentStepState == v1beta1.StepMetricsAnalysis {
			r.moveTo(cs, v1beta1.StepPaused)
		}
		if st.pause == nil {
			msg := fmt.Sprintf("%s, and you need manually confirm to enter the next step", progress)
			r.setPhase(ro, v1beta1.PhaseProgressing, msg)
			cs.Message = msg
			setCondition(ro, v1beta1.ConditionProgressing, metav1.ConditionTrue, v1beta1.ReasonPaused, msg, r.now())
			return ctrl.Result{}, nil
		}
		if wait := time.Duration(*st.pause)*time.Second - r.now().Sub(cs.LastUpdateTime.Time); wait > 0 {
			msg := fmt.Sprintf("%s, resuming in %s", progress, wait.Round(time.Second))
			r.setPhase(ro, v1beta1.PhaseProgressing, msg)
			cs.Message = msg
			return ctrl.Result{RequeueAfter: wait}, nil
		}
		r.moveTo(cs, v1beta1.StepReady)
		fallthrough
	case v1beta1.StepReady:
		if cs.CurrentStepIndex < n {
			cs.CurrentStepIndex++
			cs.NextStepIndex = min(cs.CurrentStepIndex+1, n)
			r.moveTo(cs, v1beta1.StepUpgrade)
			return ctrl.Result{Requeue: true}, nil
		}
		r.moveTo(cs, v1beta1.StepCompleted)
		cs.FinalisingStep = finaliseRollStable
		setCondition(ro, v1beta1.ConditionProgressing, metav1.ConditionTrue, v1beta1.ReasonFinalising, "", r.now())
		r.setPhase(ro, v1beta1.PhaseProgressing, "Rollout is finalising: the workload takes the new template")
		return ctrl.Result{Requeue: true}, nil
	}
	return ctrl.Result{}, fmt.Errorf("unknown step state %q", cs.CurrentStepState)
}

func (r *Reconciler) trafficFailed(ro *v1beta1.Rollout, err error) (ctrl.Result, error) {
	r.setPhase(ro, v1beta1.PhaseProgressing, err.Error())
	ro.Status.CanaryStatus.Message = err.Error()
	return ctrl.Result{RequeueAfter: 5 * time.Second}, nil
}

// finalise promotes: 100 % to the canary while the Deployment rolls to the
// new template, then traffic back to the (new) stable pods, then the
// canary objects go.
func (r *Reconciler) finalise(ctx context.Context, ro *v1beta1.Rollout, w *workload) (ctrl.Result, error) {
	cs := ro.Status.CanaryStatus
	tr, stableSvc, err := r.trafficTarget(ctx, ro)
	if err != nil {
		return r.trafficFailed(ro, err)
	}
	switch cs.FinalisingStep {
	case finaliseRollStable:
		if stableSvc != nil && cs.CurrentTraffic != "100%" {
			if err := r.setTraffic(ctx, ro, *tr, 100); err != nil {
				return r.trafficFailed(ro, err)
			}
			cs.CurrentTraffic = "100%"
			now := metav1.NewTime(r.now())
			cs.LastUpdateTime = &now
		}
		if wait := grace(tr) - r.now().Sub(cs.LastUpdateTime.Time); stableSvc != nil && wait > 0 {
			return ctrl.Result{RequeueAfter: wait}, nil
		}
		// No traffic goes to the stable Service now; should a re-applied
		// route send some there for a moment, any ready pod answers.
		if stableSvc != nil {
			if err := r.pinStable(ctx, stableSvc, ""); err != nil {
				return ctrl.Result{}, err
			}
		}
		if err := r.setPaused(ctx, w.d, false, false); err != nil {
			return ctrl.Result{}, err
		}
		cs.StableReplicas, cs.StableReadyReplicas = w.d.Status.Replicas, w.d.Status.AvailableReplicas
		if w.changed() || !rolledOut(w.d) {
			r.setPhase(ro, v1beta1.PhaseProgressing, fmt.Sprintf("Rollout is finalising: %s takes the new template (%d/%d pods)", w.d.Name, w.d.Status.UpdatedReplicas, w.replicas()))
			return ctrl.Result{RequeueAfter: 2 * time.Second}, nil
		}
		if stableSvc != nil {
			if err := r.pinStable(ctx, stableSvc, w.stableHash()); err != nil {
				return ctrl.Result{}, err
			}
		}
		cs.FinalisingStep = finaliseTraffic
		// The Service's endpoints (and the proxy's copy of them) follow
		// the new selector within the grace period: only then does
		// traffic go back to the stable Service.
		now := metav1.NewTime(r.now())
		cs.LastUpdateTime = &now
		fallthrough
	case finaliseTraffic:
		if err := r.setPaused(ctx, w.d, true, false); err != nil {
			return ctrl.Result{}, err
		}
		if stableSvc != nil && cs.CurrentTraffic != "0%" && cs.LastUpdateTime != nil {
			if wait := grace(tr) - r.now().Sub(cs.LastUpdateTime.Time); wait > 0 {
				return ctrl.Result{RequeueAfter: wait}, nil
			}
		}
		res, done, err := r.restoreTraffic(ctx, ro, tr, stableSvc)
		if !done || err != nil {
			return res, err
		}
		cs.FinalisingStep = finaliseCanary
		fallthrough
	default:
		if done, err := r.dropCanary(ctx, ro, w, tr, stableSvc); !done || err != nil {
			return ctrl.Result{RequeueAfter: time.Second}, err
		}
		if stableSvc != nil {
			if err := r.pinStable(ctx, stableSvc, ""); err != nil {
				return ctrl.Result{}, err
			}
		}
		cs.FinalisingStep = ""
		cs.StableRevision = cs.CanaryRevision
		cs.PodTemplateHash = w.stableHash()
		cs.CanaryReplicas, cs.CanaryReadyReplicas = 0, 0
		cs.CurrentTraffic = ""
		cs.Message = "Rollout progressing has been completed"
		setCondition(ro, v1beta1.ConditionProgressing, metav1.ConditionFalse, v1beta1.ReasonCompleted, "", r.now())
		setCondition(ro, v1beta1.ConditionSucceeded, metav1.ConditionTrue, v1beta1.ReasonCompleted, "", r.now())
		r.setPhase(ro, v1beta1.PhaseHealthy, cs.Message)
		return ctrl.Result{}, nil
	}
}

// cancel undoes a release whose template was set back: traffic to stable
// first, then the canary goes. The stable pods never changed.
func (r *Reconciler) cancel(ctx context.Context, ro *v1beta1.Rollout, w *workload) (ctrl.Result, error) {
	cs := ro.Status.CanaryStatus
	setCondition(ro, v1beta1.ConditionProgressing, metav1.ConditionTrue, v1beta1.ReasonCancelling, "the template is the stable one again", r.now())
	tr, stableSvc, err := r.trafficTarget(ctx, ro)
	if err != nil {
		return r.trafficFailed(ro, err)
	}
	if cs.FinalisingStep != finaliseCanary {
		cs.FinalisingStep = finaliseTraffic
		res, done, err := r.restoreTraffic(ctx, ro, tr, stableSvc)
		if !done || err != nil {
			r.setPhase(ro, v1beta1.PhaseProgressing, "Rollout is rolling back: traffic returns to the stable pods")
			return res, err
		}
		cs.FinalisingStep = finaliseCanary
	}
	if done, err := r.dropCanary(ctx, ro, w, tr, stableSvc); !done || err != nil {
		return ctrl.Result{RequeueAfter: time.Second}, err
	}
	if stableSvc != nil {
		if err := r.pinStable(ctx, stableSvc, ""); err != nil {
			return ctrl.Result{}, err
		}
	}
	ro.Status.CanaryStatus = nil
	setCondition(ro, v1beta1.ConditionProgressing, metav1.ConditionFalse, v1beta1.ReasonCompleted, "rolled back", r.now())
	r.setPhase(ro, v1beta1.PhaseHealthy, "Rollout was rolled back: the stable pods serve all traffic")
	return ctrl.Result{}, nil
}

// release hands everything back (Rollout deleted or disabled): traffic to
// stable, canary gone, Deployment unpaused, the finalizer off when deleting.
func (r *Reconciler) release(ctx context.Context, ro *v1beta1.Rollout, phase, msg string) (ctrl.Result, error) {
	r.setPhase(ro, phase, msg)
	tr, stableSvc, _ := r.trafficTarget(ctx, ro)
	d := &appsv1.Deployment{}
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: ro.Namespace, Name: ro.Spec.WorkloadRef.Name}, d)
	if err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, err
	}
	if ro.Status.CanaryStatus != nil {
		res, done, err := r.restoreTraffic(ctx, ro, tr, stableSvc)
		if !done || err != nil {
			return res, err
		}
		var w *workload
		if d.Name != "" {
			w = &workload{d: d}
		}
		if done, err := r.dropCanary(ctx, ro, w, tr, stableSvc); !done || err != nil {
			return ctrl.Result{RequeueAfter: time.Second}, err
		}
		ro.Status.CanaryStatus = nil
	}
	if stableSvc != nil {
		if err := r.pinStable(ctx, stableSvc, ""); err != nil {
			return ctrl.Result{}, err
		}
	}
	if d.Name != "" {
		if err := r.setPaused(ctx, d, false, true); err != nil {
			return ctrl.Result{}, err
		}
	}
	if !ro.DeletionTimestamp.IsZero() && controllerutil.ContainsFinalizer(ro, Finalizer) {
		controllerutil.RemoveFinalizer(ro, Finalizer)
		if err := r.Client.Update(ctx, ro); client.IgnoreNotFound(err) != nil {
			return ctrl.Result{}, fmt.Errorf("remove finalizer: %w", err)
		}
	}
	return ctrl.Result{}, nil
}

// restoreTraffic takes the canary out of the route and waits the grace
// period; done once that has passed.
func (r *Reconciler) restoreTraffic(ctx context.Context, ro *v1beta1.Rollout, tr *v1beta1.TrafficRoutingRef, stableSvc *corev1.Service) (ctrl.Result, bool, error) {
	cs := ro.Status.CanaryStatus
	if stableSvc == nil || tr == nil {
		return ctrl.Result{}, true, nil
	}
	if cs.CurrentTraffic != "0%" {
		if err := r.setTraffic(ctx, ro, *tr, -1); err != nil {
			return ctrl.Result{RequeueAfter: 5 * time.Second}, false, err
		}
		cs.CurrentTraffic = "0%"
		now := metav1.NewTime(r.now())
		cs.LastUpdateTime = &now
	}
	if wait := grace(tr) - r.now().Sub(cs.LastUpdateTime.Time); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, false, nil
	}
	return ctrl.Result{}, true, nil
}

// dropCanary deletes the canary Deployment and Service and the route made
// for an Ingress.
func (r *Reconciler) dropCanary(ctx context.Context, ro *v1beta1.Rollout, w *workload, tr *v1beta1.TrafficRoutingRef, stableSvc *corev1.Service) (bool, error) {
	if tr != nil && tr.Ingress != nil {
		if _, err := r.routeName(ctx, ro, *tr, -1); err != nil {
			return false, err
		}
	}
	if stableSvc != nil {
		c := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ro.Namespace, Name: canaryService(stableSvc.Name)}}
		if err := r.Client.Delete(ctx, c); client.IgnoreNotFound(err) != nil {
			return false, fmt.Errorf("delete canary Service %s: %w", c.Name, err)
		}
	}
	name := ro.Spec.WorkloadRef.Name
	if w != nil {
		name = w.d.Name
	}
	return r.deleteCanary(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ro.Namespace, Name: name}})
}

// trafficTarget is the Rollout's traffic routing and its stable Service
// (nil, nil without trafficRoutings: the release moves pods only).
func (r *Reconciler) trafficTarget(ctx context.Context, ro *v1beta1.Rollout) (*v1beta1.TrafficRoutingRef, *corev1.Service, error) {
	c := ro.Spec.Strategy.Canary
	if c == nil || len(c.TrafficRoutings) == 0 {
		return nil, nil, nil
	}
	tr := c.TrafficRoutings[0]
	svc := &corev1.Service{}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ro.Namespace, Name: tr.Service}, svc); err != nil {
		return &tr, nil, fmt.Errorf("stable Service %s: %w", tr.Service, err)
	}
	if svc.Spec.Selector == nil {
		svc.Spec.Selector = map[string]string{}
	}
	return &tr, svc, nil
}

func grace(tr *v1beta1.TrafficRoutingRef) time.Duration {
	if tr == nil || tr.GracePeriodSeconds <= 0 {
		return DefaultGracePeriod
	}
	return time.Duration(tr.GracePeriodSeconds) * time.Second
}

// moveTo sets the step state and when it was entered.
func (r *Reconciler) moveTo(cs *v1beta1.CanaryStatus, state string) {
	now := metav1.NewTime(r.now())
	cs.CurrentStepState, cs.LastUpdateTime = state, &now
}

func (r *Reconciler) setPhase(ro *v1beta1.Rollout, phase, msg string) {
	ro.Status.Phase, ro.Status.Message = phase, msg
}

// setCondition sets one condition, keeping its transition time when the
// status stays.
func setCondition(ro *v1beta1.Rollout, typ string, status metav1.ConditionStatus, reason, msg string, now time.Time) {
	t := metav1.NewTime(now)
	for i := range ro.Status.Conditions {
		c := &ro.Status.Conditions[i]
		if c.Type != typ {
			continue
		}
		if c.Status == status && c.Reason == reason && c.Message == msg {
			return
		}
		if c.Status != status {
			c.LastTransitionTime = t
		}
		c.Status, c.Reason, c.Message, c.LastUpdateTime = status, reason, msg, t
		return
	}
	ro.Status.Conditions = append(ro.Status.Conditions, v1beta1.RolloutCondition{
		Type: typ, Status: status, Reason: reason, Message: msg, LastUpdateTime: t, LastTransitionTime: t,
	})
}

func statusEqual(a, b *v1beta1.RolloutStatus) bool {
	return apiequality.Semantic.DeepEqual(a, b)
}
