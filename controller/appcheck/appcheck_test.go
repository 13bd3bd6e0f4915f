package appcheck_test

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/appcheck"
)

func TestApplication(t *testing.T) {
	tests := []struct {
		name string
		app  string
		want string // "" = passes
	}{
		{"plain", `
metadata: {name: shop}
spec:
  components:
  - {name: web, type: webservice, traits: [{type: scaler}, {type: gateway}]}
  - {name: db, type: worker, dependsOn: [web]}
`, ""},
		{"uppercase component name", `
metadata: {name: shop}
spec: {components: [{name: Web, type: webservice}]}
`, `spec.components[0].name "Web": not usable as an object name: a lowercase RFC 1123 label`},
		{"dotted component name (not a Service name)", `
metadata: {name: shop}
spec: {components: [{name: web.v1, type: webservice}]}
`, `spec.components[0].name "web.v1": not usable as an object name`},
		{"component name too long for a label", `
metadata: {name: shop}
spec: {components: [{name: ` + strings.Repeat("a", 64) + `, type: webservice}]}
`, `must be no more than 63 characters`},
		{"empty component name", `
metadata: {name: shop}
spec: {components: [{name: "", type: webservice}]}
`, `spec.components[0].name "": a name is required`},
		{"app name longer than a label value", `
metadata: {name: ` + strings.Repeat("a", 64) + `}
spec: {components: [{name: web, type: webservice}]}
`, `is 64 characters long: it is a label value`},
		{"same trait twice", `
metadata: {name: shop}
spec:
  components:
  - {name: web, type: webservice, traits: [{type: scaler}, {type: gateway}, {type: scaler}]}
`, `component "web" has trait "scaler" twice (traits[0] and traits[2])`},
		{"same trait twice, one pinned to a revision", `
metadata: {name: shop}
spec:
  components:
  - {name: web, type: webservice, traits: [{type: scaler@v1}, {type: scaler}]}
`, `has trait "scaler" twice`},
		{"component cycle", `
metadata: {name: shop}
spec:
  components:
  - {name: a, type: worker, dependsOn: [c]}
  - {name: b, type: worker, dependsOn: [a]}
  - {name: c, type: worker, dependsOn: [b]}
`, `component dependsOn cycle: "a" -> "c" -> "b" -> "a"`},
		{"component depends on itself", `
metadata: {name: shop}
spec: {components: [{name: a, type: worker, dependsOn: [a]}]}
`, `component dependsOn cycle: "a" -> "a"`},
		{"diamond is no cycle", `
metadata: {name: shop}
spec:
  components:
  - {name: a, type: worker}
  - {name: b, type: worker, dependsOn: [a]}
  - {name: c, type: worker, dependsOn: [a]}
  - {name: d, type: worker, dependsOn: [b, c]}
`, ""},
		{"step cycle", `
metadata: {name: shop}
spec:
  components: [{name: web, type: webservice}]
  workflow:
    mode: {steps: DAG}
    steps:
    - {name: one, type: suspend, dependsOn: [two]}
    - {name: two, type: suspend, dependsOn: [one]}
`, `workflow step dependsOn cycle: "one" -> "two" -> "one"`},
		{"sub-step cycle", `
metadata: {name: shop}
spec:
  components: [{name: web, type: webservice}]
  workflow:
    steps:
    - name: group
      type: step-group
      subSteps:
      - {name: x, type: suspend, dependsOn: [z]}
      - {name: z, type: suspend, dependsOn: [x]}
`, `sub-step (of step "group") dependsOn cycle: "x" -> "z" -> "x"`},
		{"step name not an object name", `
metadata: {name: shop}
spec:
  components: [{name: web, type: webservice}]
  workflow: {steps: [{name: Deploy_Web, type: deploy}]}
`, `spec.workflow.steps[0].name "Deploy_Web": not usable as an object name`},
		{"sub-step name not an object name", `
metadata: {name: shop}
spec:
  components: [{name: web, type: webservice}]
  workflow: {steps: [{name: g, type: step-group, subSteps: [{name: "a b", type: suspend}]}]}
`, `spec.workflow.steps[0].subSteps[0].name "a b"`},
		{"step name used twice", `
metadata: {name: shop}
spec:
  components: [{name: web, type: webservice}]
  workflow: {steps: [{name: g, type: step-group, subSteps: [{name: s, type: suspend}]}, {name: s, type: suspend}]}
`, `spec.workflow.steps[1].name "s": the name is used by another step`},
		{"dependsOn an unknown step is left to the engine", `
metadata: {name: shop}
spec:
  components: [{name: web, type: webservice}]
  workflow: {steps: [{name: s, type: suspend, dependsOn: [nowhere]}]}
`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := &v1beta1.Application{}
			if err := yaml.UnmarshalStrict([]byte(tc.app), app); err != nil {
				t.Fatal(err)
			}
			err := appcheck.Application(app)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("passed, want an error with %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}
