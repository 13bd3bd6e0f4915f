package render_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/velad-dev/velad/controller/render"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestGolden renders every testdata/*.yaml app (except *.golden.yaml) with
// the built-ins plus testdata/defs as velad dry-run does, and compares with
// NAME.golden.yaml.
func TestGolden(t *testing.T) {
	r := render.NewRenderer()
	for _, ga := range render.GoldenApps(t) {
		t.Run(ga.Name, func(t *testing.T) {
			app, err := render.ParseApplication(ga.Data)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := r.DryRunReading(context.Background(), &got, app, ga.Defs, ga.Read); err != nil {
				t.Fatal(err)
			}
			got = *bytes.NewBufferString(ga.Normalize(got.String()))
			golden := ga.Golden
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
