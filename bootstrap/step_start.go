package bootstrap

import (
	"context"
	"time"
)

// startDaemon records the server arguments and starts `velad server` as
// a daemon (a systemd unit, else a supervised process; daemon.go), and
// records when, so the node's status is only believed once posted after
// that.
func (in *installer) startDaemon(context.Context) error {
	in.started = time.Now()
	return in.o.Daemon.Install(in.o.ServerArgs)
}
