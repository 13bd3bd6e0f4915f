package bootstrap

import "context"

// startDaemon records the server arguments and starts `velad server` as
// a daemon (a systemd unit, else a supervised process; daemon.go).
func (in *installer) startDaemon(context.Context) error {
	return in.o.Daemon.Install(in.o.ServerArgs)
}
