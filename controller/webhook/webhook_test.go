package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/webhook"
)

func raw(t *testing.T, app *v1beta1.Application) runtime.RawExtension {
	t.Helper()
	app.APIVersion, app.Kind = "core.oam.dev/v1beta1", "Application"
	data, err := json.Marshal(app)
	if err != nil {
		t.Fatal(err)
	}
	return runtime.RawExtension{Raw: data}
}

func TestHandle(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := v1beta1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	good := &v1beta1.Application{Spec: v1beta1.ApplicationSpec{Components: []v1beta1.ApplicationComponent{{Name: "web", Type: "webservice"}}}}
	good.Name = "a"
	bad := good.DeepCopy()
	bad.Spec.Components[0].Type = "webserver"
	relabelled := bad.DeepCopy()
	relabelled.Labels = map[string]string{"team": "shop"}

	var validated int
	h := webhook.NewApplicationHandler(scheme, func(_ context.Context, app *v1beta1.Application) error {
		validated++
		if app.Spec.Components[0].Type != "webservice" {
			return errors.New(`unknown component type "webserver"`)
		}
		return nil
	})
	tests := []struct {
		name         string
		op           admissionv1.Operation
		obj, old     *v1beta1.Application
		allowed      bool
		wantValidate bool
	}{
		{"valid create", admissionv1.Create, good, nil, true, true},
		{"invalid create", admissionv1.Create, bad, nil, false, true},
		{"invalid spec change", admissionv1.Update, bad, good, false, true},
		{"labels only, spec as before (even if invalid)", admissionv1.Update, relabelled, bad, true, false},
		{"delete", admissionv1.Delete, nil, good, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			validated = 0
			req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{Operation: tc.op}}
			if tc.obj != nil {
				req.Object = raw(t, tc.obj)
			}
			if tc.old != nil {
				req.OldObject = raw(t, tc.old)
			}
			resp := h.Handle(context.Background(), req)
			if resp.Allowed != tc.allowed {
				t.Fatalf("allowed = %v (%+v), want %v", resp.Allowed, resp.Result, tc.allowed)
			}
			if !tc.allowed && resp.Result.Message != `unknown component type "webserver"` {
				t.Errorf("denial message %q, want the validator's", resp.Result.Message)
			}
			if (validated > 0) != tc.wantValidate {
				t.Errorf("validated %d times, want validation %v", validated, tc.wantValidate)
			}
		})
	}
}

// What would get stuck is refused before anything renders, with
// appcheck's message.
func TestHandleRefusesWhatWouldGetStuck(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := v1beta1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	var validated int
	h := webhook.NewApplicationHandler(scheme, func(context.Context, *v1beta1.Application) error {
		validated++
		return nil
	})
	comp := func(name string, deps []string, traits ...string) v1beta1.ApplicationComponent {
		c := v1beta1.ApplicationComponent{Name: name, Type: "webservice", DependsOn: deps}
		for _, t := range traits {
			c.Traits = append(c.Traits, v1beta1.ApplicationTrait{Type: t})
		}
		return c
	}
	app := func(name string, comps ...v1beta1.ApplicationComponent) *v1beta1.Application {
		a := &v1beta1.Application{Spec: v1beta1.ApplicationSpec{Components: comps}}
		a.Name = name
		return a
	}
	withSteps := func(a *v1beta1.Application, steps ...v1beta1.WorkflowStep) *v1beta1.Application {
		a.Spec.Workflow = &v1beta1.Workflow{Steps: steps}
		return a
	}
	step := func(name string, deps ...string) v1beta1.WorkflowStep {
		return v1beta1.WorkflowStep{WorkflowStepBase: v1beta1.WorkflowStepBase{Name: name, Type: "suspend", DependsOn: deps}}
	}
	tests := []struct {
		name string
		app  *v1beta1.Application
		want string // "" = allowed
	}{
		{"fine", app("shop", comp("web", nil, "scaler"), comp("db", []string{"web"})), ""},
		{"component name with capitals", app("shop", comp("Web", nil)), `spec.components[0].name "Web": not usable as an object name`},
		{"component name with underscore", app("shop", comp("web_1", nil)), `spec.components[0].name "web_1"`},
		{"app name too long for a label", app(strings.Repeat("x", 70), comp("web", nil)), `is 70 characters long`},
		{"dependsOn cycle", app("shop", comp("a", []string{"b"}), comp("b", []string{"a"})), `component dependsOn cycle: "a" -> "b" -> "a"`},
		{"same trait twice", app("shop", comp("web", nil, "scaler", "scaler")), `component "web" has trait "scaler" twice`},
		{"step name not an object name", withSteps(app("shop", comp("web", nil)), step("Step 1")), `spec.workflow.steps[0].name "Step 1"`},
		{"step cycle", withSteps(app("shop", comp("web", nil)), step("one", "two"), step("two", "one")), `workflow step dependsOn cycle: "one" -> "two" -> "one"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			validated = 0
			req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{Operation: admissionv1.Create, Object: raw(t, tc.app)}}
			resp := h.Handle(context.Background(), req)
			if tc.want == "" {
				if !resp.Allowed || validated != 1 {
					t.Fatalf("allowed=%v validated=%d (%+v), want allowed after rendering", resp.Allowed, validated, resp.Result)
				}
				return
			}
			if resp.Allowed {
				t.Fatalf("allowed, want refused with %q", tc.want)
			}
			if !strings.Contains(resp.Result.Message, tc.want) {
				t.Errorf("denial %q, want it to contain %q", resp.Result.Message, tc.want)
			}
			if validated != 0 {
				t.Errorf("rendered %d times, want refused before rendering", validated)
			}
		})
	}
}
