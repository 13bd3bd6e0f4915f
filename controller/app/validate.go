package app

import (
	"context"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/render"
)

// Validate renders app against the definitions its namespace sees (its
// own, then vela-system's, then the built-ins), applying nothing. Its
// error is what the admission webhook refuses an application with: an
// unknown component or trait type, a missing or mistyped parameter, a
// trait that does not apply to the workload, invalid CUE.
func (r *Reconciler) Validate(ctx context.Context, app *v1beta1.Application) error {
	_, err := r.Renderer.RenderApp(ctx, app, r.sourceFor(app.Namespace), render.Options{})
	return err
}
