package render

import (
	"sort"
	"strings"

	"cuelang.org/go/cue"

	"github.com/velad-dev/velad/controller/definition"
)

// Parameter documentation: the fields of a definition's `parameter` with
// their types, defaults and `+usage` text, for `velad def show`.

// Parameter describes one field of a definition's `parameter`, for
// documentation (`velad def show`).
type Parameter struct {
	// Name is the dotted path: "ports[].port".
	Name        string
	Type        string
	Required    bool
	Default     string // JSON; "" when none
	Description string // from `// +usage=` comments
}

// Parameters lists the parameters of d, nested fields after their parent.
func (r *Renderer) Parameters(d *definition.Definition) ([]Parameter, error) {
	var out []Parameter
	err := r.withEngine(func(e *engine) error {
		t, err := e.compile(d)
		if err != nil {
			return err
		}
		if t.parameter.Exists() {
			describeParameter(t.parameter, &out)
		}
		return nil
	})
	return out, err
}

const maxParamDepth = 5

// describeParameter describes the fields of every form a parameter takes:
// `#Target | close({containers: [...#Target]})` documents the fields of
// both, each name once.
func describeParameter(v cue.Value, out *[]Parameter) {
	op, args := v.Expr()
	if op != cue.OrOp || len(args) < 2 {
		describeFields(v, "", 0, out)
		return
	}
	seen := map[string]bool{}
	for _, a := range args {
		var some []Parameter
		describeFields(a, "", 0, &some)
		for _, p := range some {
			if !seen[p.Name] {
				seen[p.Name] = true
				*out = append(*out, p)
			}
		}
	}
}

func describeFields(v cue.Value, prefix string, depth int, out *[]Parameter) {
	if depth > maxParamDepth {
		return
	}
	it, err := v.Fields(cue.Optional(true))
	if err != nil {
		return
	}
	for it.Next() {
		f := it.Value()
		name := prefix + it.Selector().Unquoted()
		optional := it.Selector().ConstraintType() == cue.OptionalConstraint
		p := Parameter{
			Name:        name,
			Type:        typeString(f),
			Description: usage(f),
		}
		if d, ok := f.Default(); ok && d.IsConcrete() && !optional {
			if b, err := d.MarshalJSON(); err == nil {
				p.Default = string(b)
			}
		}
		p.Required = !optional && p.Default == "" && !f.IsConcrete() && !markedDefault(f.Source())
		*out = append(*out, p)
		switch {
		case f.IncompleteKind() == cue.StructKind && !isDisjunction(f):
			describeFields(f, name+".", depth+1, out)
		case f.IncompleteKind() == cue.ListKind:
			if e := f.LookupPath(cue.MakePath(cue.AnyIndex)); e.Exists() && e.IncompleteKind() == cue.StructKind {
				describeFields(e, name+"[].", depth+1, out)
			}
		}
	}
	if pat := v.LookupPath(cue.MakePath(cue.AnyString)); pat.Exists() && prefix == "" {
		*out = append(*out, Parameter{Name: "<key>", Type: typeString(pat), Description: usage(v)})
	}
}

func usage(v cue.Value) string {
	var lines []string
	for _, g := range v.Doc() {
		for _, c := range g.List {
			line := strings.TrimSpace(strings.TrimPrefix(c.Text, "//"))
			if u, ok := strings.CutPrefix(line, "+usage="); ok {
				lines = append(lines, strings.TrimSpace(u))
			}
		}
	}
	return strings.Join(lines, " ")
}

// typeString names a schema for people: string, int, []string,
// map[string]string, {...} or an enum "a"|"b".
func typeString(v cue.Value) string {
	if isDisjunction(v) {
		if opts, ok := enum(v); ok {
			return strings.Join(opts, "|")
		}
		_, args := v.Expr()
		var kinds []string
		seen := map[string]bool{}
		for _, a := range args {
			s := typeString(a)
			if !seen[s] {
				seen[s] = true
				kinds = append(kinds, s)
			}
		}
		sort.Strings(kinds)
		return strings.Join(kinds, "|")
	}
	switch k := v.IncompleteKind(); k {
	case cue.ListKind:
		if e := v.LookupPath(cue.MakePath(cue.AnyIndex)); e.Exists() {
			return "[]" + typeString(e)
		}
		return "[]"
	case cue.StructKind:
		if pat := v.LookupPath(cue.MakePath(cue.AnyString)); pat.Exists() {
			if it, err := v.Fields(cue.Optional(true)); err == nil && !it.Next() {
				return "map[string]" + typeString(pat)
			}
		}
		return "{...}"
	case cue.TopKind:
		return "any"
	default:
		return kindName(k)
	}
}
