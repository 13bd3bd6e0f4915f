package bootstrap

import (
	"context"

	"github.com/velad-dev/velad/internal/rollout"
)

// waitDeployment returns the step that waits until a system Deployment
// (cluster DNS, storage) is rolled out; what names it in messages.
func (in *installer) waitDeployment(ns, name, what string) func(context.Context) error {
	return func(ctx context.Context) error {
		return waitFor(ctx, in.o.Timeout, what, func(ctx context.Context) (bool, string) {
			return rollout.DeploymentAvailable(ctx, in.kube, ns, name)
		})
	}
}
