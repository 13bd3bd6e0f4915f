package render

import (
	"reflect"
	"testing"

	"cuelang.org/go/cue/parser"
)

func TestContextUsePrune(t *testing.T) {
	ctx := map[string]any{
		"name": "web",
		"output": map[string]any{
			"metadata": map[string]any{"name": "web"},
			"spec": map[string]any{
				"replicas": int64(2),
				"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "web"}}}},
			},
		},
		"outputs": map[string]any{"svc": map[string]any{"kind": "Service"}},
	}
	cases := []struct {
		name string
		src  string
		want map[string]any // nil: context is filled whole
	}{
		{"none", `x: 1`, map[string]any{}},
		{"field", `x: context.name`, map[string]any{"name": "web"}},
		{"deep", `x: context.output.spec.template.spec.containers[0].name`, map[string]any{
			"output": map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "web"}}}}}}}},
		{"exists", `if context.output.spec != _|_ if (context.output.spec.template) != _|_ {x: 1}`, map[string]any{
			"output": map[string]any{"spec": map[string]any{"template": map[string]any{}}}}},
		{"exists scalar", `if _|_ == context.output.spec.replicas {x: 1}`, map[string]any{
			"output": map[string]any{"spec": map[string]any{"replicas": int64(2)}}}},
		{"exists and value", `if context.output.spec != _|_ {x: context.output.spec.replicas}`, map[string]any{
			"output": map[string]any{"spec": map[string]any{"replicas": int64(2)}}}},
		{"whole wins", `if context.output != _|_ {x: context.output}`, map[string]any{"output": ctx["output"]}},
		{"iterated", `x: [for k, v in context.outputs {k}]`, map[string]any{"outputs": ctx["outputs"]}},
		{"indexed", `x: context.outputs["svc"].kind`, map[string]any{"outputs": ctx["outputs"]}},
		{"compared", `x: context.output.spec == {}`, map[string]any{"output": map[string]any{"spec": ctx["output"].(map[string]any)["spec"]}}},
		{"missing", `x: context.nope.a`, map[string]any{}},
		{"context whole", `x: context`, nil},
		{"let", `let c = context
x: c.name`, nil},
		{"declared", "context: {name: string}\nx: context.name", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := parser.ParseFile("t.cue", c.src+"\ncontext: _\n")
			if err != nil {
				t.Fatal(err)
			}
			u := contextUse(f)
			if c.want == nil {
				if u != nil {
					t.Fatalf("got a use tree, want context filled whole")
				}
				return
			}
			if u == nil {
				t.Fatal("got nil, want a use tree")
			}
			if got := u.prune(ctx); !reflect.DeepEqual(got, c.want) {
				t.Errorf("prune = %v, want %v", got, c.want)
			}
		})
	}
}
