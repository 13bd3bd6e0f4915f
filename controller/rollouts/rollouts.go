// Package rollouts is what the application controller and CLI know of
// the canary releases an application runs (Kruise Rollout's API,
// rollouts.kruise.io, served by the rollout addon): which of its Rollouts
// wait for approval at a step, and approving them (as `kubectl-kruise
// rollout approve` and `vela workflow resume` do: status
// canaryStatus.currentStepState StepPaused → StepReady). Rollouts are read
// as unstructured objects, so the controller works without the addon.
package rollouts

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// Group is Kruise Rollout's API group.
const Group = "rollouts.kruise.io"

// Step states the application cares about.
const (
	StepPaused = "StepPaused"
	StepReady  = "StepReady"
)

// Rollout is one Rollout an application applied, as far as it matters
// here.
type Rollout struct {
	Namespace, Name string
	Phase           string
	Step            int64  // current step, from 1
	Steps           int    // how many
	State           string // currentStepState
	Traffic         string // canary's share now, e.g. "20%"
	Paused          bool   // spec.strategy.paused
	Message         string
	obj             *unstructured.Unstructured
}

// WaitsForApproval says whether the Rollout is paused at a step until
// someone resumes it.
func (r *Rollout) WaitsForApproval() bool { return r.State == StepPaused || r.Paused }

// Describe is one line for the application's status.
func (r *Rollout) Describe() string {
	t := r.Traffic
	if t == "" {
		t = "0%"
	}
	return fmt.Sprintf("rollout %s: step %d/%d %s, canary traffic %s", r.Name, r.Step, r.Steps, r.State, t)
}

// Of reads the Rollouts among refs (an application's applied resources,
// local cluster); those that are gone are left out.
func Of(ctx context.Context, c client.Reader, refs []v1beta1.ClusterObjectReference) ([]*Rollout, error) {
	var out []*Rollout
	for _, ref := range refs {
		if ref.Kind != "Rollout" || !strings.HasPrefix(ref.APIVersion, Group+"/") || (ref.Cluster != "" && ref.Cluster != "local") {
			continue
		}
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(ref.APIVersion)
		u.SetKind("Rollout")
		if err := c.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, u); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("read Rollout %s/%s: %w", ref.Namespace, ref.Name, err)
		}
		out = append(out, parse(u))
	}
	return out, nil
}

func parse(u *unstructured.Unstructured) *Rollout {
	r := &Rollout{Namespace: u.GetNamespace(), Name: u.GetName(), obj: u}
	r.Phase, _, _ = unstructured.NestedString(u.Object, "status", "phase")
	r.Message, _, _ = unstructured.NestedString(u.Object, "status", "message")
	r.Step, _, _ = unstructured.NestedInt64(u.Object, "status", "canaryStatus", "currentStepIndex")
	r.State, _, _ = unstructured.NestedString(u.Object, "status", "canaryStatus", "currentStepState")
	r.Traffic, _, _ = unstructured.NestedString(u.Object, "status", "canaryStatus", "currentTraffic")
	r.Paused, _, _ = unstructured.NestedBool(u.Object, "spec", "strategy", "paused")
	steps, _, _ := unstructured.NestedSlice(u.Object, "spec", "strategy", "canary", "steps")
	r.Steps = len(steps)
	return r
}

// Paused is the first of the Rollouts that waits for approval, or nil.
func Paused(rs []*Rollout) *Rollout {
	for _, r := range rs {
		if r.WaitsForApproval() {
			return r
		}
	}
	return nil
}

// Approve lets a paused Rollout go on: spec.strategy.paused off, and a
// step in StepPaused moves to StepReady (on the status subresource, with
// the resourceVersion read, so a step that moved meanwhile is not
// approved twice).
func Approve(ctx context.Context, c client.Client, r *Rollout) error {
	if r.Paused {
		patch := []byte(`{"spec":{"strategy":{"paused":false}}}`)
		if err := c.Patch(ctx, r.obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
			return fmt.Errorf("unpause Rollout %s: %w", r.Name, err)
		}
	}
	if r.State != StepPaused {
		return nil
	}
	if err := unstructured.SetNestedField(r.obj.Object, StepReady, "status", "canaryStatus", "currentStepState"); err != nil {
		return err
	}
	if err := c.Status().Update(ctx, r.obj); err != nil {
		return fmt.Errorf("approve step %d of Rollout %s: %w", r.Step, r.Name, err)
	}
	r.State = StepReady
	return nil
}
