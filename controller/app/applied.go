package app

import (
	"crypto/sha256"
	"encoding/json"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/tracker"
)

// appliedStates remember, per application, what this controller recorded
// in the tracker and applied, and what the API server answered. A
// reconcile that renders the same objects again (an app waiting for its
// workloads, periodic polls) then skips the tracker write and every
// apply whose live object nobody changed since: its generation (spec) and
// our labels are as applied, or, for objects without a generation, its
// resourceVersion. Once per resync interval everything is applied again,
// which corrects drift this check cannot see.
type appliedStates struct {
	mu sync.Mutex
	m  map[types.NamespacedName]*appliedState
}

type appliedState struct {
	uid      types.UID
	revision string
	// since is when everything was last applied.
	since   time.Time
	objects map[string]appliedObject
}

type appliedObject struct {
	sum             [32]byte // of the desired object as recorded
	uid             types.UID
	generation      int64
	resourceVersion string
}

// get returns the state of app if it is of the same object and revision
// and everything was applied less than maxAge ago.
func (s *appliedStates) get(app *v1beta1.Application, revision string, now time.Time, maxAge time.Duration) *appliedState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.m[types.NamespacedName{Namespace: app.Namespace, Name: app.Name}]
	if st == nil || st.uid != app.UID || st.revision != revision || now.Sub(st.since) >= maxAge {
		return nil
	}
	return st // never modified once stored
}

func (s *appliedStates) put(app *v1beta1.Application, st *appliedState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[types.NamespacedName]*appliedState{}
	}
	s.m[types.NamespacedName{Namespace: app.Namespace, Name: app.Name}] = st
}

func (s *appliedStates) forget(key types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
}

// objectSum hashes the desired object (as the tracker records it).
func objectSum(u *unstructured.Unstructured) ([32]byte, bool) {
	b, err := json.Marshal(u.Object)
	if err != nil {
		return [32]byte{}, false
	}
	return sha256.Sum256(b), true
}

// unchanged reports whether live is still what applying desired left.
func (a appliedObject) unchanged(desired, live *unstructured.Unstructured) bool {
	if live == nil || live.GetUID() != a.uid || live.GetDeletionTimestamp() != nil {
		return false
	}
	if a.generation == 0 {
		return live.GetResourceVersion() == a.resourceVersion
	}
	if live.GetGeneration() != a.generation {
		return false
	}
	have := live.GetLabels()
	for k, v := range desired.GetLabels() {
		if have[k] != v {
			return false
		}
	}
	return true
}

// applyBook is one reconcile's share of the bookkeeping: what earlier
// reconciles of the revision applied (prev; nil: apply everything), what
// this one applied or found unchanged (next, stored when it ends), and
// the hash of each desired object, computed once.
type applyBook struct {
	prev, next *appliedState
	sums       map[string][32]byte
	// mu guards next and sums: clusters are applied in parallel.
	mu *sync.Mutex
}

// begin starts the bookkeeping of one reconcile of app at revision.
func (s *appliedStates) begin(app *v1beta1.Application, revision string, now time.Time, maxAge time.Duration) applyBook {
	b := applyBook{
		prev: s.get(app, revision, now, maxAge),
		next: &appliedState{uid: app.UID, revision: revision, since: now, objects: map[string]appliedObject{}},
		sums: map[string][32]byte{},
		mu:   &sync.Mutex{},
	}
	if b.prev != nil {
		b.next.since = b.prev.since
	}
	return b
}

// skip reports whether applying desired again can be skipped: an earlier
// reconcile of this revision applied the same object and live (read only
// then) is still what that left. A skipped object counts as applied.
func (b *applyBook) skip(key string, desired *unstructured.Unstructured, live func() *unstructured.Unstructured) bool {
	rec, ok := b.prevObject(key, desired)
	if !ok || !rec.unchanged(desired, live()) {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next.objects[key] = rec
	return true
}

// applied records that desired was applied and the API server answered
// live.
func (b *applyBook) applied(key string, desired, live *unstructured.Unstructured) {
	if sum, ok := b.sum(key, desired); ok {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.next.objects[key] = appliedObject{sum: sum, uid: live.GetUID(), generation: live.GetGeneration(), resourceVersion: live.GetResourceVersion()}
	}
}

// recordedBefore reports whether an earlier reconcile of this revision
// recorded (and then applied) exactly these objects in the tracker.
func (b *applyBook) recordedBefore(entries []tracker.Entry) bool {
	for _, e := range entries {
		if _, ok := b.prevObject(tracker.Key(tracker.Ref(e.Object)), e.Object); !ok {
			return false
		}
	}
	return len(entries) > 0
}

// sum is the hash of a desired object, computed once per reconcile.
func (b *applyBook) sum(key string, u *unstructured.Unstructured) ([32]byte, bool) {
	b.mu.Lock()
	s, ok := b.sums[key]
	b.mu.Unlock()
	if ok {
		return s, true
	}
	s, ok = objectSum(u)
	if ok {
		b.mu.Lock()
		b.sums[key] = s
		b.mu.Unlock()
	}
	return s, ok
}

// prevObject is what an earlier reconcile of this revision applied for
// the same desired object.
func (b *applyBook) prevObject(key string, u *unstructured.Unstructured) (appliedObject, bool) {
	if b.prev == nil {
		return appliedObject{}, false
	}
	rec, ok := b.prev.objects[key]
	if !ok {
		return appliedObject{}, false
	}
	sum, ok := b.sum(key, u)
	return rec, ok && sum == rec.sum
}
