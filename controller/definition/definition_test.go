package definition_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
)

// TestCUERoundTrip formats every built-in back to a .cue file and parses
// it again: the CRD objects must be equal.
func TestCUERoundTrip(t *testing.T) {
	set, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	defs, _ := set.List(context.Background())
	if len(defs) < 39 {
		t.Fatalf("only %d built-ins", len(defs))
	}
	for _, d := range defs {
		src, err := definition.FormatCUE(d)
		if err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		back, err := definition.ParseCUE(d.Name+".cue", src)
		if err != nil {
			t.Fatalf("%s: %v\n%s", d.Name, err, src)
		}
		a, _ := definition.MarshalYAML(d)
		b, _ := definition.MarshalYAML(back)
		if string(a) != string(b) {
			t.Errorf("%s: round trip changed the object:\n%s\n---\n%s", d.Name, a, b)
		}
	}
}

func TestParseCUEWebservice(t *testing.T) {
	data, err := os.ReadFile("../builtins/component/webservice.cue")
	if err != nil {
		t.Fatal(err)
	}
	d, err := definition.ParseCUE("webservice.cue", data)
	if err != nil {
		t.Fatal(err)
	}
	cd := d.Component()
	if cd == nil || d.Kind != definition.KindComponent || d.Name != "webservice" {
		t.Fatalf("got %s %q", d.Kind, d.Name)
	}
	if cd.Spec.Workload.Type != "deployments.apps" || cd.Spec.Workload.Definition.Kind != "Deployment" {
		t.Errorf("workload = %+v", cd.Spec.Workload)
	}
	if cd.Spec.Status == nil || !strings.Contains(cd.Spec.Status.HealthPolicy, "isHealth:") || !strings.Contains(cd.Spec.Status.CustomStatus, `message: "Ready:\(_ready)/\(_replicas)"`) {
		t.Errorf("status = %+v", cd.Spec.Status)
	}
	if !strings.Contains(d.Template(), "parameter: {") || strings.Contains(d.Template(), `"webservice": {`) {
		t.Errorf("template holds the wrong part of the file:\n%s", d.Template())
	}
	if d.Object.GetNamespace() != "vela-system" || d.Description() == "" {
		t.Errorf("metadata = %+v", d.Object.GetObjectKind())
	}
}

func TestParseCUEErrors(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"syntax", "\"x\": {\n\ttype: \"trait\"\n\ttemplate: {\n", "parse x.cue: x.cue:3:14: expected '}', found 'EOF'"},
		{"no header", "template: {}\n", "x.cue: no definition header: want `\"NAME\": { type: \"component\", ... }`"},
		{"no template", "\"x\": {type: \"trait\"}\n", "x.cue: no template: want `template: { ... }`"},
		{"two headers", "\"x\": {type: \"trait\"}\n\"y\": {type: \"trait\"}\ntemplate: {}\n", "x.cue:2:1: unexpected top-level field \"y\": a definition file has one header field and a template"},
		{"unknown type", "\"x\": {type: \"widget\"}\ntemplate: {}\n", "x.cue:1:1: definition \"x\": unknown definition type \"widget\": want component, trait, policy or workflow-step"},
		{"bad attribute", "\"x\": {type: \"trait\", attributes: podDisruptive: \"yes\"}\ntemplate: {}\n", "header of \"x\": x.cue:1:49: attributes.podDisruptive: cannot use value \"yes\" (type string) as bool"},
		{"template not a struct", "\"x\": {type: \"trait\"}\ntemplate: 3\n", "x.cue:2:1: template must be a struct { ... }"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := definition.ParseCUE("x.cue", []byte(tc.src))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n got: %v\nwant: %s", err, tc.want)
			}
		})
	}
}

func TestParseYAMLWithRevisions(t *testing.T) {
	defs, err := definition.LoadPaths("testdata")
	if err != nil {
		t.Fatal(err)
	}
	s := definition.NewSet(defs...)
	ctx := context.Background()
	latest, err := s.Lookup(ctx, definition.KindTrait, "my-trait", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(latest.Template(), "parameter.value") {
		t.Errorf("latest is the revision: %s", latest.Template())
	}
	v1, err := s.Lookup(ctx, definition.KindTrait, "my-trait", 1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(v1.Template(), `"old"`) {
		t.Errorf("v1 = %s", v1.Template())
	}
	if _, err := s.Lookup(ctx, definition.KindTrait, "my-trait", 2); !errors.Is(err, definition.ErrNotFound) {
		t.Errorf("v2: %v, want ErrNotFound", err)
	}
}

func TestParseYAMLErrors(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"not a definition", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", `d.yaml (document 1): ConfigMap "x" is not a definition: want apiVersion core.oam.dev/v1beta1`},
		{"application", "apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata: {name: x}\n", "d.yaml (document 1): kind Application is not a definition: want ComponentDefinition, TraitDefinition, PolicyDefinition, WorkflowStepDefinition or DefinitionRevision"},
		{"no template", "apiVersion: core.oam.dev/v1beta1\nkind: TraitDefinition\nmetadata: {name: x}\nspec: {}\n", `d.yaml (document 1): TraitDefinition "x" has no spec.schematic.cue.template: only CUE definitions are supported`},
		{"unknown field", "apiVersion: core.oam.dev/v1beta1\nkind: TraitDefinition\nmetadata: {name: x}\nspec: {appliesTo: [x]}\n", `d.yaml (document 1): decode TraitDefinition "x": error unmarshaling JSON: while decoding JSON: json: unknown field "appliesTo"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := definition.ParseYAML("d.yaml", []byte(tc.src))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n got: %v\nwant: %s", err, tc.want)
			}
		})
	}
}

func TestSplitRef(t *testing.T) {
	cases := []struct {
		ref  string
		name string
		rev  int64
		err  bool
	}{
		{"webservice", "webservice", 0, false},
		{"webservice@v2", "webservice", 2, false},
		{"webservice@2", "", 0, true},
		{"webservice@v0", "", 0, true},
		{"webservice@vx", "", 0, true},
	}
	for _, tc := range cases {
		name, rev, err := definition.SplitRef(tc.ref)
		if (err != nil) != tc.err || name != tc.name || rev != tc.rev {
			t.Errorf("SplitRef(%q) = %q, %d, %v", tc.ref, name, rev, err)
		}
	}
}

func TestChainShadowsBuiltins(t *testing.T) {
	builtins, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	mine, err := definition.ParseCUE("scaler.cue", []byte("\"scaler\": {type: \"trait\", description: \"mine\"}\ntemplate: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := definition.Chain{definition.NewSet(mine), builtins}
	d, err := c.Lookup(context.Background(), definition.KindTrait, "scaler", 0)
	if err != nil || d.Description() != "mine" {
		t.Errorf("got %v, %v; want the user's scaler", d, err)
	}
	all, _ := c.List(context.Background())
	n := 0
	for _, d := range all {
		if d.Name == "scaler" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("List has %d scalers, want 1", n)
	}
}
