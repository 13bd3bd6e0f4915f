// Package builtins embeds velad's built-in X-Definitions, written in
// the `.cue` definition file format: the component, trait, policy and
// workflow step types users know from KubeVela.
//
// Each kind has its own folder, as in KubeVela's templates:
//
//	component/     ComponentDefinitions (webservice, worker, task, ...)
//	trait/         TraitDefinitions (scaler, gateway, env, ...)
//	policy/        PolicyDefinitions (topology, override, ...)
//	workflowstep/  WorkflowStepDefinitions (deploy, suspend, ...)
//
// A new built-in is one `.cue` file in its kind's folder, named after the
// definition, with a golden app in controller/render/testdata.
package builtins

import (
	"embed"
	"fmt"
	"io/fs"
	"sync"

	"github.com/velad-dev/velad/controller/definition"
)

//go:embed component trait policy workflowstep
var files embed.FS

// Source is the Definition.Source of built-ins.
const Source = "built-in"

// folders names the folder of each kind's built-ins.
var folders = map[definition.Kind]string{
	definition.KindComponent:    "component",
	definition.KindTrait:        "trait",
	definition.KindPolicy:       "policy",
	definition.KindWorkflowStep: "workflowstep",
}

// Folder is the folder (in this package) of the built-ins of kind k.
func Folder(k definition.Kind) string { return folders[k] }

// Parse parses the built-in definitions anew at every call (Load parses
// them once). A file in another kind's folder is an error.
func Parse() ([]*definition.Definition, error) {
	var out []*definition.Definition
	for _, k := range definition.Kinds {
		dir := Folder(k)
		sub, err := fs.Sub(files, dir)
		if err != nil {
			return nil, err
		}
		defs, err := definition.LoadFS(sub, Source)
		if err != nil {
			return nil, fmt.Errorf("%s/: %w", dir, err)
		}
		for _, d := range defs {
			if d.Kind != k {
				return nil, fmt.Errorf("%s/: %q is a %s definition: move its file to %s/", dir, d.Name, d.Kind, Folder(d.Kind))
			}
		}
		out = append(out, defs...)
	}
	return out, nil
}

var (
	once sync.Once
	set  *definition.Set
	err  error
)

// Load parses the built-in definitions (once) and returns them as a
// definition.Source. The returned Set must not be modified.
func Load() (*definition.Set, error) {
	once.Do(func() {
		defs, lerr := Parse()
		if lerr != nil {
			err = fmt.Errorf("load built-in definitions: %w", lerr)
			return
		}
		set = definition.NewSet(defs...)
	})
	return set, err
}
