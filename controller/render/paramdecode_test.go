package render

import (
	"context"
	"reflect"
	"testing"

	"cuelang.org/go/cue/parser"

	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
)

func TestPlainParameter(t *testing.T) {
	cases := []struct {
		name, src string
		want      bool
	}{
		{"schema", `parameter: {a: *1 | int, b?: string, c: [...{d: *"x" | string}], e: [string]: int}`, true},
		{"definitions", "parameter: {env?: [...#Env]}\n#Env: {name: string, value?: string, from?: #From}\n#From: {key: string}", true},
		{"open", `parameter: {a: int, ...}`, true},
		{"no parameter", `output: {}`, false},
		{"declared twice", "parameter: a: int\nparameter: b: int", false},
		{"conditional field", `parameter: {a: bool, if a {b: *1 | int}}`, false},
		{"added by a comprehension", "parameter: a: bool\nif parameter.a {parameter: b: 1}", false},
		{"dynamic top-level label", "parameter: a: int\nfor k, v in {x: 1} {\"\\(k)\": v}", false},
		{"top-level pattern", "parameter: a: int\n[string]: {b: 1}", false},
		{"sibling reference", `parameter: {a: string, b: *a | string}`, false},
		{"context reference", `parameter: {name: *context.name | string}`, false},
		{"import", "import \"strings\"\nparameter: a: strings.MinRunes(1)", false},
		{"hidden reference", "parameter: a: _t\n_t: {b: int}", false},
		{"conditional definition", "parameter: a: #A\n#A: {b: int}\nif true {#A: c: 1}", false},
		{"definition with comprehension", "parameter: a: #A\n#A: {b: bool, if b {c: 1}}", false},
		{"embedding", "parameter: {#A, b: int}\n#A: {c: int}", false},
		{"shadowed predeclared", "parameter: a: string\nx: string: 1", false},
		{"unrelated comprehensions", "parameter: a: *1 | int\nif parameter.a > 0 {outputs: x: {n: parameter.a}}", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parser.ParseFile("t.cue", tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if got := plainParameter(f); got != tc.want {
				t.Errorf("plainParameter = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPlainBuiltins checks that the built-ins of the benchmark app decode
// their parameter by schema.
func TestPlainBuiltins(t *testing.T) {
	builtins, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	r := newRenderer(1)
	for _, ref := range []struct {
		kind definition.Kind
		name string
	}{
		{definition.KindComponent, "webservice"}, {definition.KindTrait, "scaler"},
		{definition.KindTrait, "gateway"}, {definition.KindTrait, "env"}, {definition.KindTrait, "labels"},
	} {
		d, err := builtins.Lookup(context.Background(), ref.kind, ref.name, 0)
		if err != nil {
			t.Fatal(err)
		}
		tmpl, err := r.Compile(d)
		if err != nil {
			t.Fatal(err)
		}
		if !tmpl.plainParameter {
			t.Errorf("%s %s: parameter is not plain", ref.kind, ref.name)
		}
	}
}

// TestDecodeBySchemaMatchesWhole renders every golden app with parameters
// decoded by schema and decoded whole: the properties must be equal.
func TestDecodeBySchemaMatchesWhole(t *testing.T) {
	render := func(guided bool, app []byte, defs definition.Source, read ReadObjects) []RenderedComponent {
		t.Helper()
		defer func(old bool) { guidedDecode = old }(guidedDecode)
		guidedDecode = guided
		a, err := ParseApplication(app)
		if err != nil {
			t.Fatal(err)
		}
		r := newRenderer(1)
		r.SetMemoSize(0)
		// As the golden files render them (dry-run).
		comps, err := r.RenderApp(context.Background(), a, defs, Options{Offline: true, ReadObjects: read})
		if err != nil {
			t.Fatal(err)
		}
		return comps
	}
	for _, ga := range GoldenApps(t) {
		t.Run(ga.Name, func(t *testing.T) {
			guided, whole := render(true, ga.Data, ga.Defs, ga.Read), render(false, ga.Data, ga.Defs, ga.Read)
			for i := range whole {
				if !reflect.DeepEqual(guided[i].Properties, whole[i].Properties) {
					t.Errorf("%s: properties %v, decoded whole %v", whole[i].Name, guided[i].Properties, whole[i].Properties)
				}
				for j := range whole[i].Traits {
					g, w := guided[i].Traits[j], whole[i].Traits[j]
					if !reflect.DeepEqual(g.Properties, w.Properties) {
						t.Errorf("%s trait %s: properties %v, decoded whole %v", whole[i].Name, w.Type, g.Properties, w.Properties)
					}
				}
			}
		})
	}
}

// TestDecodeBySchemaErrors renders odd properties both ways: the errors
// and properties must be the same.
func TestDecodeBySchemaErrors(t *testing.T) {
	builtins, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ comp, props, trait, tprops string }{
		{"webservice", `{"image":"nginx","env":[{"name":"A","value":"1","extra":2}]}`, "scaler", `{}`},
		{"webservice", `{"image":"nginx","ports":[{"port":80,"protocol":"QUIC"}]}`, "scaler", `{"replicas":2}`},
		{"webservice", `{"image":"nginx","unknown":{"a":1}}`, "env", `{"env":{"B":"2"},"unset":["A"]}`},
		{"webservice", `{"image":"nginx","limit":{"cpu":"1","gpu":"2"}}`, "gateway", `{"http":{"/":80},"classInSpec":true}`},
		{"webservice", `{"ports":[{"port":80}]}`, "labels", `{"a":"b","c":null}`},
		{"webservice", `{"image":"x","livenessProbe":{"httpGet":{"port":80}}}`, "gateway", `{"http":{}}`},
		{"worker", `{"image":"x","cpu":"1","limit":{"memory":"1Gi"}}`, "labels", `{"a":"b"}`},
		{"task", `{"image":"x","count":-1}`, "sidecar", `{"name":"s","image":"y"}`},
		{"statefulset", `{"image":"x","ports":[{"port":1}]}`, "resource", `{"cpu":"1"}`},
	}
	for _, tc := range cases {
		t.Run(tc.comp+"+"+tc.trait, func(t *testing.T) {
			app := appHeader + "  components:\n    - name: c\n      type: " + tc.comp + "\n      properties: " + tc.props +
				"\n      traits:\n        - type: " + tc.trait + "\n          properties: " + tc.tprops + "\n"
			var results [2][]RenderedComponent
			var errs [2]error
			for i, guided := range []bool{true, false} {
				func() {
					defer func(old bool) { guidedDecode = old }(guidedDecode)
					guidedDecode = guided
					a, err := ParseApplication([]byte(app))
					if err != nil {
						t.Fatal(err)
					}
					results[i], errs[i] = newRenderer(1).RenderApp(context.Background(), a, builtins, Options{})
				}()
			}
			if (errs[0] == nil) != (errs[1] == nil) || (errs[0] != nil && errs[0].Error() != errs[1].Error()) {
				t.Fatalf("error %v, decoded whole %v", errs[0], errs[1])
			}
			for i := range results[1] {
				if !reflect.DeepEqual(results[0][i].Properties, results[1][i].Properties) {
					t.Errorf("properties %v, decoded whole %v", results[0][i].Properties, results[1][i].Properties)
				}
			}
		})
	}
}

const appHeader = `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: app
spec:
`
