// Package builtins embeds velad's built-in X-Definitions, written in
// the `.cue` definition file format: the component, trait, policy and
// workflow step types users know from KubeVela.
package builtins

import (
	"embed"
	"fmt"
	"io/fs"
	"sync"

	"github.com/velad-dev/velad/controller/definition"
)

//go:embed *.cue
var files embed.FS

// Source is the Definition.Source of built-ins.
const Source = "built-in"

// FS returns the embedded `.cue` files.
func FS() fs.FS { return files }

var (
	once sync.Once
	set  *definition.Set
	err  error
)

// Load parses the built-in definitions (once) and returns them as a
// definition.Source. The returned Set must not be modified.
func Load() (*definition.Set, error) {
	once.Do(func() {
		defs, lerr := definition.LoadFS(files, Source)
		if lerr != nil {
			err = fmt.Errorf("load built-in definitions: %w", lerr)
			return
		}
		set = definition.NewSet(defs...)
	})
	return set, err
}
