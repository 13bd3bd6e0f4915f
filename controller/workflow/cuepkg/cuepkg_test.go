package cuepkg

import (
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"
)

// Every package compiles, and a template importing them (and the
// standard library) builds with its actions' fields in place.
func TestBuild(t *testing.T) {
	ctx := cuecontext.New()
	for _, p := range Packages() {
		src, _ := Source(p)
		if v := ctx.CompileString(src); v.Err() != nil {
			t.Fatalf("%s: %v", p, v.Err())
		}
	}
	src := `import (
	"vela/op"
	"vela/kube"
	"vela/builtin"
	"vela/http"
	"strings"
)
read: kube.#Read & {$params: value: {apiVersion: "v1", kind: "ConfigMap", metadata: name: strings.ToLower("X")}}
wait: op.#ConditionalWait & {continue: true}
fail: builtin.#Fail & {$params: message: "no"}
req: http.#Post & {$params: url: "http://127.0.0.1"}
`
	f, err := parser.ParseFile("t.cue", src)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Build(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"read.#provider":                   "kube",
		"read.$params.value.metadata.name": "x",
		"wait.#do":                         "wait",
		"fail.$params.message":             "no",
		"req.$params.method":               "POST",
	} {
		got, err := v.LookupPath(cue.ParsePath(path)).String()
		if err != nil || got != want {
			t.Errorf("%s = %q (%v), want %q", path, got, err, want)
		}
	}
	f, _ = parser.ParseFile("t.cue", `import "vela/nope"
x: nope.#A`)
	if _, err := Build(ctx, f); err == nil || !strings.Contains(err.Error(), "vela/kube") {
		t.Errorf("unknown package: %v, want an error listing the packages", err)
	}
}
