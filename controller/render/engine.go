package render

import (
	"context"
	"crypto/sha256"
	"fmt"
	"runtime"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"

	"github.com/velad-dev/velad/controller/definition"
)

// Renderer compiles definition templates once and caches them by content
// hash. It is safe for concurrent use. CUE values must not be evaluated
// concurrently, so a Renderer keeps a pool of evaluation engines, each
// with its own *cue.Context, compiled-template cache and evaluation
// cache: an engine is used by one goroutine at a time, and different
// engines evaluate in parallel (the components of one application, and
// applications rendered by concurrent reconciles).
type Renderer struct {
	// idle holds engines not in use; up to size engines are created,
	// lazily.
	idle    chan *engine
	mu      sync.Mutex // guards engines
	engines []*engine
	size    int

	memoMu sync.Mutex // guards memo
	memo   memo

	statuses *statusCache

	// sandbox, when set, checks untrusted templates against a render
	// budget before they are compiled or evaluated here (budget.go).
	sandbox *Sandbox
	// clusterVersion is context.clusterVersion (guarded by mu).
	clusterVersion ClusterVersion
}

// engine evaluates CUE for one goroutine at a time.
type engine struct {
	r     *Renderer
	cue   *cue.Context
	cache map[[32]byte]*Template
	// keys remembers the content hash of each template source, so that
	// looking a definition up does not hash its template again.
	keys  map[sourceKey][32]byte
	evals evalCache
	// noActions: a sandbox engine, which does not run template actions.
	noActions bool
}

// sourceKey identifies a template by its text. Comparing the text is
// cheap when it is the same string (as it is for an unchanged
// definition): only a different string of the same length is compared
// byte by byte.
type sourceKey struct {
	kind     definition.Kind
	template string
}

// maxCache bounds the number of compiled templates kept (per engine).
const maxCache = 1024

// maxEngines bounds the engines of a Renderer whatever GOMAXPROCS is:
// each holds its own compiled templates.
const maxEngines = 8

// NewRenderer returns an empty Renderer that evaluates on up to
// GOMAXPROCS (at most 8) engines in parallel.
func NewRenderer() *Renderer {
	return newRenderer(min(runtime.GOMAXPROCS(0), maxEngines))
}

func newRenderer(n int) *Renderer {
	n = max(n, 1)
	return &Renderer{idle: make(chan *engine, n), size: n, memo: newMemo(DefaultMemoSize), statuses: newStatusCache(),
		clusterVersion: EmbeddedClusterVersion()}
}

