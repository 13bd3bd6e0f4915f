package app

import (
	"context"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/rollouts"
)

// pausedRollout describes a Rollout of the application that waits for
// approval at a step ("" when none does, or they cannot be read).
func (r *Reconciler) pausedRollout(ctx context.Context, app *v1beta1.Application) string {
	rs, err := rollouts.Of(ctx, r.Client, app.Status.AppliedResources)
	if err != nil {
		return ""
	}
	if p := rollouts.Paused(rs); p != nil {
		return p.Describe() + " (velad workflow resume " + app.Name + " to go on)"
	}
	return ""
}
