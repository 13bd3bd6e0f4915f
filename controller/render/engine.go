// Package render turns an Application into Kubernetes objects by
// evaluating the CUE templates of its component and trait definitions.
// It needs no cluster: definitions come from a definition.Source and the
// result is plain unstructured objects for a controller (or dry-run) to
// apply.
package render

import (
	"crypto/sha256"
	"fmt"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"

	"github.com/velad-dev/velad/controller/definition"
)

// Renderer compiles definition templates once and caches them by content
// hash. It is safe for concurrent use: CUE evaluation is serialised by a
// mutex because CUE values must not be evaluated concurrently.
type Renderer struct {
	mu    sync.Mutex
	cue   *cue.Context
	cache map[[32]byte]*Template
}

// NewRenderer returns an empty Renderer.
func NewRenderer() *Renderer {
	return &Renderer{cue: cuecontext.New(), cache: map[[32]byte]*Template{}}
}

// Template is a compiled definition template.
type Template struct {
	Def       *definition.Definition
	value     cue.Value // the template with `context: _` declared
	parameter cue.Value // the parameter schema; !Exists() when absent
}

var (
	pathContext   = cue.ParsePath("context")
	pathParameter = cue.ParsePath("parameter")
	pathOutput    = cue.ParsePath("output")
	pathOutputs   = cue.ParsePath("outputs")
	pathPatch     = cue.ParsePath("patch")
	pathPatchOuts = cue.ParsePath("patchOutputs")
	pathErrs      = cue.ParsePath("errs")
)

// Compile returns the compiled template of d, from the cache when a
// definition with the same kind and template was compiled before.
func (e *Renderer) Compile(d *definition.Definition) (*Template, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.compile(d)
}

func (e *Renderer) compile(d *definition.Definition) (*Template, error) {
	key := sha256.Sum256([]byte(string(d.Kind) + "\x00" + d.Template()))
	if t, ok := e.cache[key]; ok {
		if t.Def == d {
			return t, nil
		}
		return &Template{Def: d, value: t.value, parameter: t.parameter}, nil
	}
	v, err := e.build(d.Name+".cue", d.Template())
	if err != nil {
		return nil, fmt.Errorf("compile %s definition %q (%s): %w", d.Kind, d.Name, d.Source, err)
	}
	t := &Template{Def: d, value: v, parameter: v.LookupPath(pathParameter)}
	e.cache[key] = t
	return t, nil
}

// build compiles CUE source with a top-level `context: _` declared (unless
// the source declares context itself) so the template may reference
// context fields that are filled at render time.
func (e *Renderer) build(filename, src string) (cue.Value, error) {
	f, err := parser.ParseFile(filename, src, parser.ParseComments)
	if err != nil {
		return cue.Value{}, fmt.Errorf("%s", definition.ErrorDetails(err))
	}
	if !declaresContext(f) {
		// Appended as text so the parser resolves references to it; the
		// lines of the source keep their numbers.
		if f, err = parser.ParseFile(filename, src+"\ncontext: _\n", parser.ParseComments); err != nil {
			return cue.Value{}, fmt.Errorf("%s", definition.ErrorDetails(err))
		}
	}
	v := e.cue.BuildFile(f)
	// Validate ignores incomplete values: the template is incomplete until
	// context and parameter are filled.
	if err := v.Validate(); err != nil {
		return cue.Value{}, fmt.Errorf("%s", definition.ErrorDetails(err))
	}
	return v, nil
}

func declaresContext(f *ast.File) bool {
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.Field); ok {
			if n, _, _ := ast.LabelName(fd.Label); n == "context" {
				return true
			}
		}
	}
	return false
}

// CacheLen is the number of distinct compiled templates (for tests).
func (e *Renderer) CacheLen() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.cache)
}
