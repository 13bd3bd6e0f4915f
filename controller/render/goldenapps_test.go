package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/internal/charttest"
)

// GoldenApp is an app of testdata/ with the definitions it renders with
// (the built-ins, plus testdata/defs/NAME when present) and its golden
// file. (Exported for the render_test package's tests.)
type GoldenApp struct {
	Name, Path, Golden string
	Data               []byte
	Defs               definition.Source
	// ChartRepo is the URL of the charttest.Repo that stands for
	// charttest.Placeholder in Data ("" when Data has none).
	ChartRepo string
}

// GoldenApps loads every testdata/*.yaml app but the golden files.
func GoldenApps(t testing.TB) []GoldenApp {
	t.Helper()
	paths, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	builtins, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	var apps []GoldenApp
	for _, in := range paths {
		if strings.HasSuffix(in, ".golden.yaml") {
			continue
		}
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(in), ".yaml")
		var chartRepo string
		if strings.Contains(string(data), charttest.Placeholder) {
			chartRepo = charttest.Repo(t)
			data = []byte(strings.ReplaceAll(string(data), charttest.Placeholder, chartRepo))
		}
		var src definition.Source = builtins
		if extra := filepath.Join("testdata", "defs", name); isDir(extra) {
			defs, err := definition.LoadPaths(extra)
			if err != nil {
				t.Fatal(err)
			}
			src = definition.Chain{definition.NewSet(defs...), builtins}
		}
		apps = append(apps, GoldenApp{Name: name, Path: in, Golden: strings.TrimSuffix(in, ".yaml") + ".golden.yaml", Data: data, Defs: src, ChartRepo: chartRepo})
	}
	return apps
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// Normalize turns the URL of the app's charttest.Repo in got back into
// charttest.Placeholder, as the golden file has it.
func (ga GoldenApp) Normalize(got string) string {
	if ga.ChartRepo == "" {
		return got
	}
	return strings.ReplaceAll(got, ga.ChartRepo, charttest.Placeholder)
}
