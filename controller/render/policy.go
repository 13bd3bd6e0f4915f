package render

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/patch"
)

// Policy types the renderer acts on.
const (
	PolicyOverride    = "override"
	PolicyReplication = "replication"
)

// policy is a checked policy with its parameters after defaults.
type policy struct {
	name, typ string
	params    map[string]any
}

func (r *engine) policies(ctx context.Context, app *v1beta1.Application, defs definition.Source) ([]policy, error) {
	var out []policy
	seen := map[string]bool{}
	for i, p := range app.Spec.Policies {
		if p.Name == "" || p.Type == "" {
			return nil, fmt.Errorf("spec.policies[%d] needs a name and a type", i)
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("policy name %q is used twice", p.Name)
		}
		seen[p.Name] = true
		t, err := r.lookup(ctx, defs, definition.KindPolicy, p.Type)
		if err != nil {
			return nil, fmt.Errorf("policy %q: %w", p.Name, err)
		}
		props, err := DecodeProperties(p.Properties)
		if err != nil {
			return nil, fmt.Errorf("policy %q: %w", p.Name, err)
		}
		_, params, err := r.evaluate(t, map[string]any{"appName": app.Name, "namespace": app.Namespace}, props)
		if err != nil {
			return nil, fmt.Errorf("policy %q: %w", p.Name, err)
		}
		out = append(out, policy{name: p.Name, typ: t.Def.Name, params: params})
	}
	return out, nil
}

func (r *engine) checkWorkflow(ctx context.Context, app *v1beta1.Application, defs definition.Source) error {
	if app.Spec.Workflow == nil {
		return nil
	}
	check := func(s v1beta1.WorkflowStepBase) error {
		if s.Name == "" || s.Type == "" {
			return fmt.Errorf("workflow step needs a name and a type")
		}
		// Step templates are not compiled here: they may import the
		// workflow packages (vela/op) that only the workflow engine has.
		name, rev, err := definition.SplitRef(s.Type)
		if err != nil {
			return fmt.Errorf("workflow step %q: %w", s.Name, err)
		}
		if _, err := defs.Lookup(ctx, definition.KindWorkflowStep, name, rev); err != nil {
			if errors.Is(err, definition.ErrNotFound) {
				return fmt.Errorf("workflow step %q: unknown workflow-step type %q: no WorkflowStepDefinition with that name", s.Name, s.Type)
			}
			return fmt.Errorf("workflow step %q: %w", s.Name, err)
		}
		return nil
	}
	for _, s := range app.Spec.Workflow.Steps {
		if err := check(s.WorkflowStepBase); err != nil {
			return err
		}
		for _, sub := range s.SubSteps {
			if err := check(sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// workItem is one component to render: possibly overridden, possibly one
// replica of a replicated component.
type workItem struct {
	comp       v1beta1.ApplicationComponent
	props      map[string]any
	traitProps []map[string]any
	replicaKey string
}

// plan applies override and replication policies (in order) to the
// application's components.
func plan(app *v1beta1.Application, policies []policy) ([]workItem, error) {
	var items []workItem
	for _, c := range app.Spec.Components {
		props, err := DecodeProperties(c.Properties)
		if err != nil {
			return nil, fmt.Errorf("component %q: %w", c.Name, err)
		}
		it := workItem{comp: c, props: props}
		for _, t := range c.Traits {
			tp, err := DecodeProperties(t.Properties)
			if err != nil {
				return nil, fmt.Errorf("component %q trait %q: %w", c.Name, t.Type, err)
			}
			it.traitProps = append(it.traitProps, tp)
		}
		items = append(items, it)
	}
	for _, p := range policies {
		var err error
		switch p.typ {
		case PolicyOverride:
			items, err = override(items, p.params)
		case PolicyReplication:
			items = replicate(items, p.params)
		}
		if err != nil {
			return nil, fmt.Errorf("policy %q: %w", p.name, err)
		}
	}
	return items, nil
}

// override merges properties (JSON merge patch) into the components it
// selects by name and/or type, adds, patches or disables traits, and with
// `selector` keeps only the named components.
func override(items []workItem, params map[string]any) ([]workItem, error) {
	rules, _ := params["components"].([]any)
	for _, raw := range rules {
		rule, _ := raw.(map[string]any)
		name, _ := rule["name"].(string)
		typ, _ := rule["type"].(string)
		for i := range items {
			it := &items[i]
			if (name != "" && name != it.comp.Name) || (typ != "" && typ != it.comp.Type) {
				continue
			}
			if p, ok := rule["properties"].(map[string]any); ok {
				merged, err := mergeJSON(it.props, p)
				if err != nil {
					return nil, fmt.Errorf("override properties of %q: %w", it.comp.Name, err)
				}
				it.props = merged
			}
			traits, _ := rule["traits"].([]any)
			for _, rt := range traits {
				if err := overrideTrait(it, rt); err != nil {
					return nil, err
				}
			}
		}
	}
	if sel, ok := params["selector"].([]any); ok {
		keep := map[string]bool{}
		for _, s := range sel {
			if n, ok := s.(string); ok {
				keep[n] = true
			}
		}
		var out []workItem
		for _, it := range items {
			if keep[it.comp.Name] {
				out = append(out, it)
			}
		}
		items = out
	}
	return items, nil
}

func overrideTrait(it *workItem, raw any) error {
	t, _ := raw.(map[string]any)
	typ, _ := t["type"].(string)
	disable, _ := t["disable"].(bool)
	props, _ := t["properties"].(map[string]any)
	for i := 0; i < len(it.comp.Traits); i++ {
		if it.comp.Traits[i].Type != typ {
			continue
		}
		if disable {
			it.comp.Traits = append(it.comp.Traits[:i:i], it.comp.Traits[i+1:]...)
			it.traitProps = append(it.traitProps[:i:i], it.traitProps[i+1:]...)
			return nil
		}
		merged, err := mergeJSON(it.traitProps[i], props)
		if err != nil {
			return fmt.Errorf("override trait %q of %q: %w", typ, it.comp.Name, err)
		}
		it.traitProps[i] = merged
		return nil
	}
	if !disable && typ != "" {
		it.comp.Traits = append(append([]v1beta1.ApplicationTrait{}, it.comp.Traits...), v1beta1.ApplicationTrait{Type: typ})
		if props == nil {
			props = map[string]any{}
		}
		it.traitProps = append(append([]map[string]any{}, it.traitProps...), props)
	}
	return nil
}

// replicate renders the selected components (all when no selector) once
// per key, each with context.replicaKey set.
func replicate(items []workItem, params map[string]any) []workItem {
	keys, _ := params["keys"].([]any)
	sel := map[string]bool{}
	if s, ok := params["selector"].([]any); ok {
		for _, n := range s {
			if name, ok := n.(string); ok {
				sel[name] = true
			}
		}
	}
	var out []workItem
	for _, it := range items {
		if len(sel) > 0 && !sel[it.comp.Name] {
			out = append(out, it)
			continue
		}
		for _, k := range keys {
			key, _ := k.(string)
			cp := it
			cp.replicaKey = key
			out = append(out, cp)
		}
	}
	return out
}

func mergeJSON(base, p map[string]any) (map[string]any, error) {
	bj, err := json.Marshal(base)
	if err != nil {
		return nil, err
	}
	pj, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	out, err := jsonpatch.MergePatch(bj, pj)
	if err != nil {
		return nil, err
	}
	v, err := patch.DecodeJSON(out)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	return m, nil
}
