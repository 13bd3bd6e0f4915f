package render

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"
)

// Parameter schemas: a definition's `parameter` digested once per compiled
// template, and the check of an application's properties against it,
// which names the property at fault (paramdecode.go decodes the evaluated
// parameter; paramdoc.go describes parameters for people).

// paramSchema is a parameter schema digested once per compiled template, so
// that checking properties does not walk CUE values on every render.
type paramSchema struct {
	mask    cue.Kind
	disj    bool     // a disjunction: CUE decides which branch fits
	enum    []string // JSON of the allowed values of a scalar disjunction
	fields  map[string]*field
	order   []string
	pattern *paramSchema // [string]: X
	elem    *paramSchema // [...X]
}

type field struct {
	s        *paramSchema
	optional bool
	// required: no value, no default and not a struct whose own fields
	// may all be satisfied.
	required bool
}

// maxSchemaDepth bounds digesting recursive schemas; deeper values are
// left to CUE.
const maxSchemaDepth = 12

func digest(v cue.Value, depth int) *paramSchema {
	if depth > maxSchemaDepth || !v.Exists() {
		return nil
	}
	s := &paramSchema{mask: v.IncompleteKind()}
	if s.mask == cue.BottomKind || s.mask == cue.TopKind {
		return s
	}
	if isDisjunction(v) {
		s.disj = true
		s.enum, _ = enum(v)
		return s
	}
	switch s.mask {
	case cue.StructKind:
		it, err := v.Fields(cue.Optional(true))
		if err != nil {
			return &paramSchema{mask: cue.TopKind}
		}
		s.fields = map[string]*field{}
		for it.Next() {
			name := it.Selector().Unquoted()
			fv := it.Value()
			f := &field{s: digest(fv, depth+1), optional: it.Selector().ConstraintType() == cue.OptionalConstraint}
			if !f.optional {
				_, hasDefault := fv.Default()
				f.required = !hasDefault && !fv.IsConcrete() && !markedDefault(fv.Source()) &&
					!(fv.IncompleteKind() == cue.StructKind && !isDisjunction(fv))
			}
			s.fields[name] = f
			s.order = append(s.order, name)
		}
		if p := v.LookupPath(cue.MakePath(cue.AnyString)); p.Exists() {
			s.pattern = digest(p, depth+1)
		}
	case cue.ListKind:
		if e := v.LookupPath(cue.MakePath(cue.AnyIndex)); e.Exists() {
			s.elem = digest(e, depth+1)
		}
	}
	return s
}

// checkProperties validates decoded properties against a template's
// `parameter` schema before CUE sees them, so that errors can name the
// property and what was expected. Integers given for float parameters are
// converted. It returns the (possibly converted) properties.
func checkProperties(s *paramSchema, props map[string]any) (map[string]any, error) {
	if s == nil {
		return props, nil
	}
	out, err := checkValue(s, props, "")
	if err != nil {
		return nil, err
	}
	m, _ := out.(map[string]any)
	return m, nil
}

