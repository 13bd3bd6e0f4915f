package render

import (
	"sort"
	"strconv"
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
			if e := listElem(f); e.Exists() && e.IncompleteKind() == cue.StructKind {
				describeFields(e, name+"[].", depth+1, out)
			}
		}
	}
	if pat := v.LookupPath(cue.MakePath(cue.AnyString)); pat.Exists() && prefix == "" {
		*out = append(*out, Parameter{Name: "<key>", Type: typeString(pat), Description: usage(v)})
	}
}

// listElem is the element schema of a list, also of one with a default
// (`*[] | [...#Port]`: the default has none, the other form has).
func listElem(v cue.Value) cue.Value {
	if e := v.LookupPath(cue.MakePath(cue.AnyIndex)); e.Exists() && e.Err() == nil {
		return e
	}
	// Expr gives the disjuncts (OrOp), or for a default the other form
	// alone (NoOp).
	if op, args := v.Expr(); op == cue.OrOp || op == cue.NoOp {
		for _, a := range args {
			if a == v {
				continue
			}
			if e := a.LookupPath(cue.MakePath(cue.AnyIndex)); e.Exists() && e.Err() == nil {
				return e
			}
		}
	}
	return cue.Value{}
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
		if e := listElem(v); e.Exists() {
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

// ParameterTable is one table of `velad def show`, as `vela show` prints
// them: the top-level parameters ("Specification"), then one table per
// struct (or list of structs) field, titled by the field's name, with
// its own fields.
type ParameterTable struct {
	// Path is the dotted path of the struct ("" for the top level);
	// Title is its last field name ("Specification" at the top).
	Path, Title string
	// Depth is 0 for the top level, 1 for its structs, and so on.
	Depth int
	Rows  []ParameterRow
}

// ParameterRow is a parameter in its table: Name without its parent's
// path, Type naming the table of a struct field ("[ports](#ports)",
// "[[]ports](#ports)").
type ParameterRow struct {
	Name, Description, Type, Default string
	Required                         bool
}

// SpecificationTitle is the title of the top-level table.
const SpecificationTitle = "Specification"

// ParameterTables groups params (as Parameters lists them) into tables:
// the top level first, then each nested struct after its parent, depth
// first.
func ParameterTables(params []Parameter) []ParameterTable {
	children := map[string][]Parameter{} // parent path -> fields
	var order []string
	for _, p := range params {
		parent, name := splitParam(p.Name)
		if _, ok := children[parent]; !ok {
			order = append(order, parent)
		}
		p.Name = name
		children[parent] = append(children[parent], p)
	}
	var out []ParameterTable
	var walk func(path, title string, depth int)
	walk = func(path, title string, depth int) {
		t := ParameterTable{Path: path, Title: title, Depth: depth}
		var nested []string
		for _, p := range children[path] {
			full := joinParam(path, p.Name)
			row := ParameterRow{Name: p.Name, Description: p.Description, Type: p.Type, Required: p.Required, Default: printableDefault(p.Default)}
			if _, ok := children[full]; ok {
				row.Type = "[" + p.Name + "](#" + strings.ToLower(p.Name) + ")"
				nested = append(nested, full)
			} else if _, ok := children[full+"[]"]; ok {
				row.Type = "[[]" + p.Name + "](#" + strings.ToLower(p.Name) + ")"
				nested = append(nested, full+"[]")
			}
			t.Rows = append(t.Rows, row)
		}
		out = append(out, t)
		for _, n := range nested {
			_, name := splitParam(strings.TrimSuffix(n, "[]"))
			walk(n, name, depth+1)
		}
	}
	if len(order) > 0 {
		walk("", SpecificationTitle, 0)
	}
	return out
}

// splitParam splits "ports[].port" into "ports[]" and "port".
func splitParam(name string) (parent, field string) {
	i := strings.LastIndex(name, ".")
	if i < 0 {
		return "", name
	}
	return name[:i], name[i+1:]
}

func joinParam(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// printableDefault shows a default as `vela show` does: strings without
// quotes ("empty" for ""), numbers and bools as they are, nothing for
// lists and structs.
func printableDefault(js string) string {
	switch {
	case js == "":
		return ""
	case js == `""`:
		return "empty"
	case strings.HasPrefix(js, `"`):
		if s, err := strconv.Unquote(js); err == nil {
			return s
		}
		return js
	case strings.HasPrefix(js, "[") || strings.HasPrefix(js, "{"):
		return ""
	}
	return js
}
