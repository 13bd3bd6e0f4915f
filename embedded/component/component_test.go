package component

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fake records every lifecycle call into a shared journal.
type fake struct {
	name      string
	journal   *journal
	initErr   error
	startErr  error
	readyErr  error // returned until readyAfter calls
	readyAt   int
	readyCall int
	fail      chan error
}

type journal struct {
	mu      sync.Mutex
	entries []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = append(j.entries, s)
}

func (f *fake) Name() string { return f.name }
func (f *fake) Init(context.Context) error {
	f.journal.add("init " + f.name)
	return f.initErr
}
func (f *fake) Start(context.Context) error {
	f.journal.add("start " + f.name)
	return f.startErr
}
func (f *fake) Ready(context.Context) error {
	f.readyCall++
	if f.readyCall < f.readyAt {
		return errors.New("not yet")
	}
	if f.readyErr != nil {
		return f.readyErr
	}
	f.journal.add("ready " + f.name)
	return nil
}
func (f *fake) Stop() error {
	f.journal.add("stop " + f.name)
	return nil
}
func (f *fake) Failed() <-chan error { return f.fail }

func TestManagerLifecycle(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(a, b, c *fake)
		wantErr string
		want    []string
	}{
		{
			name:  "starts in order, waits for ready, stops in reverse",
			setup: func(a, b, c *fake) { b.readyAt = 3 },
			want: []string{"init a", "init b", "init c",
				"start a", "ready a", "start b", "ready b", "start c", "ready c",
				"stop c", "stop b", "stop a"},
		},
		{
			name:    "init failure starts nothing",
			setup:   func(a, b, c *fake) { b.initErr = errors.New("bad flag") },
			wantErr: "failed to prepare b: bad flag",
			want:    []string{"init a", "init b"},
		},
		{
			name:    "start failure stops what started before, in reverse",
			setup:   func(a, b, c *fake) { c.startErr = errors.New("port in use") },
			wantErr: "failed to start c: port in use",
			want: []string{"init a", "init b", "init c",
				"start a", "ready a", "start b", "ready b", "start c", "stop b", "stop a"},
		},
		{
			name: "a component that dies while starting is reported",
			setup: func(a, b, c *fake) {
				b.readyAt = 1 << 30
				b.fail <- errors.New("exited: datastore gone")
			},
			wantErr: "b did not become ready: exited: datastore gone",
			want: []string{"init a", "init b", "init c",
				"start a", "ready a", "start b", "stop b", "stop a"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := &journal{}
			a := &fake{name: "a", journal: j, fail: make(chan error, 1)}
			b := &fake{name: "b", journal: j, fail: make(chan error, 1)}
			c := &fake{name: "c", journal: j, fail: make(chan error, 1)}
			tc.setup(a, b, c)
			m := &Manager{Components: []Component{a, b, c}, PollInterval: time.Millisecond, ReadyTimeout: 5 * time.Second}
			err := m.Start(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Start error = %v, want %q", err, tc.wantErr)
				}
			} else {
				if err != nil {
					t.Fatalf("Start: %v", err)
				}
				if err := m.Stop(); err != nil {
					t.Fatalf("Stop: %v", err)
				}
			}
			if !slices.Equal(j.entries, tc.want) {
				t.Fatalf("calls:\n got %v\nwant %v", j.entries, tc.want)
			}
		})
	}
}

func TestManagerReadyTimeout(t *testing.T) {
	j := &journal{}
	a := &fake{name: "a", journal: j, readyAt: 1 << 30}
	m := &Manager{Components: []Component{a}, PollInterval: time.Millisecond, ReadyTimeout: 20 * time.Millisecond}
	err := m.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "a did not become ready: not ready after 20ms: not yet") {
		t.Fatalf("error = %v", err)
	}
	if !slices.Equal(j.entries, []string{"init a", "start a", "stop a"}) {
		t.Fatalf("calls %v", j.entries)
	}
}

func TestManagerWait(t *testing.T) {
	j := &journal{}
	a := &fake{name: "a", journal: j, fail: make(chan error, 1)}
	m := &Manager{Components: []Component{a}, PollInterval: time.Millisecond}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Stop()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Wait(ctx); err != nil {
		t.Fatalf("Wait after cancel = %v, want nil", err)
	}

	a.fail <- errors.New("boom")
	if err := m.Wait(context.Background()); err == nil || err.Error() != "a failed: boom" {
		t.Fatalf("Wait = %v, want a failed: boom", err)
	}
}
