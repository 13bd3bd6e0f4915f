package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
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
