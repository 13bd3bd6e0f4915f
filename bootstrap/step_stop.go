package bootstrap

import "context"

// stopRunning stops the velad a previous install runs: a re-install
// replaces its binary, and the ports the checks look at are then free.
// Pods keep running; the restarted node adopts them.
func (in *installer) stopRunning(context.Context) error {
	return in.o.Daemon.Stop()
}
