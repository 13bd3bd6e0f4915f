package render_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/definitions"
	"github.com/velad-dev/velad/controller/render"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestGolden renders every testdata/*.yaml app (except *.golden.yaml) with
// the built-ins plus testdata/defs, and compares with NAME.golden.yaml.
func TestGolden(t *testing.T) {
	apps, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	builtins, err := definitions.Load()
	if err != nil {
		t.Fatal(err)
	}
	r := render.NewRenderer()
	for _, in := range apps {
		if strings.HasSuffix(in, ".golden.yaml") {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(in), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			app, err := render.ParseApplication(data)
			if err != nil {
				t.Fatal(err)
			}
			var src definition.Source = builtins
			if extra := filepath.Join("testdata", "defs", name); dirExists(extra) {
				defs, err := definition.LoadPaths(extra)
				if err != nil {
					t.Fatal(err)
				}
				src = definition.Chain{definition.NewSet(defs...), builtins}
			}
			comps, err := r.RenderApp(context.Background(), app, src, render.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := render.WriteYAML(&got, app, comps); err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(in, ".yaml") + ".golden.yaml"
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./controller/... -update to create it)", err)
			}
			if got.String() != string(want) {
				t.Errorf("rendered YAML differs from %s (run with -update to accept):\n%s", golden, diff(string(want), got.String()))
			}
		})
	}
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// diff shows the first differing lines.
func diff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + itoa(i+1) + ":\n- " + w + "\n+ " + g
		}
	}
	return "(no line differs)"
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			break
		}
	}
	return string(b[n:])
}
