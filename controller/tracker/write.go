package tracker

import (
	"encoding/json"
	"fmt"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// How an application writes its objects, from its read-only and
// resource-update policies (as KubeVela's): an object a read-only rule
// selects is never written, only read (its absence is an error), and
// never deleted by the app; a resource-update rule says whether the
// rendered object is patched into the live one (the default) or
// replaces it, and which fields, when they change, make the controller
// delete the object and create it again.

// Policy types.
const (
	ReadOnlyPolicyType       = "read-only"
	ResourceUpdatePolicyType = "resource-update"
)

// Update operations of a resource-update rule.
const (
	OpPatch   = "patch"
	OpReplace = "replace"
)

// WriteStrategy is how one object is written.
type WriteStrategy struct {
	// ReadOnly: never written, only read.
	ReadOnly bool
	// Op is OpPatch or OpReplace.
	Op string
	// RecreateFields are field paths whose change recreates the object.
	RecreateFields []string
}

// WritePolicy holds an application's read-only and resource-update rules.
type WritePolicy struct {
	readOnly       []Selector
	update         []updateRule
	componentTypes map[string]string
}

type updateRule struct {
	Selector Selector `json:"selector"`
	Strategy struct {
		Op             string   `json:"op"`
		RecreateFields []string `json:"recreateFields"`
	} `json:"strategy"`
}

// WritePolicyOf reads app's read-only and resource-update policies.
func WritePolicyOf(app *v1beta1.Application) (WritePolicy, error) {
	p := WritePolicy{componentTypes: map[string]string{}}
	for _, c := range app.Spec.Components {
		p.componentTypes[c.Name] = c.Type
	}
	for _, pol := range app.Spec.Policies {
		if pol.Properties == nil || len(pol.Properties.Raw) == 0 {
			continue
		}
		switch pol.Type {
		case ReadOnlyPolicyType:
			var props struct {
				Rules []struct {
					Selector Selector `json:"selector"`
				} `json:"rules"`
			}
			if err := json.Unmarshal(pol.Properties.Raw, &props); err != nil {
				return p, fmt.Errorf("policy %q (%s): %w", pol.Name, pol.Type, err)
			}
			for _, r := range props.Rules {
				p.readOnly = append(p.readOnly, r.Selector)
			}
		case ResourceUpdatePolicyType:
			var props struct {
				Rules []updateRule `json:"rules"`
			}
			if err := json.Unmarshal(pol.Properties.Raw, &props); err != nil {
				return p, fmt.Errorf("policy %q (%s): %w", pol.Name, pol.Type, err)
			}
			for _, r := range props.Rules {
				switch r.Strategy.Op {
				case "":
					r.Strategy.Op = OpPatch
				case OpPatch, OpReplace:
				default:
					return p, fmt.Errorf("policy %q (%s): strategy.op %q: use %q or %q", pol.Name, pol.Type, r.Strategy.Op, OpPatch, OpReplace)
				}
				p.update = append(p.update, r)
			}
		}
	}
	return p, nil
}

// For returns how m (an object of component m.Component) is written: a
// read-only rule wins; else the first resource-update rule that selects
// it; else a patch.
func (p WritePolicy) For(m v1beta1.ManagedResource) WriteStrategy {
	ct := p.componentTypes[m.Component]
	for _, s := range p.readOnly {
		if s.selects(m, ct) {
			return WriteStrategy{ReadOnly: true}
		}
	}
	for _, r := range p.update {
		if r.Selector.selects(m, ct) {
			return WriteStrategy{Op: r.Strategy.Op, RecreateFields: r.Strategy.RecreateFields}
		}
	}
	return WriteStrategy{Op: OpPatch}
}
