package render

import (
	"fmt"
	"path/filepath"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"

	"github.com/velad-dev/velad/controller/definition"
)

// Vet checks a definition file (`.cue`, or Kubernetes YAML holding
// definitions): it must parse, its header must be valid and its template
// must compile. Errors of `.cue` files point at lines of the file itself.
func (r *Renderer) Vet(filename string, data []byte) ([]*definition.Definition, error) {
	defs, err := definition.ParseFile(filename, data)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(filepath.Ext(filename), ".cue") {
		if err := r.vetCUEFile(filename, data); err != nil {
			return nil, err
		}
		return defs, nil
	}
	for _, d := range defs {
		if _, err := r.Compile(d); err != nil {
			return nil, err
		}
	}
	return defs, nil
}

// vetCUEFile compiles the whole file with `context: _` declared at the
// start of the template (on the line of its brace, so line numbers stay).
func (r *Renderer) vetCUEFile(filename string, data []byte) error {
	f, err := parser.ParseFile(filename, data, parser.ParseComments)
	if err != nil {
		return fmt.Errorf("%s", definition.ErrorDetails(err))
	}
	at := -1
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.Field); ok {
			if n, _, _ := ast.LabelName(fd.Label); n == "template" {
				if s, ok := fd.Value.(*ast.StructLit); ok && s.Lbrace.IsValid() {
					at = s.Lbrace.Offset() + 1
				}
			}
		}
	}
	if at < 0 || at > len(data) {
		return fmt.Errorf("%s: no template: want `template: { ... }`", filename)
	}
	src := string(data[:at]) + " context: _, parameter: _, " + string(data[at:])
	return r.withEngine(func(e *engine) error {
		_, _, err := e.build(filename, src)
		return err
	})
}
