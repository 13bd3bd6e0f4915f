// Package bootstrap is velad's install, uninstall and status pipeline.
// install.go and uninstall.go are tables of contents: they list the steps
// by name, in order. Each install step is a method in its own step_*.go
// file, each uninstall step one in its own uninstall_*.go file; the rest
// (preflight checks, the daemon, waits, links, the controller's chart) are
// what the steps use. Steps report progress through a Progress the CLI
// supplies (library code never prints).
package bootstrap

import (
	"context"
	"fmt"
	"time"
)

// Step is one thing install or uninstall does.
type Step struct {
	Name string
	Run  func(ctx context.Context) error
}

// Progress shows steps to the user.
type Progress interface {
	Start(name string)
	Done(err error, took time.Duration)
	// Note shows a line between steps.
	Note(msg string)
}

// RunSteps runs steps in order and stops at the first failure.
func RunSteps(ctx context.Context, steps []Step, p Progress) error {
	for _, s := range steps {
		p.Start(s.Name)
		begin := time.Now()
		err := s.Run(ctx)
		p.Done(err, time.Since(begin))
		if err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
	}
	return nil
}
