package bootstrap

import "context"

// stopDaemon stops velad and removes the daemon's unit or files.
func (u *uninstaller) stopDaemon(context.Context) error { return u.o.Daemon.Remove() }
