package render_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
)

// TestLegacyListArithmetic renders templates written for CUE before
// v0.11, which added and multiplied lists: velad rewrites them into
// list.Concat and list.Repeat; what it cannot tell is a list gets CUE's
// error, with the line and the modern form.
func TestLegacyListArithmetic(t *testing.T) {
	const params = `
	parameter: {
		xs: [...string]
		ys: *["y"] | [...string]
		csv: *"a,b" | string
		name: *"web" | string
		n: *2 | int
		m: {...}
	}`
	cases := []struct {
		name, value string // value: the expression put in data.out
		want        string // the rendered data.out ("" when err)
		err         string
	}{
		{"literal + reference", `strings.Join(["a"] + parameter.xs, ",")`, "a,x1,x2", ""},
		{"reference + reference", `strings.Join(parameter.ys + parameter.xs, ",")`, "y,x1,x2", ""},
		{"reference * count", `strings.Join(parameter.xs * 2, ",")`, "x1,x2,x1,x2", ""},
		{"count * reference", `strings.Join(parameter.n * parameter.ys, ",")`, "y,y", ""},
		{"hidden field + reference", `strings.Join(_base + parameter.xs, ",")`, "b0,x1,x2", ""},
		{"call + reference", `strings.Join(strings.Split(parameter.csv, ",") + parameter.xs, ",")`, "a,b,x1,x2", ""},
		{"three lists", `strings.Join(_base + parameter.ys + parameter.xs, ",")`, "b0,y,x1,x2", ""},
		{"strings still add", `parameter.name + "-svc"`, "web-svc", ""},
		{"numbers still add and multiply", `"\(parameter.n + 1)-\(parameter.n * 3)"`, "3-6", ""},
		// CUE still adds concrete lists while evaluating; what it refuses
		// is the addition of lists it knows only by their type.
		{"lists known when evaluated", `strings.Join(parameter.m.zs + parameter.xs, ",")`, "z,x1,x2", ""},
		{"a list not followed", `strings.Join(_lists[0] + _lists[0], ",")`, "",
			"Addition of lists is superseded by list.Concat"},
	}
	b, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	app, err := render.ParseApplication([]byte(`apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: legacy, namespace: demo}
spec:
  components:
    - name: c
      type: legacy
      properties: {xs: [x1, x2], m: {zs: [z]}}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := "import \"strings\"\n\nlegacy: type: \"component\"\ntemplate: {\n" +
				"\t_base: [\"b0\"]\n\t_lists: [[\"l0\"]]\n" +
				"\toutput: {apiVersion: \"v1\", kind: \"ConfigMap\", data: out: " + c.value + "}\n" +
				params + "\n}\n"
			d, err := definition.ParseCUE("legacy.cue", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err = render.NewRenderer().DryRun(context.Background(), &out, app, definition.Chain{definition.NewSet(d), b})
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "legacy.cue:") {
					t.Fatalf("error = %v, want one with the line and %q\n%s", err, c.err, out.String())
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := "  out: " + c.want + "\n"; !strings.Contains(out.String(), want) {
				t.Errorf("got\n%s\nwant a line %q", out.String(), want)
			}
		})
	}
}
