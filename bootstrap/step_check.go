package bootstrap

import (
	"context"
	"fmt"
)

// checkHost runs the preflight checks (preflight.go) and reports every
// failure at once; then the ports the ingress addon takes must be free.
func (in *installer) checkHost(context.Context) error {
	if err := Preflight(in.o.Host, &in.o.Config); err != nil {
		return err
	}
	if len(in.o.IngressPorts) > 0 {
		if err := checkIngressPorts(in.o.Host, in.o.IngressPorts); err != nil {
			return fmt.Errorf("ingress ports: %w", err)
		}
	}
	return nil
}
