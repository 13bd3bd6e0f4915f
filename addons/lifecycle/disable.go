package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/velad-dev/velad/addons"
	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/definition"
)

// ErrNotEnabled is returned (wrapped) when disabling an addon that is not
// enabled.
var ErrNotEnabled = errors.New("is not enabled")

// InUseError refuses to disable an addon that applications or other
// enabled addons still need.
type InUseError struct {
	Addon string
	// Users are "namespace/app (component web: helm)", sorted.
	Users []string
	// Dependents are enabled addons that depend on it.
	Dependents []string
}

func (e *InUseError) Error() string {
	var parts []string
	if len(e.Users) > 0 {
		parts = append(parts, fmt.Sprintf("%d application(s) use its definitions: %s", len(e.Users), strings.Join(e.Users, ", ")))
	}
	if len(e.Dependents) > 0 {
		parts = append(parts, "enabled addons depend on it: "+strings.Join(e.Dependents, ", "))
	}
	return fmt.Sprintf("addon %s is in use (%s); delete those first, or disable it anyway with --force", e.Addon, strings.Join(parts, "; "))
}

// Disabled is what Disable did.
type Disabled struct {
	Name string `json:"name"`
	// Forced lists the users and dependents --force went past.
	Forced []string `json:"forced,omitempty"`
}

// Disable removes the addon's definitions and its Helm release (its CRDs
// stay, as Helm leaves them, so objects of those kinds are not lost). It
// refuses while applications use its definitions or enabled addons depend
// on it, naming them, unless force is set.
func (m *Manager) Disable(ctx context.Context, name string, force bool) (*Disabled, error) {
	a, err := m.reg.Get(name)
	if err != nil {
		return nil, err
	}
	enabled, err := m.enabled(ctx, a)
	if err != nil {
		return nil, err
	}
	if !enabled {
		return nil, fmt.Errorf("addon %s %w ('velad addon list' shows which are)", name, ErrNotEnabled)
	}
	inUse := &InUseError{Addon: name}
	for _, d := range m.reg.Dependents(name) {
		da, _ := m.reg.Get(d)
		on, err := m.enabled(ctx, da)
		if err != nil {
			return nil, err
		}
		if on {
			inUse.Dependents = append(inUse.Dependents, d)
		}
	}
	if inUse.Users, err = m.users(ctx, a); err != nil {
		return nil, err
	}
	out := &Disabled{Name: name}
	if len(inUse.Users)+len(inUse.Dependents) > 0 {
		if !force {
			return nil, inUse
		}
		out.Forced = append(append(out.Forced, inUse.Users...), inUse.Dependents...)
	}
	if len(a.Definitions()) > 0 {
		m.o.Progress.Step(fmt.Sprintf("Removing the definitions of addon %s", name))
		if err := m.deleteDefinitions(ctx, a); err != nil {
			return nil, fmt.Errorf("disable addon %s: %w", name, err)
		}
	}
	m.o.Progress.Step(fmt.Sprintf("Uninstalling addon %s (Helm release %s/%s)", name, a.Namespace, a.ReleaseName()))
	rc, err := m.helmFor(a)
	if err != nil {
		return nil, err
	}
	if err := rc.Uninstall(ctx, a.ReleaseName(), m.o.Timeout); err != nil {
		return nil, fmt.Errorf("disable addon %s: %w", name, err)
	}
	return out, nil
}

// enabled: the addon's release is there, or any of its definitions.
func (m *Manager) enabled(ctx context.Context, a *addons.Addon) (bool, error) {
	rc, err := m.helmFor(a)
	if err != nil {
		return false, err
	}
	rel, err := rc.Get(a.ReleaseName())
	if err != nil || rel != nil {
		return rel != nil, err
	}
	defs, err := m.definitionStates(ctx, a)
	if err != nil {
		return false, err
	}
	for _, d := range defs {
		if d.Present {
			return true, nil
		}
	}
	return false, nil
}

// users lists the applications, in every namespace, that use one of the
// addon's definitions.
func (m *Manager) users(ctx context.Context, a *addons.Addon) ([]string, error) {
	if len(a.Definitions()) == 0 {
		return nil, nil
	}
	apps := &v1beta1.ApplicationList{}
	if err := m.c.List(ctx, apps); err != nil {
		if meta.IsNoMatchError(err) {
			return nil, nil // no controller, no applications
		}
		return nil, fmt.Errorf("list applications: %w", err)
	}
	return usersOf(apps.Items, a.Definitions()), nil
}

// usersOf lists the apps that use one of defs, each once, naming what
// uses it: "ns/app (component web: helm)".
func usersOf(apps []v1beta1.Application, defs []*definition.Definition) []string {
	provided := map[definition.Kind]map[string]bool{}
	for _, d := range defs {
		if provided[d.Kind] == nil {
			provided[d.Kind] = map[string]bool{}
		}
		provided[d.Kind][d.Name] = true
	}
	uses := func(kind definition.Kind, ref string) bool {
		name, _, err := definition.SplitRef(ref)
		if err != nil {
			name = ref
		}
		return provided[kind][name]
	}
	var out []string
	for _, app := range apps {
		var what []string
		for _, c := range app.Spec.Components {
			if uses(definition.KindComponent, c.Type) {
				what = append(what, fmt.Sprintf("component %s: %s", c.Name, c.Type))
			}
			for _, t := range c.Traits {
				if uses(definition.KindTrait, t.Type) {
					what = append(what, fmt.Sprintf("trait %s on %s", t.Type, c.Name))
				}
			}
		}
		for _, p := range app.Spec.Policies {
			if uses(definition.KindPolicy, p.Type) {
				what = append(what, fmt.Sprintf("policy %s: %s", p.Name, p.Type))
			}
		}
		if app.Spec.Workflow != nil {
			for _, s := range app.Spec.Workflow.Steps {
				steps := append([]v1beta1.WorkflowStepBase{s.WorkflowStepBase}, s.SubSteps...)
				for _, st := range steps {
					if uses(definition.KindWorkflowStep, st.Type) {
						what = append(what, fmt.Sprintf("step %s: %s", st.Name, st.Type))
					}
				}
			}
		}
		if len(what) > 0 {
			out = append(out, fmt.Sprintf("%s/%s (%s)", app.Namespace, app.Name, strings.Join(what, ", ")))
		}
	}
	sort.Strings(out)
	return out
}
