package app

import (
	"encoding/json"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

func TestDeployPolicies(t *testing.T) {
	step := func(name, typ string, policies ...string) v1beta1.WorkflowStepBase {
		s := v1beta1.WorkflowStepBase{Name: name, Type: typ}
		if policies != nil {
			raw, _ := json.Marshal(map[string]any{"policies": policies})
			s.Properties = &runtime.RawExtension{Raw: raw}
		}
		return s
	}
	app := func(policies []v1beta1.AppPolicy, steps ...v1beta1.WorkflowStep) *v1beta1.Application {
		a := &v1beta1.Application{}
		a.Spec.Components = []v1beta1.ApplicationComponent{{Name: "web", Type: "webservice"}}
		a.Spec.Policies = policies
		if steps != nil {
			a.Spec.Workflow = &v1beta1.Workflow{Steps: steps}
		}
		return a
	}
	override := func(name string) v1beta1.AppPolicy { return v1beta1.AppPolicy{Name: name, Type: "override"} }
	cases := []struct {
		name string
		app  *v1beta1.Application
		want []string
	}{
		{"no policies, no workflow", app(nil), nil},
		{"default workflow takes every override", app([]v1beta1.AppPolicy{override("a"), override("b")}), []string{"a", "b"}},
		{"apply-component steps take none", app([]v1beta1.AppPolicy{override("a")},
			v1beta1.WorkflowStep{WorkflowStepBase: step("web", "apply-component")}), nil},
		{"only the policies deploy steps name", app([]v1beta1.AppPolicy{override("a"), override("b")},
			v1beta1.WorkflowStep{WorkflowStepBase: step("d", "deploy", "b")}), []string{"b"}},
		{"each once, across steps and sub-steps", app([]v1beta1.AppPolicy{override("a"), override("b")},
			v1beta1.WorkflowStep{WorkflowStepBase: step("d1", "deploy", "b", "a")},
			v1beta1.WorkflowStep{WorkflowStepBase: step("g", "step-group"), SubSteps: []v1beta1.WorkflowStepBase{step("d2", "deploy", "a", "c")}}),
			[]string{"b", "a", "c"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			steps, err := deploySteps(tc.app)
			if err != nil {
				t.Fatal(err)
			}
			got := deployPolicies(steps)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	bad := app(nil, v1beta1.WorkflowStep{WorkflowStepBase: v1beta1.WorkflowStepBase{Name: "d", Type: "deploy", Properties: &runtime.RawExtension{Raw: []byte(`{"policies":"a"}`)}}})
	if _, err := deploySteps(bad); err == nil {
		t.Error("policies given as a string: no error")
	}
}