// acquire returns an engine for the caller's exclusive use until release.
func (r *Renderer) acquire(ctx context.Context) (*engine, error) {
	select {
	case e := <-r.idle:
		return e, nil
	default:
	}
	r.mu.Lock()
	if len(r.engines) < r.size {
		e := &engine{r: r, cue: cuecontext.New(), cache: map[[32]byte]*Template{}, keys: map[sourceKey][32]byte{}, evals: newEvalCache()}
		r.engines = append(r.engines, e)
		r.mu.Unlock()
		return e, nil
	}
	r.mu.Unlock()
	select {
	case e := <-r.idle:
		return e, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *Renderer) release(e *engine) { r.idle <- e }

// withEngine runs f on an engine.
func (r *Renderer) withEngine(f func(e *engine) error) error {
	e, err := r.acquire(context.Background())
	if err != nil {
		return err
	}
	defer r.release(e)
	return f(e)
}

// Template is a compiled definition template.
type Template struct {
	Def       *definition.Definition
	value     cue.Value // the template with `context: _` declared
	parameter cue.Value // the parameter schema; !Exists() when absent
	// schema digests parameter for property checks.
	schema *paramSchema
	// plainParameter: the evaluated parameter has the fields of schema
	// and of the properties, nothing else (see decodeBySchema).
	plainParameter bool
	// key is the content hash of the definition's kind and template.
	key [32]byte
	// use is what the template reads of context (nil: all of it).
	// Filling only that keeps big values like context.output out of
	// templates that never look at them.
	use *ctxUse
	// readsParameter: a status snippet that names parameter.
	readsParameter bool
	// actions: the template imports vela/helm; its actions run when it
	// is evaluated (actions.go).
	actions bool
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
func (r *Renderer) Compile(d *definition.Definition) (t *Template, err error) {
	err = r.withEngine(func(e *engine) error {
		t, err = e.compile(d)
		return err
	})
	return t, err
}

func (r *engine) compile(d *definition.Definition) (*Template, error) {
	key := r.sourceHash(d)
	if t, ok := r.cache[key]; ok {
		if t.Def == d {
			return t, nil
		}
		c := *t
		c.Def = d
		return &c, nil
	}
	if err := r.sandboxCheck(d, true, nil, nil); err != nil {
		return nil, err
	}
	v, f, err := r.build(d.Name+".cue", d.Template())
	if err != nil {
		return nil, fmt.Errorf("compile %s definition %q (%s): %w", d.Kind, d.Name, d.Source, err)
	}
	t := &Template{Def: d, value: v, parameter: v.LookupPath(pathParameter), use: contextUse(f), key: key, actions: len(velaImports(f)) > 0}
	if t.parameter.Exists() {
		t.schema = digest(t.parameter, 0)
		t.plainParameter = plainParameter(f)
	}
	if len(r.cache) >= maxCache {
		clear(r.cache) // definitions churned; recompile what is still used
	}
	r.cache[key] = t
	return t, nil
}

// sourceHash is the content hash of d's kind and template.
func (r *engine) sourceHash(d *definition.Definition) [32]byte {
	sk := sourceKey{d.Kind, d.Template()}
	if key, ok := r.keys[sk]; ok {
		return key
	}
	h := sha256.New()
	h.Write([]byte(sk.kind))
	h.Write([]byte{0})
	h.Write([]byte(sk.template))
	var key [32]byte
	h.Sum(key[:0])
	if len(r.keys) >= maxCache {
		clear(r.keys)
	}
	r.keys[sk] = key
	return key
}

// build compiles CUE source with a top-level `context: _` declared (unless
// the source declares context itself) so the template may reference
// context fields that are filled at render time.
func (r *engine) build(filename, src string) (cue.Value, *ast.File, error) {
	f, err := parser.ParseFile(filename, src, parser.ParseComments)
	if err != nil {
		return cue.Value{}, nil, fmt.Errorf("%s", definition.ErrorDetails(err))
	}
	if !declaresContext(f) {
		// Appended as text so the parser resolves references to it; the
		// lines of the source keep their numbers.
		if f, err = parser.ParseFile(filename, src+"\ncontext: _\n", parser.ParseComments); err != nil {
			return cue.Value{}, nil, fmt.Errorf("%s", definition.ErrorDetails(err))
		}
	}
	f = upgrade(f)
	var v cue.Value
	if imports := velaImports(f); len(imports) > 0 {
		if v, err = r.buildWithPackages(f, imports); err != nil {
			msg := definition.ErrorDetails(err)
			if msg == "" {
				msg = err.Error()
			}
			return cue.Value{}, nil, fmt.Errorf("%s", msg)
		}
	} else {
		v = r.cue.BuildFile(f)
	}
	// Validate ignores incomplete values: the template is incomplete until
	// context and parameter are filled.
	if err := v.Validate(); err != nil {
		return cue.Value{}, nil, fmt.Errorf("%s", definition.ErrorDetails(err))
	}
	return v, f, nil
}

// declaresContextIn reports whether the user's source (not our appended
// `context: _`) declares context: then it is used as a whole.
func declaresContextIn(f *ast.File) bool {
	n := 0
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.Field); ok {
			if name, _, _ := ast.LabelName(fd.Label); name == "context" {
				n++
			}
		}
	}
	return n > 1
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

// CacheLen is the number of distinct compiled templates (for tests): the
// union over the engines.
func (r *Renderer) CacheLen() int {
	keys := map[[32]byte]bool{}
	r.eachEngine(func(e *engine) {
		for k := range e.cache {
			keys[k] = true
		}
	})
	return len(keys)
}

// eachEngine runs f on every engine created so far, waiting for each to
// be idle.
func (r *Renderer) eachEngine(f func(e *engine)) {
	r.mu.Lock()
	n := len(r.engines)
	r.mu.Unlock()
	held := make([]*engine, 0, n)
	for range n {
		e := <-r.idle
		held = append(held, e)
		f(e)
	}
	for _, e := range held {
		r.release(e)
	}
}
