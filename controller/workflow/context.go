package workflow

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Context holds what a workflow's steps pass along: the values of step
// and component outputs by name, the variables of #DoVar, and the steps'
// logs. It is kept with the workflow in the cluster (Store) so that a
// controller restart resumes with it; a new run of the workflow starts
// with an empty one.
type Context struct {
	// Revision is the app revision whose workflow run filled it.
	Revision string `json:"revision,omitempty"`
	// Values are outputs by name.
	Values map[string]any `json:"values,omitempty"`
	// Sensitive names the outputs made from Secrets read by their step:
	// they are passed on but never shown.
	Sensitive map[string]bool `json:"sensitive,omitempty"`
	// Vars are the variables of #DoVar, by path.
	Vars map[string]any `json:"vars,omitempty"`
	// Logs are each step's #Log lines, the newest MaxLogLines.
	Logs map[string][]string `json:"logs,omitempty"`

	changed bool
}

// Limits of what a context keeps (it lives in a ConfigMap).
const (
	MaxLogLines   = 100
	MaxLogLineLen = 2048
)

// NewContext returns an empty context for a run at revision.
func NewContext(revision string) *Context {
	return &Context{Revision: revision}
}

// Changed reports whether the context changed since it was loaded.
func (c *Context) Changed() bool { return c != nil && c.changed }

// Value returns output name.
func (c *Context) Value(name string) (any, bool) {
	if c == nil {
		return nil, false
	}
	v, ok := c.Values[name]
	return v, ok
}

// SetOutput records output name (sensitive: made from a Secret).
func (c *Context) SetOutput(name string, v any, sensitive bool) {
	if c.Values == nil {
		c.Values = map[string]any{}
	}
	c.Values[name] = normalize(v)
	if sensitive {
		if c.Sensitive == nil {
			c.Sensitive = map[string]bool{}
		}
		c.Sensitive[name] = true
	} else {
		delete(c.Sensitive, name)
	}
	c.changed = true
}

// Var returns variable path.
func (c *Context) Var(path string) (any, bool) {
	v, ok := c.Vars[path]
	return v, ok
}

// SetVar sets variable path.
func (c *Context) SetVar(path string, v any) {
	if c.Vars == nil {
		c.Vars = map[string]any{}
	}
	c.Vars[path] = normalize(v)
	c.changed = true
}

// Log appends lines to step's log, keeping the newest MaxLogLines.
func (c *Context) Log(step string, lines ...string) {
	if len(lines) == 0 {
		return
	}
	if c.Logs == nil {
		c.Logs = map[string][]string{}
	}
	l := c.Logs[step]
	for _, s := range lines {
		if len(s) > MaxLogLineLen {
			s = s[:MaxLogLineLen] + "…"
		}
		l = append(l, s)
	}
	if len(l) > MaxLogLines {
		l = l[len(l)-MaxLogLines:]
	}
	c.Logs[step] = l
	c.changed = true
}

// Steps lists the steps that have logs, sorted.
func (c *Context) Steps() []string {
	out := make([]string, 0, len(c.Logs))
	for s := range c.Logs {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Show renders output name for people: JSON, or a mask when it is
// sensitive.
func (c *Context) Show(name string) string {
	v, ok := c.Value(name)
	switch {
	case !ok:
		return "(not set)"
	case c.Sensitive[name]:
		return "(sensitive)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// normalize turns v into plain JSON values (maps, lists, strings,
// float64, bool, nil), as it will read back after a restart.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return string(b)
	}
	return out
}

// Redact replaces every secret in s by a mask.
func Redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 3 {
			s = strings.ReplaceAll(s, sec, "******")
		}
	}
	return s
}
