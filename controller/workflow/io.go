package workflow

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// Inputs of a step: the outputs it names in `inputs[].from`, set into
// its properties at `parameterKey` (when given) and offered to its `if`
// and template as `inputs.<from>`.

// inputPending: an input is an output of a step that has not run yet.
type inputPending struct{ name string }

func (e *inputPending) Error() string {
	return fmt.Sprintf("waiting for input %q (an output of a step that has not finished)", e.name)
}

// resolveInputs returns step with its properties filled from its inputs,
// and the inputs by name. producing reports whether a step that has not
// finished yet declares an output of that name: then the step waits;
// otherwise a missing input is an error.
func resolveInputs(step v1beta1.WorkflowStepBase, c *Context, producing func(string) bool) (v1beta1.WorkflowStepBase, map[string]any, error) {
	if len(step.Inputs) == 0 {
		return step, nil, nil
	}
	props, err := Properties(step)
	if err != nil {
		return step, nil, fmt.Errorf("step %q: properties: %w", step.Name, err)
	}
	inputs := map[string]any{}
	for _, in := range step.Inputs {
		v, ok := c.Value(in.From)
		if !ok {
			if producing != nil && producing(in.From) {
				return step, nil, &inputPending{in.From}
			}
			return step, nil, fmt.Errorf("step %q: input %q is not the output of any step or component that ran", step.Name, in.From)
		}
		inputs[in.From] = v
		if in.ParameterKey == "" {
			continue
		}
		if err := SetPath(props, in.ParameterKey, v); err != nil {
			return step, nil, fmt.Errorf("step %q: input %q: %w", step.Name, in.From, err)
		}
	}
	b, err := json.Marshal(props)
	if err != nil {
		return step, nil, err
	}
	step.Properties = &runtime.RawExtension{Raw: b}
	return step, inputs, nil
}

// SetPath sets the value at key in m: a dotted path with list indexes,
// `image`, `env[0].value`, `spec.template["app.oam.dev/x"]`. Missing
// maps on the way are made; a list index must exist.
func SetPath(m map[string]any, key string, v any) error {
	parts, err := splitPath(key)
	if err != nil {
		return err
	}
	var cur any = m
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if p.index >= 0 {
				return fmt.Errorf("parameterKey %q: %q is not a list", key, p.name)
			}
			if last {
				c[p.name] = v
				return nil
			}
			next, ok := c[p.name]
			if !ok || next == nil {
				if parts[i+1].index >= 0 {
					return fmt.Errorf("parameterKey %q: no list at %q", key, p.name)
				}
				next = map[string]any{}
				c[p.name] = next
			}
			cur = next
		case []any:
			if p.index < 0 || p.index >= len(c) {
				return fmt.Errorf("parameterKey %q: index %d is out of range (the list has %d items)", key, p.index, len(c))
			}
			if last {
				c[p.index] = v
				return nil
			}
			cur = c[p.index]
		default:
			return fmt.Errorf("parameterKey %q: cannot set a field below a %T", key, cur)
		}
	}
	return nil
}

type pathPart struct {
	name  string
	index int // -1: a field
}

func splitPath(key string) ([]pathPart, error) {
	var out []pathPart
	s := strings.TrimSpace(key)
	if s == "" {
		return nil, fmt.Errorf("empty parameterKey")
	}
	for len(s) > 0 {
		switch {
		case s[0] == '.':
			s = s[1:]
		case s[0] == '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, fmt.Errorf("parameterKey %q: unclosed [", key)
			}
			in := s[1:end]
			s = s[end+1:]
			if uq, err := strconv.Unquote(in); err == nil {
				out = append(out, pathPart{name: uq, index: -1})
				continue
			}
			n, err := strconv.Atoi(in)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("parameterKey %q: %q is neither an index nor a quoted key", key, in)
			}
			out = append(out, pathPart{index: n})
		default:
			end := strings.IndexAny(s, ".[")
			if end < 0 {
				end = len(s)
			}
			out = append(out, pathPart{name: s[:end], index: -1})
			s = s[end:]
		}
	}
	return out, nil
}
