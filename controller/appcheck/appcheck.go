// Package appcheck holds the checks an Application must pass before
// anything renders it, ones that need no definition and no cluster: names
// that become object names and label values, dependsOn cycles, the same
// trait twice on one component. An app that fails them would be admitted
// and then get stuck (objects that cannot be created, a workflow that
// waits forever), so the admission webhook refuses it and the controller
// fails it with the same message.
package appcheck

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// Application checks app; the error says what is wrong and where.
func Application(app *v1beta1.Application) error {
	// The app's name is the value of the app.oam.dev/name label on
	// everything it applies and on its resource trackers.
	if len(app.Name) > validation.LabelValueMaxLength {
		return fmt.Errorf("application name %q is %d characters long: it is a label value on every object the app applies, so at most %d are allowed",
			app.Name, len(app.Name), validation.LabelValueMaxLength)
	}
	for i, c := range app.Spec.Components {
		if err := objectName(c.Name); err != nil {
			return fmt.Errorf("spec.components[%d].name %q: %w", i, c.Name, err)
		}
		seen := map[string]int{}
		for j, t := range c.Traits {
			name := typeName(t.Type)
			if k, dup := seen[name]; dup {
				return fmt.Errorf("component %q has trait %q twice (traits[%d] and traits[%d]): merge their properties into one", c.Name, name, k, j)
			}
			seen[name] = j
		}
	}
	if err := cycle("component", components(app)); err != nil {
		return err
	}
	if app.Spec.Workflow == nil {
		return nil
	}
	if err := steps(app.Spec.Workflow.Steps); err != nil {
		return err
	}
	return nil
}

// steps checks the workflow's step names and the dependsOn of its steps
// and of the sub-steps of each step group.
func steps(list []v1beta1.WorkflowStep) error {
	top := make([]dep, 0, len(list))
	names := map[string]bool{}
	for i, s := range list {
		if err := stepName(s.Name, names); err != nil {
			return fmt.Errorf("spec.workflow.steps[%d].name %q: %w", i, s.Name, err)
		}
		top = append(top, dep{s.Name, s.DependsOn})
		sub := make([]dep, 0, len(s.SubSteps))
		for j, ss := range s.SubSteps {
			if err := stepName(ss.Name, names); err != nil {
				return fmt.Errorf("spec.workflow.steps[%d].subSteps[%d].name %q: %w", i, j, ss.Name, err)
			}
			sub = append(sub, dep{ss.Name, ss.DependsOn})
		}
		if err := cycle(fmt.Sprintf("sub-step (of step %q)", s.Name), sub); err != nil {
			return err
		}
	}
	return cycle("workflow step", top)
}

// stepName checks one step name; names are unique across the workflow
// (the status records steps by name).
func stepName(name string, seen map[string]bool) error {
	if err := objectName(name); err != nil {
		return err
	}
	if seen[name] {
		return fmt.Errorf("the name is used by another step: step names must be unique")
	}
	seen[name] = true
	return nil
}

// objectName checks a name that the app's objects are named after and
// that labels carry: a DNS-1123 label (Services need one).
func objectName(name string) error {
	if name == "" {
		return fmt.Errorf("a name is required")
	}
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return fmt.Errorf("not usable as an object name: %s", strings.Join(errs, "; "))
	}
	return nil
}

// typeName is a definition reference without its revision ("scaler@v2").
func typeName(ref string) string {
	name, _, _ := strings.Cut(ref, "@")
	return name
}

// dep is a node of a dependsOn graph.
type dep struct {
	name      string
	dependsOn []string
}

func components(app *v1beta1.Application) []dep {
	out := make([]dep, 0, len(app.Spec.Components))
	for _, c := range app.Spec.Components {
		out = append(out, dep{c.Name, c.DependsOn})
	}
	return out
}

// cycle reports the first dependsOn cycle among nodes, naming every
// member in order ("a -> b -> a"). Dependencies on unknown names are not
// its concern.
func cycle(what string, nodes []dep) error {
	deps := make(map[string][]string, len(nodes))
	for _, n := range nodes {
		deps[n.name] = n.dependsOn
	}
	const (
		unvisited = iota
		onPath
		done
	)
	state := make(map[string]int, len(nodes))
	var path []string
	var visit func(string) []string
	visit = func(n string) []string {
		switch state[n] {
		case onPath:
			for i, p := range path {
				if p == n {
					return append(append([]string(nil), path[i:]...), n)
				}
			}
		case done:
			return nil
		}
		state[n] = onPath
		path = append(path, n)
		for _, d := range deps[n] {
			if _, known := deps[d]; !known {
				continue
			}
			if c := visit(d); c != nil {
				return c
			}
		}
		path = path[:len(path)-1]
		state[n] = done
		return nil
	}
	for _, n := range nodes {
		if c := visit(n.name); c != nil {
			return fmt.Errorf("%s dependsOn cycle: %s: nothing in it can ever start; remove one of these dependencies",
				what, strings.Join(quoteAll(c), " -> "))
		}
	}
	return nil
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}
