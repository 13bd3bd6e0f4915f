package render

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestRunSteps(t *testing.T) {
	cases := []struct {
		name    string
		workers int
		fail    map[string]bool // "first 2", "second 1"
		// slow delays the first step of a component, so that a later
		// component fails before an earlier one.
		slow      int
		wantFirst int // index of the first error; -1 for none
	}{
		{name: "all succeed", workers: 2, wantFirst: -1},
		{name: "all succeed sequentially", workers: 1, wantFirst: -1},
		{name: "first step fails", workers: 2, fail: map[string]bool{"first 2": true}, wantFirst: 2},
		{name: "second step fails", workers: 2, fail: map[string]bool{"second 1": true}, wantFirst: 1},
		{name: "earlier component fails later", workers: 2, slow: 0,
			fail: map[string]bool{"second 0": true, "first 1": true}, wantFirst: 0},
		{name: "sequential reports the first in order", workers: 1,
			fail: map[string]bool{"second 0": true, "first 1": true}, wantFirst: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			const n = 4
			r := newRenderer(tc.workers)
			e, err := r.acquire(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			ran := map[string]bool{}
			run := func(what string, i int) error {
				key := fmt.Sprintf("%s %d", what, i)
				mu.Lock()
				ran[key] = true
				mu.Unlock()
				if tc.fail[key] {
					return errors.New(key)
				}
				return nil
			}
			errs := r.runSteps(context.Background(), e, n, tc.workers, stepFuncs{
				first: func(e *engine, i int) (bool, error) {
					if e == nil {
						t.Error("no engine")
					}
					if i == tc.slow && len(tc.fail) > 0 {
						time.Sleep(20 * time.Millisecond)
					}
					return true, run("first", i)
				},
				second: func(e *engine, i int) error {
					mu.Lock()
					first := ran[fmt.Sprintf("first %d", i)]
					mu.Unlock()
					if !first {
						t.Errorf("second step of %d ran before its first", i)
					}
					return run("second", i)
				},
			})
			got := -1
			for i, err := range errs {
				if err != nil {
					got = i
					break
				}
			}
			if got != tc.wantFirst {
				t.Fatalf("first error at %d, want %d (errors %v)", got, tc.wantFirst, errs)
			}
			// Every component before the first failure was rendered whole.
			last := n
			if got >= 0 {
				last = got
			}
			for i := range last {
				if !ran[fmt.Sprintf("second %d", i)] {
					t.Errorf("component %d was not rendered", i)
				}
			}
			if len(r.idle) != len(r.engines) {
				t.Errorf("%d of %d engines released", len(r.idle), len(r.engines))
			}
		})
	}
}
