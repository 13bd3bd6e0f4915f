// Package component defines the one lifecycle every embedded Kubernetes
// part follows, and the manager that drives a list of them: Init all,
// then Start each in order and wait until it is Ready before the next,
// and Stop in reverse order.
package component

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Component is a part of the embedded Kubernetes.
type Component interface {
	// Name is how the part is called in logs and errors.
	Name() string
	// Init prepares files and checks settings; it starts nothing.
	Init(ctx context.Context) error
	// Start starts the part and returns once it is running; ctx is only
	// for the start itself, Stop ends the part. A Start that fails leaves
	// nothing running.
	Start(ctx context.Context) error
	// Stop stops the part and returns once it has stopped.
	Stop() error
}

// Readier is implemented by components that become usable some time after
// Start. Ready returns nil once the component is usable.
type Readier interface {
	Ready(ctx context.Context) error
}

// Failer is implemented by components that can fail after Start. Failed
// yields an error when the component dies on its own.
type Failer interface {
	Failed() <-chan error
}

// Reporter hears about progress; the CLI supplies one. Library code
// never prints.
type Reporter interface {
	Started(name string, took time.Duration)
}

// Manager drives components through their lifecycle.
type Manager struct {
	Components []Component
	// ReadyTimeout bounds the wait for each component to become ready.
	ReadyTimeout time.Duration
	// PollInterval is how often Ready is asked.
	PollInterval time.Duration
	Reporter     Reporter

	started []Component
}

// Start inits every component, then starts them in order, waiting for each
// to be ready. On failure it stops what it started, in reverse.
func (m *Manager) Start(ctx context.Context) error {
	for _, c := range m.Components {
		if err := c.Init(ctx); err != nil {
			return fmt.Errorf("failed to prepare %s: %w", c.Name(), err)
		}
	}
	for _, c := range m.Components {
		begin := time.Now()
		if err := c.Start(ctx); err != nil {
			stopErr := m.Stop()
			return errors.Join(fmt.Errorf("failed to start %s: %w", c.Name(), err), stopErr)
		}
		m.started = append(m.started, c)
		if err := m.waitReady(ctx, c); err != nil {
			stopErr := m.Stop()
			return errors.Join(fmt.Errorf("%s did not become ready: %w", c.Name(), err), stopErr)
		}
		if m.Reporter != nil {
			m.Reporter.Started(c.Name(), time.Since(begin))
		}
	}
	return nil
}

func (m *Manager) waitReady(ctx context.Context, c Component) error {
	r, ok := c.(Readier)
	if !ok {
		return nil
	}
	timeout, interval := m.ReadyTimeout, m.PollInterval
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var failed <-chan error
	if f, ok := c.(Failer); ok {
		failed = f.Failed()
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var last error
	for {
		if last = r.Ready(ctx); last == nil {
			return nil
		}
		select {
		case err := <-failed:
			return err
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("not ready after %s: %w", timeout, last)
			}
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

// Wait blocks until ctx is done or a started component fails; it returns
// the failure, or nil when ctx ended.
func (m *Manager) Wait(ctx context.Context) error {
	failures := make(chan error, len(m.started))
	for _, c := range m.started {
		f, ok := c.(Failer)
		if !ok {
			continue
		}
		go func(c Component, ch <-chan error) {
			select {
			case err := <-ch:
				if err == nil {
					err = errors.New("stopped unexpectedly")
				}
				failures <- fmt.Errorf("%s failed: %w", c.Name(), err)
			case <-ctx.Done():
			}
		}(c, f.Failed())
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-failures:
		return err
	}
}

// Stop stops every started component in reverse order and reports every
// error it met.
func (m *Manager) Stop() error {
	var errs []error
	for i := len(m.started) - 1; i >= 0; i-- {
		c := m.started[i]
		if err := c.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("failed to stop %s: %w", c.Name(), err))
		}
	}
	m.started = nil
	return errors.Join(errs...)
}
