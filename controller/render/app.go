package render

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/patch"
)

// Rendering an application: check it, plan its components (after its
// policies), build the context they share, and render the components.

// RenderApp renders every component of app (after its override and
// replication policies) with the definitions of defs. Policies and
// workflow steps are checked against their definitions.
func (r *Renderer) RenderApp(ctx context.Context, app *v1beta1.Application, defs definition.Source, opts Options) (_ []RenderedComponent, err error) {
	// A bug in CUE evaluation must not take the controller down.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("render application: %w: %v", ErrInternal, p)
		}
	}()
	if app == nil {
		return nil, errors.New("render application: nil application")
	}
	if err := validateApp(app); err != nil {
		return nil, fmt.Errorf("render application %q: %w", app.Name, err)
	}
	e, err := r.acquire(ctx)
	if err != nil {
		return nil, err
	}
	policies, err := e.policies(ctx, app, defs)
	if err == nil && !opts.Offline {
		err = e.checkWorkflow(ctx, app, defs)
	}
	if err != nil {
		r.release(e)
		return nil, fmt.Errorf("render application %q: %w", app.Name, err)
	}
	items, err := plan(app, policies, opts.Policies)
	if err != nil {
		r.release(e)
		return nil, fmt.Errorf("render application %q: %w", app.Name, err)
	}
	if len(items) == 0 {
		// A workflow-only application renders nothing, as KubeVela's.
		r.release(e)
		return nil, nil
	}
	base := r.appContext(app, items, opts)
	jobs := make([]*componentJob, len(items))
	wrap := func(i int, err error) error {
		return fmt.Errorf("render component %q: %w", items[i].comp.Name, err)
	}
	steps := stepFuncs{
		first: func(e *engine, i int) (bool, error) {
			j, err := e.renderWorkload(ctx, app, items[i], base, defs, opts)
			if err != nil {
				return false, wrap(i, err)
			}
			jobs[i] = j
			return !j.done, nil
		},
		second: func(e *engine, i int) error {
			if err := e.renderTraits(app, jobs[i], opts); err != nil {
				return wrap(i, err)
			}
			return nil
		},
	}
	// Components render in parallel on idle engines; opts.Live is the
	// caller's and need not be safe for concurrent use.
	workers := min(len(items), r.size)
	if opts.Live != nil {
		workers = 1
	}
	errs := r.runSteps(ctx, e, len(items), workers, steps)
	// The first error in component order, as a sequential render reports.
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]RenderedComponent, len(jobs))
	for i, j := range jobs {
		out[i] = *j.rc
		out[i].Policies = opts.Policies
		out[i].Cluster = opts.Cluster
	}
	return out, nil
}

func validateApp(app *v1beta1.Application) error {
	if len(app.Spec.Components) == 0 && (app.Spec.Workflow == nil || len(app.Spec.Workflow.Steps) == 0) {
		return errors.New("spec.components is empty: an application needs at least one component, or workflow steps")
	}
	seen := map[string]bool{}
	for i, c := range app.Spec.Components {
		if c.Name == "" {
			return fmt.Errorf("spec.components[%d] has no name", i)
		}
		if c.Type == "" {
			return fmt.Errorf("component %q has no type", c.Name)
		}
		if seen[c.Name] {
			return fmt.Errorf("component name %q is used twice", c.Name)
		}
		seen[c.Name] = true
	}
	for _, c := range app.Spec.Components {
		for _, d := range c.DependsOn {
			if !seen[d] {
				return fmt.Errorf("component %q depends on unknown component %q", c.Name, d)
			}
		}
	}
	return nil
}

// DecodeProperties turns raw properties into a JSON object ("" or null →
// empty object).
func DecodeProperties(raw *runtime.RawExtension) (map[string]any, error) {
	if raw == nil || len(raw.Raw) == 0 || string(raw.Raw) == "null" {
		return map[string]any{}, nil
	}
	v, err := patch.DecodeJSON(raw.Raw)
	if err != nil {
		return nil, fmt.Errorf("invalid properties: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("properties must be an object, got %s", describe(v))
	}
	return m, nil
}
