package render

import (
	"encoding/json"
	"fmt"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"
)

// checkProperties validates decoded properties against a template's
// `parameter` schema before CUE sees them, so that errors can name the
// property and what was expected. Integers given for float parameters are
// converted. It returns the (possibly converted) properties.
func checkProperties(schema cue.Value, props map[string]any) (map[string]any, error) {
	if !schema.Exists() {
		return props, nil
	}
	out, err := checkValue(schema, props, "")
	if err != nil {
		return nil, err
	}
	m, _ := out.(map[string]any)
	return m, nil
}

func checkValue(schema cue.Value, v any, path string) (any, error) {
	mask := schema.IncompleteKind()
	if mask == cue.BottomKind || mask == cue.TopKind {
		return v, nil
	}
	kind := kindOf(v)
	if kind == cue.IntKind && mask&cue.IntKind == 0 && mask&cue.FloatKind != 0 {
		v, kind = float64(v.(int64)), cue.FloatKind
	}
	if mask&kind == 0 {
		return nil, fmt.Errorf("property %q: expected %s, got %s", display(path), kindName(mask), describe(v))
	}
	if isDisjunction(schema) {
		if opts, ok := enum(schema); ok && !containsValue(opts, v) {
			return nil, fmt.Errorf("property %q: must be one of %s, got %s", display(path), strings.Join(opts, ", "), describe(v))
		}
		return v, nil // CUE checks which branch fits
	}
	switch x := v.(type) {
	case map[string]any:
		return checkStruct(schema, x, path)
	case []any:
		elem := schema.LookupPath(cue.MakePath(cue.AnyIndex))
		if !elem.Exists() {
			return v, nil
		}
		out := make([]any, len(x))
		for i, e := range x {
			r, err := checkValue(elem, e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

func checkStruct(schema cue.Value, m map[string]any, path string) (any, error) {
	fields := map[string]cue.Value{}
	var order []string
	optional := map[string]bool{}
	it, err := schema.Fields(cue.Optional(true))
	if err != nil {
		return m, nil
	}
	for it.Next() {
		name := it.Selector().Unquoted()
		fields[name] = it.Value()
		order = append(order, name)
		optional[name] = it.Selector().ConstraintType() == cue.OptionalConstraint
	}
	pattern := schema.LookupPath(cue.MakePath(cue.AnyString))
	out := make(map[string]any, len(m))
	for k, v := range m {
		fs, ok := fields[k]
		if !ok {
			if !pattern.Exists() {
				out[k] = v
				continue
			}
			fs = pattern
		}
		r, err := checkValue(fs, v, join(path, k))
		if err != nil {
			return nil, err
		}
		out[k] = r
	}
	for _, name := range order {
		if _, set := m[name]; set || optional[name] {
			continue
		}
		if err := checkRequired(fields[name], join(path, name)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkRequired reports a regular field that has no value, no default and
// is not a struct whose own fields are all satisfied.
func checkRequired(f cue.Value, path string) error {
	if _, ok := f.Default(); ok || f.IsConcrete() || markedDefault(f.Source()) {
		if f.IncompleteKind() == cue.StructKind && !isDisjunction(f) {
			_, err := checkStruct(f, map[string]any{}, path)
			return err
		}
		return nil
	}
	if f.IncompleteKind() == cue.StructKind && !isDisjunction(f) {
		_, err := checkStruct(f, map[string]any{}, path)
		return err
	}
	return fmt.Errorf("property %q is required (%s)", display(path), kindName(f.IncompleteKind()))
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
	path := strings.Join(e.Path(), ".")
	path = strings.TrimPrefix(strings.TrimPrefix(path, trimPrefix), ".")
	if path == "" {
		return msg
	}
	return path + ": " + msg
}
