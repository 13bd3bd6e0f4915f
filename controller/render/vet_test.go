package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Step definitions written as KubeVela's are (vela/op, vela/kube,
// vela/builtin, vela/http, vela/util, vela/config; .cue files and
// WorkflowStepDefinition YAML) vet; an unknown
// action or package is an error saying which.
func TestVetStepDefinitions(t *testing.T) {
	files, _ := filepath.Glob("testdata/steps/*")
	if len(files) == 0 {
		t.Fatal("no step definitions in testdata/steps")
	}
	want := map[string]string{
		"bad-action.cue":  "package vela/builtin has no #Teleport",
		"bad-package.cue": `import "vela/nowhere": no such package`,
	}
	r := NewRenderer()
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.Vet(f, data)
			if w := want[filepath.Base(f)]; w != "" {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want %q", err, w)
				}
				return
			}
			if err != nil {
				t.Errorf("vet: %v", err)
			}
		})
	}
}
