package render

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/workflow"
)

// DryRun writes what app renders to, as `vela dry-run --offline` prints
// it. Without deploy steps (in the application's workflow, or the one
// KubeVela generates for it) the components are rendered as declared;
// otherwise once per deploy step with the policies it names, under
// "APP with topology T" for each of its topology policies, or "APP only
// with override policies". Nothing is written when rendering fails.
func (r *Renderer) DryRun(ctx context.Context, w io.Writer, app *v1beta1.Application, defs definition.Source) error {
	return r.DryRunReading(ctx, w, app, defs, nil)
}

// DryRunReading is DryRun with the objects of ref-objects components
// read by read (nil: there is no cluster, and such components fail).
func (r *Renderer) DryRunReading(ctx context.Context, w io.Writer, app *v1beta1.Application, defs definition.Source, read ReadObjects) error {
	byName := map[string]string{}
	for _, p := range app.Spec.Policies {
		byName[p.Name] = p.Type
	}
	var out bytes.Buffer
	deploys := 0
	for _, s := range workflow.PlanFor(app).Steps {
		if s.Type != workflow.TypeDeploy {
			continue
		}
		deploys++
		names, err := workflow.DeployPolicies(s.WorkflowStepBase)
		if err != nil {
			return fmt.Errorf("render application %q: %w", app.Name, err)
		}
		var topologies []string
		for _, n := range names {
			typ, ok := byName[n]
			if !ok {
				return fmt.Errorf("render application %q: workflow step %q: policy %q not found", app.Name, s.Name, n)
			}
			if typ == workflow.PolicyTopology {
				topologies = append(topologies, n)
			}
		}
		comps, err := r.RenderApp(ctx, app, defs, Options{Offline: true, Policies: names, ReadObjects: read})
		if err != nil {
			return err
		}
		titles := []string{app.Name + " only with override policies"}
		if len(topologies) > 0 {
			titles = titles[:0]
			for _, t := range topologies {
				titles = append(titles, fmt.Sprintf("%s with topology %s", app.Name, t))
			}
		}
		for _, title := range titles {
			if err := WriteYAMLTitled(&out, title, comps); err != nil {
				return err
			}
		}
	}
	if deploys == 0 {
		comps, err := r.RenderApp(ctx, app, defs, Options{Offline: true, ReadObjects: read})
		if err != nil {
			return err
		}
		if err := WriteYAML(&out, app, comps); err != nil {
			return err
		}
	}
	_, err := w.Write(out.Bytes())
	return err
}
