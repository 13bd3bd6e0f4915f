package render

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// Render scheduling: how the components of one application are spread
// over the Renderer's engines. (The "steps" here are the two halves of
// rendering a component, not workflow steps.)
//
// Rendering a component takes two steps: evaluating its template, then
// applying its traits to the result. The second step needs only the Go
// data of the first, so it may run on another engine. Scheduling steps
// rather than whole components keeps every engine busy: with three
// components on two engines, the traits of the first two run while the
// third component's template is evaluated, instead of one engine
// rendering a whole component alone at the end.

// stepFuncs are the two steps of component i, each run on the engine it
// is given. first reports whether component i has a second step.
type stepFuncs struct {
	first  func(e *engine, i int) (more bool, err error)
	second func(e *engine, i int) error
}

// runSteps runs the steps of n components on up to workers engines, e
// (acquired by the caller, and released here) among them. It returns the
// error of each component. After component k fails, steps of components
// after k are skipped while those before k still run, so that the first
// error in component order is the one a sequential render reports.
func (r *Renderer) runSteps(ctx context.Context, e *engine, n, workers int, f stepFuncs) []error {
	errs := make([]error, n)
	q := newStepQueue(n)
	var failed atomic.Int64 // the first failed component so far
	failed.Store(math.MaxInt64)
	// run runs step s and reports whether the component has another.
	run := func(e *engine, s step) bool {
		if int64(s.item) >= failed.Load() {
			return false // skipped: an earlier component failed
		}
		more, err := false, ctx.Err()
		switch {
		case err != nil:
		case s.second:
			err = f.second(e, s.item)
		default:
			more, err = f.first(e, s.item)
		}
		if err != nil {
			errs[s.item] = err
			storeMin(&failed, int64(s.item))
			return false
		}
		return more
	}
	work := func(e *engine) {
		for s, ok := q.take(); ok; s, ok = q.take() {
			q.done(s.item, run(e, s))
		}
	}
	if workers <= 1 {
		defer r.release(e)
		work(e)
		return errs
	}
	r.release(e)
	var wg sync.WaitGroup
	var panicked atomic.Value
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					panicked.Store(fmt.Sprint(p))
					q.abort()
				}
			}()
			e, err := r.acquire(ctx)
			if err != nil {
				return // ctx is done; the other workers report it
			}
			defer r.release(e)
			work(e)
		}()
	}
	wg.Wait()
	if p := panicked.Load(); p != nil {
		panic(p) // RenderApp recovers it as ErrInternal
	}
	return errs
}

// step is the first or second step of a component.
type step struct {
	item   int
	second bool
}

// stepQueue hands out steps: the first steps of all components in order,
// then second steps as they become ready. Starting every component first
// spreads the work evenly over the engines.
type stepQueue struct {
	mu      sync.Mutex
	cond    sync.Cond
	n, next int   // components; the next first step to hand out
	ready   []int // components whose second step is ready
	running int
	aborted bool
}

func newStepQueue(n int) *stepQueue {
	q := &stepQueue{n: n}
	q.cond.L = &q.mu
	return q
}

// take returns the next step, waiting for one to become ready; ok is
// false when every step is done.
func (q *stepQueue) take() (s step, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for !q.aborted {
		switch {
		case q.next < q.n:
			q.next++
			q.running++
			return step{item: q.next - 1}, true
		case len(q.ready) > 0:
			s = step{item: q.ready[0], second: true}
			q.ready = q.ready[1:]
			q.running++
			return s, true
		case q.running == 0:
			return step{}, false
		}
		q.cond.Wait()
	}
	return step{}, false
}

// done marks a step taken from q as finished; more makes the component's
// second step ready.
func (q *stepQueue) done(item int, more bool) {
	q.mu.Lock()
	q.running--
	if more {
		q.ready = append(q.ready, item)
	}
	q.mu.Unlock()
	q.cond.Broadcast()
}

// abort stops handing out steps (a worker panicked).
func (q *stepQueue) abort() {
	q.mu.Lock()
	q.aborted = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// storeMin sets a to v if v is smaller.
func storeMin(a *atomic.Int64, v int64) {
	for cur := a.Load(); v < cur; cur = a.Load() {
		if a.CompareAndSwap(cur, v) {
			return
		}
	}
}
