package app

import (
	"context"
	"encoding/json"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/apply"
	"github.com/velad-dev/velad/controller/tracker"
	"github.com/velad-dev/velad/controller/workflow"
)

// An object another application manages is not taken over: two apps with
// a component of the same name would otherwise share one Deployment, and
// deleting either would delete it for both. As KubeVela, the second app
// fails with "managed by application X" unless its take-over policy
// selects the object. (An object no application manages is adopted, as
// before.) The check runs before the object is recorded in the app's
// tracker, so a refused object is never deleted with the app.

// TakeOverPolicyType is the policy that lets an app take over objects
// another app manages; its properties are {rules: [{selector: {...}}]}
// with the garbage-collect policy's selectors.
const TakeOverPolicyType = "take-over"

// claim checks the entries this run is about to record and apply that it
// has not applied before; ok is false (and out says why) when one is
// managed by another application.
func (run *appRun) claim(ctx context.Context, entries []tracker.Entry) (out workflow.Outcome, ok bool) {
	for _, e := range entries {
		key := tracker.Key(tracker.Ref(e.Object))
		if _, known := run.book.prevObject(key, e.Object); known {
			continue
		}
		if run.current != nil && run.current.Has(e.Object) {
			continue
		}
		if run.writeStrategy(e).ReadOnly {
			continue // read, not written: it may be anyone's
		}
		if out, ok := run.owns(ctx, e, nil); !ok {
			return out, false
		}
	}
	return workflow.Outcome{}, true
}

// owns checks that e's live object (read unless given) is not managed by
// another application, or that a take-over policy selects it.
func (run *appRun) owns(ctx context.Context, e tracker.Entry, live *unstructured.Unstructured) (workflow.Outcome, bool) {
	if live == nil {
		// Not liveObject: what it remembers counts as applied.
		var err error
		if live, err = run.r.readLive(ctx, e.Object); err != nil || live == nil {
			return workflow.Outcome{}, true // not there (or unreadable): nobody else's yet
		}
	}
	l := live.GetLabels()
	name, ns := l[v1beta1.LabelAppName], l[v1beta1.LabelAppNamespace]
	if name == "" || name == run.app.Name && ns == run.app.Namespace || run.takesOver(e) {
		return workflow.Outcome{}, true
	}
	what := "component " + quote(e.Component)
	if e.Component == "" {
		what = "object"
	}
	return failed("ManagedByAnotherApp", "%s: %s is managed by application %s/%s: an application does not take over another's objects; rename it, or select it in a %q policy",
		what, apply.Describe(e.Object), ns, name, TakeOverPolicyType), false
}

// takesOver reports whether a take-over policy of the app selects e.
func (run *appRun) takesOver(e tracker.Entry) bool {
	types := map[string]string{}
	for _, c := range run.spec.Spec.Components {
		types[c.Name] = c.Type
	}
	m := v1beta1.ManagedResource{ClusterObjectReference: tracker.Ref(e.Object), Component: e.Component, Trait: e.Trait}
	for _, p := range run.spec.Spec.Policies {
		if p.Type != TakeOverPolicyType || p.Properties == nil {
			continue
		}
		var props struct {
			Rules []struct {
				Selector tracker.Selector `json:"selector"`
			} `json:"rules"`
		}
		if json.Unmarshal(p.Properties.Raw, &props) != nil {
			continue
		}
		for _, r := range props.Rules {
			if r.Selector.Selects(m, types[e.Component]) {
				return true
			}
		}
	}
	return false
}
