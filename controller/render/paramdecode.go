package render

import (
	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"

	"github.com/velad-dev/velad/controller/patch"
)

// Decoding the evaluated parameter into RenderedComponent.Properties is
// costly when done field listing by field listing: cue.Value.Fields sorts
// the fields of every struct. For most templates the fields are known
// without listing them: at every struct of the parameter they are the
// fields the schema declares (not optional) plus those the properties set.
// Decoding then takes one lookup per field.

// plainParameter reports whether that holds for a template: `parameter`
// is declared once, at the top, and nothing can add fields to it depending
// on values. Its value (and the definitions it refers to) may not hold
// comprehensions, embeddings, lets, dynamic labels or references other
// than to top-level definitions and predeclared identifiers; no top-level
// declaration may add fields to parameter from elsewhere.
func plainParameter(f *ast.File) bool {
	top := map[string]ast.Expr{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.Field:
			name, _, err := ast.LabelName(d.Label)
			if err != nil {
				return false // a pattern or dynamic label may match parameter
			}
			top[name] = d.Value
		case *ast.Comprehension:
			if !staticFields(d.Value) {
				return false
			}
		case *ast.EmbedDecl:
			return false
		}
	}
	counts := countLabels(f)
	param, ok := top["parameter"]
	if !ok || counts["parameter"] != 1 {
		return false
	}
	c := &schemaCheck{top: top, counts: counts, checked: map[string]bool{}}
	return c.plain(param)
}

// staticFields reports whether the struct a top-level comprehension yields
// declares only fields with static labels (so it cannot yield a field
// `parameter`, or a definition, without countLabels seeing it).
func staticFields(x ast.Expr) bool {
	s, ok := x.(*ast.StructLit)
	if !ok {
		return false
	}
	for _, d := range s.Elts {
		switch d := d.(type) {
		case *ast.Field:
			if _, _, err := ast.LabelName(d.Label); err != nil {
				return false
			}
		case *ast.Comprehension:
			if !staticFields(d.Value) {
				return false
			}
		case *ast.EmbedDecl:
			return false
		}
	}
	return true
}

// countLabels counts the fields of each name anywhere in f.
func countLabels(f *ast.File) map[string]int {
	n := map[string]int{}
	ast.Walk(f, func(node ast.Node) bool {
		if fd, ok := node.(*ast.Field); ok {
			if l, _, err := ast.LabelName(fd.Label); err == nil {
				n[l]++
			}
		}
		return true
	}, nil)
	return n
}

// predeclared are the identifiers a schema may use without referring to
// a field.
var predeclared = map[string]bool{
	"_": true, "string": true, "bytes": true, "bool": true, "int": true,
	"float": true, "number": true, "null": true, "uint": true,
	"int8": true, "int16": true, "int32": true, "int64": true,
	"uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"float32": true, "float64": true, "rune": true,
}

// schemaCheck walks a parameter schema for plainParameter.
type schemaCheck struct {
	top     map[string]ast.Expr // top-level fields
	counts  map[string]int      // fields per name in the file
	checked map[string]bool     // definitions seen
}

// plain reports whether x (part of the parameter schema) adds fields only
// through static declarations.
func (c *schemaCheck) plain(x ast.Node) bool {
	ok := true
	ast.Walk(x, func(n ast.Node) bool {
		if !ok {
			return false
		}
		switch n := n.(type) {
		case *ast.Comprehension, *ast.LetClause, *ast.EmbedDecl, *ast.Interpolation, *ast.SelectorExpr, *ast.IndexExpr:
			ok = false
		case *ast.Field:
			// A pattern ([string]: X) constrains fields, never adds them.
			if _, isPattern := n.Label.(*ast.ListLit); !isPattern {
				_, _, err := ast.LabelName(n.Label)
				ok = err == nil
			}
			ok = ok && c.plain(n.Value)
			return false // the label is not a reference
		case *ast.Ident:
			ok = c.ident(n.Name)
		}
		return ok
	}, nil)
	return ok
}

// ident reports whether a reference in the schema is predeclared or a
// plain top-level definition, declared once.
func (c *schemaCheck) ident(name string) bool {
	def, isTop := c.top[name]
	switch {
	case predeclared[name] && c.counts[name] == 0:
		return true
	case !isTop || c.counts[name] != 1 || len(name) < 2 || name[0] != '#':
		return false
	case c.checked[name]:
		return true
	}
	c.checked[name] = true
	return c.plain(def)
}

// decodeParams decodes the evaluated parameter pv of t, filled with
// props.
func (t *Template) decodeParams(pv cue.Value, props map[string]any) (any, error) {
	if t.plainParameter && guidedDecode {
		if d, ok := decodeBySchema(pv, t.schema, props); ok {
			return d, nil
		}
	}
	return patch.Decode(pv)
}

// guidedDecode is off in tests that compare with decoding whole.
var guidedDecode = true

// decodeBySchema decodes the evaluated parameter v of a plainParameter
// template, guided by its schema s and the properties p it was filled
// with. ok is false when it cannot (a value is an error or not concrete):
// the caller then decodes v whole, which reports the problem.
func decodeBySchema(v cue.Value, s *paramSchema, p any) (out any, ok bool) {
	if s == nil || s.disj {
		return decodeWhole(v)
	}
	switch {
	case s.mask == cue.StructKind && v.Kind() == cue.StructKind:
		pm, _ := p.(map[string]any)
		return decodeStruct(v, s, pm)
	case s.mask == cue.ListKind && s.elem != nil && v.Kind() == cue.ListKind:
		pl, _ := p.([]any)
		return decodeList(v, s.elem, pl)
	}
	return decodeWhole(v)
}

func decodeStruct(v cue.Value, s *paramSchema, p map[string]any) (any, bool) {
	out := make(map[string]any, len(p)+len(s.order))
	field := func(name string, fs *paramSchema) bool {
		if _, done := out[name]; done {
			return true
		}
		fv := v.LookupPath(cue.MakePath(cue.Str(name)))
		if !fv.Exists() {
			return false
		}
		d, ok := decodeBySchema(fv, fs, p[name])
		out[name] = d
		return ok
	}
	for _, name := range s.order {
		if f := s.fields[name]; !f.optional && !field(name, f.s) {
			return nil, false
		}
	}
	for name := range p {
		fs := s.pattern
		if f, declared := s.fields[name]; declared {
			fs = f.s
		}
		if !field(name, fs) {
			return nil, false
		}
	}
	return out, true
}

func decodeList(v cue.Value, elem *paramSchema, p []any) (any, bool) {
	it, err := v.List()
	if err != nil {
		return nil, false
	}
	out := []any{}
	for i := 0; it.Next(); i++ {
		var pe any
		if i < len(p) {
			pe = p[i]
		}
		d, ok := decodeBySchema(it.Value(), elem, pe)
		if !ok {
			return nil, false
		}
		out = append(out, d)
	}
	return out, true
}

func decodeWhole(v cue.Value) (any, bool) {
	d, err := patch.Decode(v)
	return d, err == nil
}
