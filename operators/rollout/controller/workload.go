package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/velad-dev/velad/operators/rollout/api/v1beta1"
)

// Labels the controller puts on what it makes.
const (
	// LabelCanary marks the canary Deployment and its pods (value: the
	// workload's name); the canary Service selects it.
	LabelCanary = "rollouts.kruise.io/canary-deployment"
	// LabelRollout names the Rollout on what it made.
	LabelRollout    = "rollouts.kruise.io/rollout"
	podTemplateHash = "pod-template-hash"
	revisionAnno    = "deployment.kubernetes.io/revision"
)

// workload is the Deployment under a Rollout and its stable ReplicaSet.
type workload struct {
	d *appsv1.Deployment
	// stable is the newest ReplicaSet of the Deployment: the pods that
	// serve while a canary is tried.
	stable *appsv1.ReplicaSet
}

// canaryName is the canary Deployment's name.
func canaryName(d string) string { return d + "-canary" }

// loadWorkload reads the Deployment and its newest ReplicaSet.
func (r *Reconciler) loadWorkload(ctx context.Context, ro *v1beta1.Rollout) (*workload, error) {
	d := &appsv1.Deployment{}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ro.Namespace, Name: ro.Spec.WorkloadRef.Name}, d); err != nil {
		return nil, err
	}
	var rsl appsv1.ReplicaSetList
	if err := r.Client.List(ctx, &rsl, client.InNamespace(d.Namespace)); err != nil {
		return nil, fmt.Errorf("list ReplicaSets: %w", err)
	}
	w := &workload{d: d}
	best := -1
	for i := range rsl.Items {
		rs := &rsl.Items[i]
		if ref := metav1.GetControllerOf(rs); ref == nil || ref.UID != d.UID {
			continue
		}
		n, _ := strconv.Atoi(rs.Annotations[revisionAnno])
		if n > best {
			best, w.stable = n, rs
		}
	}
	return w, nil
}

// replicas is the Deployment's desired pod count.
func (w *workload) replicas() int32 {
	if w.d.Spec.Replicas == nil {
		return 1
	}
	return *w.d.Spec.Replicas
}

// changed says whether the Deployment's template differs from its stable
// pods' template: a release to run.
func (w *workload) changed() bool {
	if w.stable == nil {
		return false
	}
	t := w.stable.Spec.Template.DeepCopy()
	delete(t.Labels, podTemplateHash)
	return !apiequality.Semantic.DeepEqual(*t, w.d.Spec.Template)
}

// stableHash is the stable pods' pod-template-hash.
func (w *workload) stableHash() string {
	if w.stable == nil {
		return ""
	}
	return w.stable.Labels[podTemplateHash]
}

// rolledOut says whether the Deployment runs its template on every pod.
func rolledOut(d *appsv1.Deployment) bool {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.Replicas == want && s.AvailableReplicas == want
}

// templateHash names a pod template (canaryRevision, stableRevision).
func templateHash(t *corev1.PodTemplateSpec) string {
	b, _ := json.Marshal(t)
	h := fnv.New32a()
	h.Write(b)
	return fmt.Sprintf("%x", h.Sum32())
}

// setPaused makes the Deployment paused (or not) through server-side
// apply with the controller's own field manager: the application's
// apply never names spec.paused, so it stays; released (paused false
// and the field given up) when the Rollout ends.
func (r *Reconciler) setPaused(ctx context.Context, d *appsv1.Deployment, paused bool, release bool) error {
	if d.Spec.Paused == paused && !release {
		return nil
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": d.Name, "namespace": d.Namespace},
	}}
	if !release {
		u.Object["spec"] = map[string]any{"paused": paused}
	}
	if err := r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("set Deployment %s paused=%v: %w", d.Name, paused && !release, err)
	}
	d.Spec.Paused = paused && !release
	return nil
}

