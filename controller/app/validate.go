package app

import (
	"context"
	"slices"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/render"
)

// Validate renders app against the definitions its namespace sees (its
// own, then vela-system's, then the built-ins), applying nothing. Its
// error is what the admission webhook refuses an application with: an
// unknown component or trait type, a missing or mistyped parameter, a
// trait that does not apply to the workload, invalid CUE, a host and
// path another application's Ingress routes already. (The webhook runs
// appcheck first.) Components with inputs are left out of the render:
// they render when their inputs are there.
func (r *Reconciler) Validate(ctx context.Context, app *v1beta1.Application) error {
	if componentsHaveInputs(app) {
		app = app.DeepCopy()
		app.Spec.Components = slices.DeleteFunc(app.Spec.Components, func(c v1beta1.ApplicationComponent) bool { return len(c.Inputs) > 0 })
	}
	comps, err := r.Renderer.RenderApp(ctx, app, r.sourceFor(app.Namespace), render.Options{})
	if err != nil {
		return err
	}
	return r.checkHosts(ctx, app, comps)
}
