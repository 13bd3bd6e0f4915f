package render

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/definition"
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
		// As KubeVela's, a policy needs a type but not a name (a deploy
		// step cannot name it then).
		if p.Type == "" {
			return nil, fmt.Errorf("spec.policies[%d] has no type", i)
		}
		what := fmt.Sprintf("policy %q", p.Name)
		if p.Name == "" {
			what = fmt.Sprintf("spec.policies[%d] (%s)", i, p.Type)
		} else if seen[p.Name] {
			return nil, fmt.Errorf("policy name %q is used twice", p.Name)
		}
		seen[p.Name] = true
		t, err := r.lookup(ctx, defs, definition.KindPolicy, p.Type)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		props, err := DecodeProperties(p.Properties)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		_, params, err := r.evaluate(t, map[string]any{"appName": app.Name, "namespace": appNamespace(app), "name": p.Name}, props)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
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

// plan lists the components to render: the application's, changed by
// the override policies named (in the order named, as a deploy step lists
// them), then replicated by the replication policies named.
func plan(app *v1beta1.Application, policies []policy, names []string) ([]workItem, error) {
	var items []workItem
	for _, c := range app.Spec.Components {
		it, err := newItem(c)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	byName := map[string]policy{}
	for _, p := range policies {
		if p.name != "" {
			byName[p.name] = p
		}
	}
	var selected []policy
	for _, n := range names {
		p, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("policy %q not found: the deploy step names a policy the application does not have", n)
		}
		selected = append(selected, p)
	}
	for _, p := range selected {
		if p.typ != PolicyOverride {
			continue
		}
		var err error
		if items, err = override(items, p.params); err != nil {
			return nil, fmt.Errorf("policy %q: %w", p.name, err)
		}
	}
	replicated := false
	var replicas []workItem
	remove := map[string]bool{}
	for _, p := range selected {
		if p.typ != PolicyReplication {
			continue
		}
		replicated = true
		r, selected, err := replicate(items, p.params)
		if err != nil {
			return nil, fmt.Errorf("policy %q: %w", p.name, err)
		}
		for _, n := range selected {
			remove[n] = true
		}
		replicas = append(replicas, r...)
	}
	if replicated {
		var kept []workItem
		for _, it := range items {
			if !remove[it.comp.Name] {
				kept = append(kept, it)
			}
		}
		items = append(kept, replicas...)
	}
	return items, nil
}

func newItem(c v1beta1.ApplicationComponent) (workItem, error) {
	props, err := DecodeProperties(c.Properties)
	if err != nil {
		return workItem{}, fmt.Errorf("component %q: %w", c.Name, err)
	}
	it := workItem{comp: c, props: props}
	for _, t := range c.Traits {
		tp, err := DecodeProperties(t.Properties)
		if err != nil {
			return workItem{}, fmt.Errorf("component %q trait %q: %w", c.Name, t.Type, err)
		}
		it.traitProps = append(it.traitProps, tp)
	}
	return it, nil
}

// addable is what a component name must contain for an override that
// matches no component to add one (KubeVela's test, unanchored).
var addable = regexp.MustCompile("[a-z]([a-z-]{0,61}[a-z])?")

