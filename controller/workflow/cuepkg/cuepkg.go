// Package cuepkg holds the `vela/*` CUE packages step templates import
// (vela/op, vela/kube, vela/builtin, vela/http, vela/util, vela/config)
// and compiles a template with them. The packages only describe actions
// (`#provider`, `#do`, `$params`, `$returns`); the workflow engine runs
// them.
package cuepkg

import (
	"embed"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/parser"
)

//go:embed *.cue
var files embed.FS

// Prefix of the import paths of the packages.
const Prefix = "vela/"

var (
	once    sync.Once
	sources map[string]string // import path → source
)

func load() {
	sources = map[string]string{}
	entries, _ := files.ReadDir(".")
	for _, e := range entries {
		data, err := files.ReadFile(e.Name())
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		sources[Prefix+strings.TrimSuffix(e.Name(), ".cue")] = string(data)
	}
}

// Packages lists the import paths of the packages, sorted.
func Packages() []string {
	once.Do(load)
	out := make([]string, 0, len(sources))
	for p := range sources {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Source returns the CUE source of package importPath.
func Source(importPath string) (string, bool) {
	once.Do(load)
	s, ok := sources[importPath]
	return s, ok
}

// IsPackage reports whether importPath is one of the vela/* packages
// (known or not): those are resolved here, the rest by CUE's standard
// library.
func IsPackage(importPath string) bool { return strings.HasPrefix(importPath, Prefix) }

// Build compiles f (a parsed step template) in ctx with the vela/*
// packages it imports. An unknown vela/* package is an error naming the
// packages there are.
func Build(ctx *cue.Context, f *ast.File) (cue.Value, error) {
	inst := build.NewContext().NewInstance("", nil)
	if err := inst.AddSyntax(f); err != nil {
		return cue.Value{}, err
	}
	seen := map[string]bool{}
	// names maps the identifier a package is imported as to its path.
	names := map[string]string{}
	for spec := range f.ImportSpecs() {
		p, err := strconv.Unquote(spec.Path.Value)
		if err != nil || !IsPackage(p) || seen[p] {
			continue
		}
		seen[p] = true
		name := path.Base(p)
		if spec.Name != nil {
			name = spec.Name.Name
		}
		names[name] = p
		src, ok := Source(p)
		if !ok {
			return cue.Value{}, fmt.Errorf("import %q: no such package (velad has %s)", p, strings.Join(Packages(), ", "))
		}
		pf, err := parser.ParseFile(p+".cue", src, parser.ParseComments)
		if err != nil {
			return cue.Value{}, fmt.Errorf("package %s: %w", p, err)
		}
		pi := build.NewContext().NewInstance(p, nil)
		pi.ImportPath = p
		pi.PkgName = path.Base(p)
		if err := pi.AddSyntax(pf); err != nil {
			return cue.Value{}, err
		}
		inst.Imports = append(inst.Imports, pi)
	}
	if err := checkRefs(ctx, f, names); err != nil {
		return cue.Value{}, err
	}
	v := ctx.BuildInstance(inst)
	return v, v.Err()
}

// checkRefs reports a reference to a definition a vela/* package does
// not have (CUE would only leave the field incomplete).
func checkRefs(ctx *cue.Context, f *ast.File, names map[string]string) error {
	if len(names) == 0 {
		return nil
	}
	pkgs := map[string]cue.Value{}
	var err error
	ast.Walk(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok || err != nil {
			return err == nil
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		p, ok := names[id.Name]
		if !ok {
			return true
		}
		pv, ok := pkgs[p]
		if !ok {
			src, _ := Source(p)
			pv = ctx.CompileString(src)
			pkgs[p] = pv
		}
		label, _, lerr := ast.LabelName(sel.Sel)
		if lerr != nil {
			return true
		}
		lp := cue.ParsePath(label)
		if lp.Err() == nil && !pv.LookupPath(lp).Exists() {
			err = fmt.Errorf("%s: %s.%s: package %s has no %s", sel.Pos(), id.Name, label, p, label)
		}
		return true
	}, nil)
	return err
}
