package tracker

import (
	"encoding/json"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// PolicyType is the policy that tunes garbage collection.
const PolicyType = "garbage-collect"

// Strategy says when garbage collection may delete a resource.
type Strategy string

const (
	// OnAppUpdate deletes it once a newer revision no longer renders it
	// (and with the app): the default.
	OnAppUpdate Strategy = "onAppUpdate"
	// OnAppDelete keeps it across updates; it goes with the app.
	OnAppDelete Strategy = "onAppDelete"
	// Never leaves it in the cluster, even when the app is deleted.
	Never Strategy = "never"
)

// Policy is an application's garbage-collect policy (the properties of
// the built-in definition of that name).
type Policy struct {
	// KeepLegacyResource keeps what older revisions applied until the
	// app is deleted.
	KeepLegacyResource bool   `json:"keepLegacyResource"`
	Rules              []Rule `json:"rules"`
	// ApplicationRevisionLimit, when set, is how many revisions to keep.
	ApplicationRevisionLimit int `json:"applicationRevisionLimit"`
	// componentTypes maps component names to types, for selectors.
	componentTypes map[string]string
}

// Rule applies a strategy to the resources its selector picks.
type Rule struct {
	Selector    Selector `json:"selector"`
	Strategy    Strategy `json:"strategy"`
	Propagation string   `json:"propagation"`
}

// Selector picks resources; every list given must match (one of its
// entries), an empty selector picks everything.
type Selector struct {
	ComponentNames []string `json:"componentNames"`
	ComponentTypes []string `json:"componentTypes"`
	OAMTypes       []string `json:"oamTypes"`
	TraitTypes     []string `json:"traitTypes"`
	ResourceTypes  []string `json:"resourceTypes"`
	ResourceNames  []string `json:"resourceNames"`
}

// PolicyOf reads app's garbage-collect policy; without one, everything
// is collected on update and with the app. (The renderer has already
// checked the properties against the definition's schema.)
func PolicyOf(app *v1beta1.Application) (Policy, error) {
	p := Policy{componentTypes: map[string]string{}}
	for _, c := range app.Spec.Components {
		p.componentTypes[c.Name] = c.Type
	}
	for _, pol := range app.Spec.Policies {
		if pol.Type != PolicyType || pol.Properties == nil || len(pol.Properties.Raw) == 0 {
			continue
		}
		if err := json.Unmarshal(pol.Properties.Raw, &p); err != nil {
			return p, fmt.Errorf("policy %q (%s): %w", pol.Name, PolicyType, err)
		}
	}
	return p, nil
}

// StrategyFor returns when m may be deleted, and how deletion propagates
// to its dependents: the first rule that selects it decides.
func (p Policy) StrategyFor(m v1beta1.ManagedResource) (Strategy, metav1.DeletionPropagation) {
	for _, r := range p.Rules {
		if !r.Selector.selects(m, p.componentTypes[m.Component]) {
			continue
		}
		s := r.Strategy
		if s == "" {
			s = OnAppUpdate
		}
		prop := metav1.DeletePropagationBackground
		if r.Propagation == "orphan" {
			prop = metav1.DeletePropagationOrphan
		}
		return s, prop
	}
	return OnAppUpdate, metav1.DeletePropagationBackground
}

// Selects reports whether s picks m (of a component of componentType).
func (s Selector) Selects(m v1beta1.ManagedResource, componentType string) bool {
	return s.selects(m, componentType)
}

func (s Selector) selects(m v1beta1.ManagedResource, componentType string) bool {
	oamType := "COMPONENT"
	if m.Trait != "" {
		oamType = "TRAIT"
	}
	for _, f := range []struct {
		want []string
		got  string
	}{
		{s.ComponentNames, m.Component},
		{s.ComponentTypes, componentType},
		{s.OAMTypes, oamType},
		{s.TraitTypes, m.Trait},
		{s.ResourceTypes, m.Kind},
		{s.ResourceNames, m.Name},
	} {
		if len(f.want) > 0 && !slices.Contains(f.want, f.got) {
			return false
		}
	}
	return true
}
