package render

import (
	"fmt"
	"sort"
	"strconv"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/token"
)

// toAST turns JSON-like Go data into a CUE expression.
func toAST(v any) (ast.Expr, error) {
	switch x := v.(type) {
	case nil:
		return ast.NewNull(), nil
	case bool:
		return ast.NewBool(x), nil
	case string:
		return &ast.BasicLit{Kind: token.STRING, Value: literal.String.Quote(x)}, nil
	case int64:
		return &ast.BasicLit{Kind: token.INT, Value: strconv.FormatInt(x, 10)}, nil
	case int:
		return &ast.BasicLit{Kind: token.INT, Value: strconv.Itoa(x)}, nil
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			s += ".0" // keep it a CUE float
		}
		return &ast.BasicLit{Kind: token.FLOAT, Value: s}, nil
	case []any:
		elts := make([]ast.Expr, len(x))
		for i, e := range x {
			a, err := toAST(e)
			if err != nil {
				return nil, err
			}
			elts[i] = a
		}
		return &ast.ListLit{Elts: elts}, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		elts := make([]ast.Decl, len(keys))
		for i, k := range keys {
			a, err := toAST(x[k])
			if err != nil {
				return nil, err
			}
			elts[i] = &ast.Field{Label: ast.NewString(k), Value: a}
		}
		return &ast.StructLit{Elts: elts}, nil
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return toAST(m)
	}
	return nil, fmt.Errorf("cannot convert %T to CUE", v)
}
