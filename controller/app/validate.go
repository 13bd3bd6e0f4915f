package app

import (
	"context"
	"fmt"
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
// they render when their inputs are there. So are ref-objects
// components, once their entries are checked: the objects they name may
// come later (the app waits for them).
func (r *Reconciler) Validate(ctx context.Context, app *v1beta1.Application) error {
	if err := checkRefObjects(app); err != nil {
		return err
	}
	if componentsHaveInputs(app) || hasRefObjects(app) {
		app = app.DeepCopy()
		app.Spec.Components = slices.DeleteFunc(app.Spec.Components, func(c v1beta1.ApplicationComponent) bool {
			return len(c.Inputs) > 0 || c.Type == render.ComponentRefObjects
		})
		if len(app.Spec.Components) == 0 && (app.Spec.Workflow == nil || len(app.Spec.Workflow.Steps) == 0) {
			return nil
		}
	}
	comps, err := r.Renderer.RenderApp(ctx, app, r.sourceFor(app.Namespace), render.Options{})
	if err != nil {
		return err
	}
	return r.checkHosts(ctx, app, comps)
}

func hasRefObjects(app *v1beta1.Application) bool {
	return slices.ContainsFunc(app.Spec.Components, func(c v1beta1.ApplicationComponent) bool { return c.Type == render.ComponentRefObjects })
}

// checkRefObjects checks the entries of app's ref-objects components.
func checkRefObjects(app *v1beta1.Application) error {
	for _, c := range app.Spec.Components {
		if c.Type != render.ComponentRefObjects {
			continue
		}
		props, err := render.DecodeProperties(c.Properties)
		if err == nil {
			_, err = render.ParseObjectRefs(props, c.Name, app.Namespace)
		}
		if err != nil {
			return fmt.Errorf("render application %q: render component %q: %w", app.Name, c.Name, err)
		}
	}
	return nil
}