// ensureCanary makes the canary Deployment run the workload's template
// on n pods, labelled so that only the canary Service selects them.
func (r *Reconciler) ensureCanary(ctx context.Context, ro *v1beta1.Rollout, w *workload, n int32) (*appsv1.Deployment, error) {
	c := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: canaryName(w.d.Name), Namespace: w.d.Namespace}}
	_, err := controllerutil.CreateOrUpdate(ctx, r.Client, c, func() error {
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		c.Labels[LabelCanary] = w.d.Name
		c.Labels[LabelRollout] = ro.Name
		tmpl := w.d.Spec.Template.DeepCopy()
		if tmpl.Labels == nil {
			tmpl.Labels = map[string]string{}
		}
		tmpl.Labels[LabelCanary] = w.d.Name
		sel := w.d.Spec.Selector.DeepCopy()
		if sel.MatchLabels == nil {
			sel.MatchLabels = map[string]string{}
		}
		sel.MatchLabels[LabelCanary] = w.d.Name
		if c.CreationTimestamp.IsZero() {
			c.Spec.Selector = sel // immutable once made
		}
		c.Spec.Template = *tmpl
		c.Spec.Replicas = &n
		c.Spec.Strategy = w.d.Spec.Strategy
		c.Spec.MinReadySeconds = w.d.Spec.MinReadySeconds
		c.Spec.ProgressDeadlineSeconds = w.d.Spec.ProgressDeadlineSeconds
		c.Spec.Paused = false
		return controllerutil.SetControllerReference(ro, c, r.Client.Scheme())
	})
	if err != nil {
		return nil, fmt.Errorf("create or update canary Deployment %s: %w", c.Name, err)
	}
	return c, nil
}

// canaryReady says whether n canary pods of its template are available;
// when they cannot become so, why not.
func canaryReady(c *appsv1.Deployment, n int32) (bool, string) {
	s := c.Status
	if s.ObservedGeneration >= c.Generation && s.UpdatedReplicas >= n && s.AvailableReplicas >= n && s.Replicas == s.UpdatedReplicas {
		return true, ""
	}
	for _, cond := range s.Conditions {
		if cond.Type == appsv1.DeploymentProgressing && cond.Status == corev1.ConditionFalse && cond.Reason == "ProgressDeadlineExceeded" {
			return false, fmt.Sprintf("canary Deployment %s did not become ready (%s): %s", c.Name, cond.Reason, cond.Message)
		}
	}
	return false, ""
}

// deleteCanary removes the canary Deployment (its pods go with it).
func (r *Reconciler) deleteCanary(ctx context.Context, w *appsv1.Deployment) (bool, error) {
	c := &appsv1.Deployment{}
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: w.Namespace, Name: canaryName(w.Name)}, c)
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	fg := metav1.DeletePropagationBackground
	if err := r.Client.Delete(ctx, c, &client.DeleteOptions{PropagationPolicy: &fg}); client.IgnoreNotFound(err) != nil {
		return false, fmt.Errorf("delete canary Deployment %s: %w", c.Name, err)
	}
	return true, nil
}

// podReason is the first pod problem of the canary (for status).
func (r *Reconciler) podReason(ctx context.Context, c *appsv1.Deployment) string {
	var pods corev1.PodList
	if err := r.Client.List(ctx, &pods, client.InNamespace(c.Namespace), client.MatchingLabels(c.Spec.Selector.MatchLabels)); err != nil {
		return ""
	}
	for _, p := range pods.Items {
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Waiting != nil && cs.State.Waiting.Reason != "" {
				return fmt.Sprintf("pod %s: %s %s", p.Name, cs.State.Waiting.Reason, cs.State.Waiting.Message)
			}
			if !cs.Ready && cs.RestartCount > 0 {
				return fmt.Sprintf("pod %s: container %s restarted %d times", p.Name, cs.Name, cs.RestartCount)
			}
		}
		for _, cond := range p.Status.Conditions {
			if cond.Status == corev1.ConditionFalse && cond.Message != "" {
				return fmt.Sprintf("pod %s: %s %s", p.Name, cond.Reason, cond.Message)
			}
		}
	}
	return ""
}
