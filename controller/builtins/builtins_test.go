package builtins

import (
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/velad-dev/velad/controller/definition"
)

// TestEveryFileInItsKindsFolder checks the layout: every .cue file of the
// package sits directly in the folder of its kind (a file elsewhere would
// not be embedded, and so silently not be a built-in), and is named after
// its definition.
func TestEveryFileInItsKindsFolder(t *testing.T) {
	kindOf := map[string]definition.Kind{}
	for _, k := range definition.Kinds {
		kindOf[Folder(k)] = k
	}
	files := map[string]bool{}
	err := fs.WalkDir(os.DirFS("."), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".cue") {
			return err
		}
		if _, ok := kindOf[path.Dir(p)]; !ok {
			t.Errorf("%s: a built-in belongs in the folder of its kind: component/, trait/, policy/ or workflowstep/", p)
		}
		files[p] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defs, err := Parse()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range defs {
		p := path.Join(Folder(d.Kind), d.Name+".cue")
		if !files[p] {
			t.Errorf("%s %q: want it in %s", d.Kind, d.Name, p)
		}
		delete(files, p)
	}
	for p := range files {
		t.Errorf("%s: not loaded as a built-in (is it named after its definition?)", p)
	}
	if len(defs) == 0 {
		t.Fatal("no built-in definitions")
	}
}
