package webhook_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
	"github.com/velad-dev/velad/controller/webhook"
)

func rawObject(t *testing.T, o client.Object) runtime.RawExtension {
	t.Helper()
	data, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return runtime.RawExtension{Raw: data}
}

func schematic(template string) *v1beta1.Schematic {
	return &v1beta1.Schematic{CUE: &v1beta1.CUE{Template: template}}
}

// Definitions are checked with the renderer's real compiler: a template
// that does not compile is refused with the compiler's message.
func TestDefinitionHandler(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := v1beta1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	renderer := render.NewRenderer()
	h := webhook.NewDefinitionHandler(scheme, func(_ context.Context, d *definition.Definition) error {
		_, err := renderer.Compile(d)
		return err
	})
	const good = `
output: {apiVersion: "v1", kind: "ConfigMap", data: x: parameter.x}
parameter: x: string
`
	const unclosed = `
output: {apiVersion: "v1", kind: "ConfigMap"
parameter: x: string
`
	const conflict = `
parameter: replicas: int
patch: spec: replicas: parameter.replicas & "two"
`
	comp := func(name, tmpl string) client.Object {
		o := &v1beta1.ComponentDefinition{TypeMeta: metav1.TypeMeta{APIVersion: "core.oam.dev/v1beta1", Kind: "ComponentDefinition"}}
		o.Name, o.Namespace = name, "vela-system"
		o.Spec.Schematic = schematic(tmpl)
		return o
	}
	trait := func(name, tmpl string) client.Object {
		o := &v1beta1.TraitDefinition{TypeMeta: metav1.TypeMeta{APIVersion: "core.oam.dev/v1beta1", Kind: "TraitDefinition"}}
		o.Name, o.Namespace = name, "vela-system"
		o.Spec.Schematic = schematic(tmpl)
		return o
	}
	policy := func(name, tmpl string) client.Object {
		o := &v1beta1.PolicyDefinition{TypeMeta: metav1.TypeMeta{APIVersion: "core.oam.dev/v1beta1", Kind: "PolicyDefinition"}}
		o.Name, o.Namespace = name, "vela-system"
		o.Spec.Schematic = schematic(tmpl)
		return o
	}
	step := func(name, tmpl string) client.Object {
		o := &v1beta1.WorkflowStepDefinition{TypeMeta: metav1.TypeMeta{APIVersion: "core.oam.dev/v1beta1", Kind: "WorkflowStepDefinition"}}
		o.Name, o.Namespace = name, "vela-system"
		o.Spec.Schematic = schematic(tmpl)
		return o
	}
	noSchematic := comp("helm-chart", good).(*v1beta1.ComponentDefinition)
	noSchematic.Spec.Schematic = nil
	relabelled := comp("broken", unclosed)
	relabelled.SetLabels(map[string]string{"team": "shop"})

	tests := []struct {
		name     string
		op       admissionv1.Operation
		obj, old client.Object
		want     string // "" = allowed
	}{
		{"component compiles", admissionv1.Create, comp("cm", good), nil, ""},
		{"component with unclosed brace", admissionv1.Create, comp("cm", unclosed), nil, `compile component definition "cm"`},
		{"trait with conflicting values", admissionv1.Create, trait("scale2", conflict), nil, `trait definition "scale2"`},
		{"policy that does not parse", admissionv1.Create, policy("p", "properties: {"), nil, `compile policy definition "p"`},
		{"workflow step that does not parse", admissionv1.Create, step("s", "x: ]"), nil, `compile workflow-step definition "s"`},
		{"update to invalid CUE", admissionv1.Update, comp("cm", unclosed), comp("cm", good), `compile component definition "cm"`},
		{"update to valid CUE", admissionv1.Update, comp("cm", good), comp("cm", unclosed), ""},
		{"labels only, spec as before (even if invalid)", admissionv1.Update, relabelled, comp("broken", unclosed), ""},
		{"no CUE schematic", admissionv1.Create, noSchematic, nil, `has no spec.schematic.cue.template`},
		{"delete", admissionv1.Delete, nil, comp("cm", unclosed), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{Operation: tc.op}}
			for _, o := range []client.Object{tc.obj, tc.old} {
				if o != nil {
					req.Kind = metav1.GroupVersionKind{Group: "core.oam.dev", Version: "v1beta1", Kind: o.GetObjectKind().GroupVersionKind().Kind}
				}
			}
			if tc.obj != nil {
				req.Object = rawObject(t, tc.obj)
			}
			if tc.old != nil {
				req.OldObject = rawObject(t, tc.old)
			}
			resp := h.Handle(context.Background(), req)
			if tc.want == "" {
				if !resp.Allowed {
					t.Fatalf("refused: %+v", resp.Result)
				}
				return
			}
			if resp.Allowed {
				t.Fatalf("allowed, want refused with %q", tc.want)
			}
			t.Logf("denied: %s", resp.Result.Message)
			if !strings.Contains(resp.Result.Message, tc.want) {
				t.Fatalf("denial %q, want it to contain %q", resp.Result.Message, tc.want)
			}
		})
	}
}