// override changes the components as KubeVela's override policy does.
// Each entry of `components` selects by name (a pattern where "*" matches
// anything; unanchored, as KubeVela matches) and/or type, or every
// component when it names none. Selected components of the same type (or
// any type when the entry says none) get its properties merged in (maps
// merged key by key, lists and values replaced, null ignored) and its
// traits added, merged or disabled; a component of another type is
// replaced by the entry. A named entry that selects nothing adds a
// component. `selector` then keeps only the components it lists.
func override(items []workItem, params map[string]any) ([]workItem, error) {
	rules, _ := params["components"].([]any)
	for i, raw := range rules {
		rule, _ := raw.(map[string]any)
		name, _ := rule["name"].(string)
		typ, _ := rule["type"].(string)
		if name == "" {
			for j := range items {
				if typ == "" || typ == items[j].comp.Type {
					items[j] = mergeComponent(items[j], rule)
				}
			}
			continue
		}
		add := addable.MatchString(name)
		if re, err := regexp.Compile(strings.ReplaceAll(name, "*", ".*")); err == nil {
			for j := range items {
				if !re.MatchString(items[j].comp.Name) {
					continue
				}
				add = false
				if typ != "" && typ != items[j].comp.Type {
					items[j] = ruleComponent(items[j].comp.Name, rule)
				} else {
					items[j] = mergeComponent(items[j], rule)
				}
			}
		}
		if add {
			if typ == "" {
				return nil, fmt.Errorf("components[%d] adds component %q (no component matches the name) but gives it no type", i, name)
			}
			items = append(items, ruleComponent(name, rule))
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

// ruleComponent is the component an override entry describes whole.
func ruleComponent(name string, rule map[string]any) workItem {
	typ, _ := rule["type"].(string)
	props, _ := rule["properties"].(map[string]any)
	it := workItem{comp: v1beta1.ApplicationComponent{Name: name, Type: typ}, props: copyMap(props)}
	if it.props == nil {
		it.props = map[string]any{}
	}
	if rev, ok := rule["externalRevision"].(string); ok {
		it.comp.ExternalRevision = rev
	}
	traits, _ := rule["traits"].([]any)
	for _, raw := range traits {
		t, _ := raw.(map[string]any)
		if disable, _ := t["disable"].(bool); disable {
			continue
		}
		tt, _ := t["type"].(string)
		tp, _ := t["properties"].(map[string]any)
		if tp == nil {
			tp = map[string]any{}
		}
		it.comp.Traits = append(it.comp.Traits, v1beta1.ApplicationTrait{Type: tt})
		it.traitProps = append(it.traitProps, copyMap(tp))
	}
	return it
}

// mergeComponent merges an override entry into a component (a copy).
func mergeComponent(it workItem, rule map[string]any) workItem {
	out := workItem{comp: it.comp, replicaKey: it.replicaKey}
	out.comp.Traits = append([]v1beta1.ApplicationTrait(nil), it.comp.Traits...)
	out.props = copyMap(it.props)
	if p, ok := rule["properties"].(map[string]any); ok {
		out.props = mergeValues(out.props, p)
	}
	if rev, ok := rule["externalRevision"].(string); ok && rev != "" {
		out.comp.ExternalRevision = rev
	}
	out.traitProps = make([]map[string]any, len(it.traitProps))
	for i, tp := range it.traitProps {
		out.traitProps[i] = copyMap(tp)
	}
	traits, _ := rule["traits"].([]any)
	for _, raw := range traits {
		t, _ := raw.(map[string]any)
		typ, _ := t["type"].(string)
		disable, _ := t["disable"].(bool)
		props, _ := t["properties"].(map[string]any)
		found := false
		for i := 0; i < len(out.comp.Traits); i++ {
			if out.comp.Traits[i].Type != typ {
				continue
			}
			found = true
			if disable {
				out.comp.Traits = append(out.comp.Traits[:i], out.comp.Traits[i+1:]...)
				out.traitProps = append(out.traitProps[:i], out.traitProps[i+1:]...)
				i--
				continue
			}
			out.traitProps[i] = mergeValues(out.traitProps[i], props)
		}
		if !found && !disable {
			if props == nil {
				props = map[string]any{}
			}
			out.comp.Traits = append(out.comp.Traits, v1beta1.ApplicationTrait{Type: typ})
			out.traitProps = append(out.traitProps, copyMap(props))
		}
	}
	return out
}

// mergeValues merges p into base (a new map): maps are merged key by
// key, anything else in p replaces base's value, and null in p is
// ignored (KubeVela merges override properties this way, not as a JSON
// merge patch).
func mergeValues(base, p map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(p))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range p {
		if v == nil {
			continue
		}
		if pm, ok := v.(map[string]any); ok {
			if bm, ok := out[k].(map[string]any); ok {
				out[k] = mergeValues(bm, pm)
				continue
			}
		}
		out[k] = copyValue(v)
	}
	return out
}

// replicate returns the components a replication policy selects, once
// per key, each with context.replicaKey set. As KubeVela's, it must
// select at least one component.
func replicate(items []workItem, params map[string]any) (_ []workItem, selected []string, _ error) {
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
		if !sel[it.comp.Name] {
			continue
		}
		selected = append(selected, it.comp.Name)
		for _, k := range keys {
			key, _ := k.(string)
			cp := it
			cp.replicaKey = key
			out = append(out, cp)
		}
	}
	if len(selected) == 0 {
		return nil, nil, errors.New("no component selected to replicate: list the components in selector")
	}
	return out, selected, nil
}
