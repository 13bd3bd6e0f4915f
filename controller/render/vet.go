package render

import (
	"fmt"
	"path/filepath"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"

	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/workflow/cuepkg"
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
		if err := r.vetCUEFile(filename, data, len(defs) > 0 && defs[0].Kind == definition.KindWorkflowStep); err != nil {
			return nil, err
		}
		return defs, nil
	}
	for _, d := range defs {
		if d.Kind == definition.KindWorkflowStep {
			if err := vetStep(d.Name+".cue", d.Template()); err != nil {
				return nil, fmt.Errorf("workflow-step %q: %w", d.Name, err)
			}
			continue
		}
		if _, err := r.Compile(d); err != nil {
			return nil, err
		}
	}
	return defs, nil
}

// vetCUEFile compiles the whole file with `context: _` declared at the
// start of the template (on the line of its brace, so line numbers stay).
// A workflow-step file is compiled with the vela/* packages its template
// imports (step templates run in the workflow engine).
func (r *Renderer) vetCUEFile(filename string, data []byte, step bool) error {
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
	if step {
		return vetStep(filename, src)
	}
	return r.withEngine(func(e *engine) error {
		_, _, err := e.build(filename, src)
		return err
	})
}

// vetStep compiles a step template (or a whole step definition file)
// with the vela/* packages.
func vetStep(filename, src string) error {
	if !strings.Contains(src, "context:") {
		src += "\ncontext: _\n"
	}
	f, err := parser.ParseFile(filename, src, parser.ParseComments)
	if err != nil {
		return fmt.Errorf("%s", definition.ErrorDetails(err))
	}
	v, err := cuepkg.Build(cuecontext.New(), f)
	if err == nil {
		err = v.Validate()
	}
	if err != nil {
		if d := definition.ErrorDetails(err); d != "" {
			return fmt.Errorf("%s", d)
		}
		return err
	}
	return nil
}
