package bootstrap

import "context"

// checkHost runs the preflight checks (preflight.go) and reports every
// failure at once.
func (in *installer) checkHost(context.Context) error {
	return Preflight(in.o.Host, &in.o.Config)
}
