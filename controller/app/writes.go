package app

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/apply"
	"github.com/velad-dev/velad/controller/tracker"
	"github.com/velad-dev/velad/controller/workflow"
)

// How an object is written, after the app's read-only and
// resource-update policies (tracker.WritePolicy): read-only objects are
// read, not written (not there: the step fails, saying so); the others
// are patched (server-side apply), replaced, or deleted and created
// again when a field the policy names changes.

// writeStrategy is how e is written.
func (run *appRun) writeStrategy(e tracker.Entry) tracker.WriteStrategy {
	return run.writes.For(v1beta1.ManagedResource{ClusterObjectReference: tracker.Ref(e.Object), Component: e.Component, Trait: e.Trait})
}

// readOnly reads e's live object instead of writing it.
func (run *appRun) readOnly(ctx context.Context, key string, e tracker.Entry) (workflow.Outcome, error) {
	live, err := run.r.readLive(ctx, e.Object)
	if apierrors.IsNotFound(err) {
		return failed("ReadOnlyNotFound", "%s: %s is read-only to the application (a %q policy selects it) and does not exist: create it, or take it out of the policy",
			entryWhat(e), apply.Describe(e.Object), tracker.ReadOnlyPolicyType), nil
	}
	if err != nil {
		return workflow.Outcome{}, fmt.Errorf("%s: read %s: %w", entryWhat(e), apply.Describe(e.Object), err)
	}
	run.setLive(key, live)
	return workflow.Outcome{}, nil
}

// errPolicy is a resource-update policy the object cannot be written
// with (a field path that is no path).
type errPolicy struct{ err error }

func (e *errPolicy) Error() string { return e.err.Error() }

// write writes e's object through applier as ws says.
func (run *appRun) write(ctx context.Context, applier *apply.Applier, e tracker.Entry, ws tracker.WriteStrategy) (*unstructured.Unstructured, error) {
	if ws.Op != tracker.OpReplace && len(ws.RecreateFields) == 0 {
		return run.patch(ctx, applier, e.Object)
	}
	cur, err := run.r.readLive(ctx, e.Object)
	if apierrors.IsNotFound(err) {
		cur, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", apply.Describe(e.Object), err)
	}
	if cur != nil && cur.GetDeletionTimestamp() != nil {
		return nil, fmt.Errorf("%s: %w", apply.Describe(e.Object), apply.ErrRecreating)
	}
	if cur != nil && len(ws.RecreateFields) > 0 {
		field, err := apply.ChangedField(cur, e.Object, ws.RecreateFields)
		if err != nil {
			return nil, &errPolicy{fmt.Errorf("%s policy: %w", tracker.ResourceUpdatePolicyType, err)}
		}
		if field != "" {
			if err := applier.Recreate(ctx, cur); err != nil {
				return nil, err
			}
			run.r.event(run.app, "Normal", "Recreated", "deleted %s to create it again: %s changed (%s policy)", apply.Describe(cur), field, tracker.ResourceUpdatePolicyType)
			return nil, fmt.Errorf("%s (%s changed): %w", apply.Describe(e.Object), field, apply.ErrRecreating)
		}
	}
	if ws.Op == tracker.OpReplace {
		return applier.Replace(ctx, e.Object, cur, run.app.Namespace)
	}
	return run.patch(ctx, applier, e.Object)
}

// patch server-side applies u; an HTTPRoute whose backendRefs a canary
// release weighs keeps them (weighedRoute).
func (run *appRun) patch(ctx context.Context, applier *apply.Applier, u *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	obj, at := run.weighedRoute(ctx, u)
	return applier.ApplyAt(ctx, obj, run.app.Namespace, at)
}

// entryWhat names e's component (and trait) for messages.
func entryWhat(e tracker.Entry) string {
	what := "component " + quote(e.Component)
	if e.Component == "" {
		what = "object"
	}
	if e.Trait != "" {
		what += " trait " + quote(e.Trait)
	}
	return what
}

func isPolicyError(err error) bool {
	var p *errPolicy
	return errors.As(err, &p)
}
