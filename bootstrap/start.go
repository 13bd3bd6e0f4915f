package bootstrap

import (
	"context"
	"time"

	"github.com/velad-dev/velad/embedded/config"
)

// StartOptions is what `velad start` needs: the installed server's
// config (its data dir), the daemon, and how long to wait for the node.
type StartOptions struct {
	Config  config.Config
	Daemon  Daemon
	Timeout time.Duration
}

// StartSteps lists what `velad start` does: start the daemon, then wait
// until the API server answers and the node reports Ready from a status
// its kubelet posted after this start (a Ready condition left from
// before a stop or a crash does not count).
func StartSteps(o *StartOptions) []Step {
	in := &installer{o: &InstallOptions{Config: o.Config, Daemon: o.Daemon, Timeout: o.Timeout}}
	return []Step{
		{"Starting velad (" + o.Daemon.Kind() + ")", in.restartDaemon},
		{"Waiting for the API server", in.waitAPIServer},
		{"Waiting for the node to be Ready", in.waitNode},
	}
}

// Start runs the start steps.
func Start(ctx context.Context, o *StartOptions, p Progress) error {
	return RunSteps(ctx, StartSteps(o), p)
}

// restartDaemon starts the installed daemon again and records when, so
// the node's status is only believed once posted after that.
func (in *installer) restartDaemon(context.Context) error {
	in.started = time.Now()
	return in.o.Daemon.Start()
}
