package bootstrap

import (
	"context"

	"github.com/velad-dev/velad/controller/install"
)

// waitController waits until the controller is rolled out and has
// installed the built-in definitions, so `velad up` works at once.
func (in *installer) waitController(ctx context.Context) error {
	if err := in.connect(); err != nil {
		return err
	}
	return waitFor(ctx, in.o.Timeout, "the velad controller", func(ctx context.Context) (bool, string) {
		return install.ControllerReady(ctx, in.kube, in.ctrl, ControllerRelease)
	})
}
