package task

import (
	"context"
)

// The application's components: op.#Load and op.#ApplyComponent.

func (r *runner) oamLoad(_ context.Context, _ *action) (map[string]any, error) {
	if r.env.App == nil {
		return nil, permanentf("UnsupportedAction", "no application to load components from")
	}
	return map[string]any{"value": r.env.App.Components()}, nil
}

func (r *runner) oamApply(ctx context.Context, a *action) (map[string]any, error) {
	if r.env.App == nil {
		return nil, permanentf("UnsupportedAction", "no application to apply a component of")
	}
	var p struct {
		Cluster     string         `json:"cluster"`
		Value       map[string]any `json:"value"`
		WaitHealthy *bool          `json:"waitHealthy"`
	}
	p.Value = map[string]any{}
	if v := a.params.LookupPath(cuePath("value.name")); v.Exists() {
		name, err := v.String()
		if err != nil {
			return nil, permanentf("IncompleteAction", "value.name: %v", err)
		}
		p.Value["name"] = name
	}
	if s := a.str("cluster"); s != "" {
		p.Cluster = s
	}
	if err := local(p.Cluster); err != nil {
		return nil, err
	}
	name, _ := p.Value["name"].(string)
	if name == "" {
		return nil, permanentf("InvalidAction", "value.name: which component to apply")
	}
	o, output, outputs, err := r.env.App.ApplyComponent(ctx, name)
	if err != nil {
		return nil, err
	}
	wait := true
	if v, err := a.params.LookupPath(cuePath("waitHealthy")).Bool(); err == nil {
		wait = v
	}
	switch {
	case o.Failed:
		r.end(o)
		return nil, nil
	case !o.Done && wait:
		o.RequeueAfter = 0
		r.end(o)
		return nil, nil
	}
	return map[string]any{"output": output, "outputs": outputs}, nil
}

// deploy deploys every component (multicluster.#Deploy: the local
// cluster only), waiting until they are healthy.
func (r *runner) deploy(ctx context.Context, a *action) (map[string]any, error) {
	if r.env.App == nil {
		return nil, permanentf("UnsupportedAction", "no application to deploy")
	}
	if err := a.params.Validate(); err != nil {
		return nil, permanentf("InvalidAction", "parameters: %v", err)
	}
	o, err := r.env.App.Deploy(ctx)
	if err != nil {
		return nil, err
	}
	if !o.Done {
		r.end(o)
		return nil, nil
	}
	return map[string]any{}, nil
}