func checkValue(s *paramSchema, v any, path string) (any, error) {
	if s == nil || s.mask == cue.BottomKind || s.mask == cue.TopKind {
		return v, nil
	}
	kind := kindOf(v)
	if kind == cue.IntKind && s.mask&cue.IntKind == 0 && s.mask&cue.FloatKind != 0 {
		switch n := v.(type) {
		case int64:
			v, kind = float64(n), cue.FloatKind
		case int:
			v, kind = float64(n), cue.FloatKind
		}
	}
	if s.mask&kind == 0 {
		return nil, fmt.Errorf("property %q: expected %s, got %s", display(path), kindName(s.mask), describe(v))
	}
	if s.disj {
		if len(s.enum) > 0 && !containsValue(s.enum, v) {
			return nil, fmt.Errorf("property %q: must be one of %s, got %s", display(path), strings.Join(s.enum, ", "), describe(v))
		}
		return v, nil
	}
	switch x := v.(type) {
	case map[string]any:
		return checkStruct(s, x, path)
	case []any:
		if s.elem == nil {
			return v, nil
		}
		out := make([]any, len(x))
		for i, e := range x {
			r, err := checkValue(s.elem, e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

func checkStruct(s *paramSchema, m map[string]any, path string) (map[string]any, error) {
	out := make(map[string]any, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // report the first bad property deterministically
	for _, k := range keys {
		v := m[k]
		fs := s.pattern
		if f, ok := s.fields[k]; ok {
			fs = f.s
		} else if fs == nil {
			out[k] = v
			continue
		}
		r, err := checkValue(fs, v, join(path, k))
		if err != nil {
			return nil, err
		}
		out[k] = r
	}
	for _, name := range s.order {
		f := s.fields[name]
		if _, set := m[name]; set || f.optional {
			continue
		}
		if f.required {
			return nil, fmt.Errorf("property %q is required (%s)", display(join(path, name)), kindName(f.s.mask))
		}
		if f.s != nil && f.s.fields != nil {
			if _, err := checkStruct(f.s, map[string]any{}, join(path, name)); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// markedDefault reports whether an expression is a disjunction with a
// `*default` whose value depends on other fields (so Default cannot see it).
func markedDefault(n ast.Node) bool {
	found := false
	ast.Walk(n, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.UnaryExpr:
			if x.Op == token.MUL {
				found = true
			}
		case *ast.BinaryExpr:
			return x.Op == token.OR
		case *ast.Field:
			return true
		default:
			return n == nil
		}
		return false
	}, nil)
	return found
}

// enum returns the JSON forms of a disjunction of concrete scalars
// ("a" | "b" | *"c").
func enum(v cue.Value) ([]string, bool) {
	_, args := v.Expr()
	var out []string
	for _, a := range args {
		if d, ok := a.Default(); ok {
			a = d
		}
		if !a.IsConcrete() || a.IncompleteKind()&(cue.StructKind|cue.ListKind) != 0 {
			return nil, false
		}
		b, err := a.MarshalJSON()
		if err != nil {
			return nil, false
		}
		out = append(out, string(b))
	}
	return out, len(out) > 0
}

func containsValue(opts []string, v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		return false
	}
	for _, o := range opts {
		if o == string(b) {
			return true
		}
	}
	return false
}

func isDisjunction(v cue.Value) bool {
	op, _ := v.Expr()
	return op == cue.OrOp
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func display(path string) string {
	if path == "" {
		return "properties"
	}
	return path
}

func kindOf(v any) cue.Kind {
	switch v.(type) {
	case nil:
		return cue.NullKind
	case bool:
		return cue.BoolKind
	case string:
		return cue.StringKind
	case int64, int:
		return cue.IntKind
	case float64:
		return cue.FloatKind
	case map[string]any:
		return cue.StructKind
	case []any:
		return cue.ListKind
	}
	return cue.BottomKind
}

func kindName(k cue.Kind) string {
	switch k {
	case cue.StructKind:
		return "struct"
	case cue.ListKind:
		return "list"
	case cue.NumberKind:
		return "number"
	}
	return strings.Trim(k.String(), "()")
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%q (string)", x)
	case bool:
		return fmt.Sprintf("%v (bool)", x)
	case int64, int:
		return fmt.Sprintf("%v (int)", x)
	case float64:
		return fmt.Sprintf("%v (float)", x)
	case map[string]any:
		return "a struct"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%v", v)
}

// cueMessage renders the first CUE error as "path: message" with the
// given path prefix removed, without file positions.
func cueMessage(err error, trimPrefix string) string {
	errs := cueerrors.Errors(err)
	if len(errs) == 0 {
		return err.Error()
	}
	e := errs[0]
	format, args := e.Msg()
	msg := fmt.Sprintf(format, args...)
	if strings.Contains(format, "empty disjunction") && len(errs) > 1 {
		// "N errors in empty disjunction:" says nothing by itself: the
		// errors that follow say what each allowed form wanted.
		var why []string
		for _, sub := range errs[1:] {
			f, a := sub.Msg()
			why = append(why, fmt.Sprintf(f, a...))
		}
		msg = "matches none of the allowed values: " + strings.Join(why, "; ")
	}
	path := strings.Join(e.Path(), ".")
	path = strings.TrimPrefix(strings.TrimPrefix(path, trimPrefix), ".")
	if path == "" {
		return msg
	}
	return path + ": " + msg
}
