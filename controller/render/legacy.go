package render

import (
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/ast/astutil"
	"cuelang.org/go/cue/token"
	"cuelang.org/go/tools/fix"
)

// Legacy list arithmetic. CUE before v0.11 added and multiplied lists
// (`a + b`, `a * 3`); many of KubeVela's definitions still do, and
// KubeVela loads them. CUE now refuses both ("Addition of lists is
// superseded by list.Concat"). upgrade rewrites them, before compiling,
// into list.Concat([a, b]) and list.Repeat(a, 3):
//
//   - where an operand is a list literal, `cue fix` does it (fix.File);
//   - where an operand is a reference to a field whose declared value is
//     a list (a literal, `[...T]`, `*[] | [...T]`, a list.* or
//     strings.Split call), the reference is first turned into a list
//     literal, `[for x in ref {x}]`, which fix.File then rewrites.
//
// Operands whose type only evaluation knows (a field of a context, an
// index into a list) are left alone: CUE's error then names the line and
// list.Concat / list.Repeat.

// legacyElem names the element in the comprehension that stands for a
// list reference.
const legacyElem = "legacyListElem"

// maxListDepth bounds how far references are followed.
const maxListDepth = 8

// upgrade rewrites legacy list arithmetic (see above). A template it
// cannot rewrite is returned as it was.
func upgrade(f *ast.File) (out *ast.File) {
	defer func() {
		if recover() != nil {
			out = f
		}
	}()
	astutil.Apply(f, func(c astutil.Cursor) bool {
		b, ok := c.Node().(*ast.BinaryExpr)
		if !ok || b.Op != token.ADD && b.Op != token.MUL {
			return true
		}
		b.X = asListLiteral(b.X)
		if b.Op == token.ADD || !isListExpr(b.X, 0) {
			b.Y = asListLiteral(b.Y)
		}
		return true
	}, nil)
	return fix.File(f)
}

// asListLiteral turns a reference to a list into a list literal; other
// expressions stay as they are.
func asListLiteral(x ast.Expr) ast.Expr {
	switch x.(type) {
	case *ast.Ident, *ast.SelectorExpr:
	default:
		return x
	}
	if !isListExpr(x, 0) {
		return x
	}
	elem := ast.NewIdent(legacyElem)
	return &ast.ListLit{Elts: []ast.Expr{&ast.Comprehension{
		Clauses: []ast.Clause{&ast.ForClause{Value: ast.NewIdent(legacyElem), Source: x}},
		Value:   &ast.StructLit{Elts: []ast.Decl{&ast.EmbedDecl{Expr: elem}}},
	}}}
}

// isListExpr reports whether x is declared as a list.
func isListExpr(x ast.Expr, depth int) bool {
	if depth > maxListDepth || x == nil {
		return false
	}
	switch x := x.(type) {
	case *ast.ListLit:
		return true
	case *ast.ParenExpr:
		return isListExpr(x.X, depth+1)
	case *ast.UnaryExpr: // *default
		return x.Op == token.MUL && isListExpr(x.X, depth+1)
	case *ast.BinaryExpr:
		if x.Op == token.OR || x.Op == token.AND {
			return isListExpr(x.X, depth+1) || isListExpr(x.Y, depth+1)
		}
	case *ast.Ident:
		if v, ok := x.Node.(ast.Expr); ok {
			return isListExpr(v, depth+1)
		}
	case *ast.SelectorExpr:
		if v := fieldValue(x, depth+1); v != nil {
			return isListExpr(v, depth+1)
		}
	case *ast.CallExpr:
		return listCall(x)
	}
	return false
}

// fieldValue is the declared value of the field a.b names, when a is
// declared as a struct literal.
func fieldValue(sel *ast.SelectorExpr, depth int) ast.Expr {
	if depth > maxListDepth {
		return nil
	}
	var parent ast.Expr
	switch x := sel.X.(type) {
	case *ast.Ident:
		parent, _ = x.Node.(ast.Expr)
	case *ast.SelectorExpr:
		parent = fieldValue(x, depth+1)
	}
	s, ok := parent.(*ast.StructLit)
	if !ok {
		return nil
	}
	name, _, err := ast.LabelName(sel.Sel)
	if err != nil {
		return nil
	}
	for _, d := range s.Elts {
		if f, ok := d.(*ast.Field); ok {
			if n, _, err := ast.LabelName(f.Label); err == nil && n == name {
				return f.Value
			}
		}
	}
	return nil
}

// listCall reports whether a call returns a list: list.*, strings.Split,
// strings.SplitN, strings.Fields.
func listCall(c *ast.CallExpr) bool {
	s, ok := c.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := s.X.(*ast.Ident)
	if !ok {
		return false
	}
	fn, _, _ := ast.LabelName(s.Sel)
	switch pkg.Name {
	case "list":
		switch fn {
		case "Concat", "Repeat", "FlattenN", "Sort", "SortStrings", "SortStable", "Take", "Drop", "Slice", "Range", "Reverse":
			return true
		}
	case "strings":
		switch fn {
		case "Split", "SplitN", "Fields", "SplitAfter", "SplitAfterN":
			return true
		}
	}
	return false
}
