package render

import (
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"
)

// ctxUse is the part of context a template reads, as a tree of field
// selections: context.output.spec.template.spec.containers keeps only that
// path of context.output. Filling a trait with the whole rendered workload
// would make CUE convert and evaluate all of it on every render.
type ctxUse struct {
	// whole: the value is used as it is (passed on, iterated, indexed,
	// compared): keep all of it.
	whole bool
	// exists: the value is only tested with `!= _|_` or `== _|_`: any
	// concrete value of the same kind answers alike.
	exists bool
	fields map[string]*ctxUse
}

// contextUse returns what a template reads of context, or nil when it uses
// context in a way the tree cannot describe (passes it whole, declares it
// itself): then all of context is filled.
func contextUse(f *ast.File) *ctxUse {
	if declaresContextIn(f) {
		return nil
	}
	root := &ctxUse{}
	labels := map[ast.Node]bool{}
	ast.Walk(f, func(n ast.Node) bool {
		if x, ok := n.(*ast.Field); ok {
			labels[x.Label] = true
		}
		return true
	}, nil)
	ok := true
	ast.Walk(f, func(n ast.Node) bool {
		if !ok {
			return false
		}
		switch x := n.(type) {
		case *ast.BinaryExpr:
			if x.Op != token.EQL && x.Op != token.NEQ {
				return true
			}
			// `context.a.b != _|_` only asks whether a.b exists.
			for _, pair := range [2][2]ast.Expr{{x.X, x.Y}, {x.Y, x.X}} {
				if !isBottom(pair[1]) {
					continue
				}
				if path, isCtx := contextPath(pair[0]); isCtx {
					if path == nil {
						ok = false
						return false
					}
					root.add(path).exists = true
					return false
				}
			}
		case *ast.SelectorExpr:
			path, isCtx := contextPath(x)
			if !isCtx {
				return true
			}
			if path == nil {
				ok = false
				return false
			}
			root.add(path).whole = true
			return false // the selectors beneath are part of this path
		case *ast.Ident:
			if x.Name == "context" && !labels[x] {
				ok = false // context itself is used as a value
			}
		}
		return true
	}, nil)
	if !ok {
		return nil
	}
	return root
}

// contextPath returns the field names of a selector chain rooted at the
// identifier context (context.a.b → [a b]); isCtx is false when x is not
// such a chain, path nil when a selector is not a plain field name.
func contextPath(x ast.Expr) (path []string, isCtx bool) {
	for {
		switch e := x.(type) {
		case *ast.ParenExpr:
			x = e.X
			continue
		case *ast.SelectorExpr:
			name, _, err := ast.LabelName(e.Sel)
			if err != nil {
				if _, isCtx := contextPath(e.X); isCtx {
					return nil, true
				}
				return nil, false
			}
			path = append(path, name)
			x = e.X
			continue
		case *ast.Ident:
			if e.Name != "context" || len(path) == 0 {
				return nil, false
			}
			for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
				path[i], path[j] = path[j], path[i]
			}
			return path, true
		}
		return nil, false
	}
}

func isBottom(x ast.Expr) bool {
	for {
		p, ok := x.(*ast.ParenExpr)
		if !ok {
			break
		}
		x = p.X
	}
	_, ok := x.(*ast.BottomLit)
	return ok
}

func (u *ctxUse) add(path []string) *ctxUse {
	for _, name := range path {
		if u.fields == nil {
			u.fields = map[string]*ctxUse{}
		}
		c := u.fields[name]
		if c == nil {
			c = &ctxUse{}
			u.fields[name] = c
		}
		u = c
	}
	return u
}

// prune returns the part of the context m that u reads. m is not modified;
// values kept whole are shared with it.
func (u *ctxUse) prune(m map[string]any) map[string]any {
	out := make(map[string]any, len(u.fields))
	for k, c := range u.fields {
		if v, ok := m[k]; ok {
			out[k] = c.pruneValue(v)
		}
	}
	return out
}

func (u *ctxUse) pruneValue(v any) any {
	if u.whole {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		if len(u.fields) == 0 {
			return map[string]any{} // only tested for existence
		}
		return u.prune(x)
	case []any:
		if len(u.fields) == 0 {
			return []any{}
		}
	}
	// A scalar, or a list selected into (an error CUE reports as before).
	return v
}
