package webhook

import (
	"context"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/definition"
)

// DefinitionPath is where the API server sends reviews of the four
// X-Definition kinds; the chart's ValidatingWebhookConfiguration names it.
const DefinitionPath = "/validate-core-oam-dev-v1beta1-definitions"

// DefinitionValidator checks one definition: its CUE template compiles
// (render.Renderer.Compile).
type DefinitionValidator func(ctx context.Context, d *definition.Definition) error

// DefinitionHandler answers admission reviews of ComponentDefinitions,
// TraitDefinitions, PolicyDefinitions and WorkflowStepDefinitions: one
// whose template does not compile is refused with the compiler's message,
// instead of being stored and failing every app that uses it.
type DefinitionHandler struct {
	validate DefinitionValidator
	decoder  admission.Decoder
}

// NewDefinitionHandler returns the handler for DefinitionPath.
func NewDefinitionHandler(scheme *runtime.Scheme, validate DefinitionValidator) *DefinitionHandler {
	return &DefinitionHandler{validate: validate, decoder: admission.NewDecoder(scheme)}
}

// Handle refuses a definition whose new template does not compile.
// Updates that leave the spec as it was (labels, annotations, the
// controller's bookkeeping) and deletions are let through.
func (h *DefinitionHandler) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return admission.Allowed("")
	}
	obj, err := newDefinitionObject(req.Kind.Kind)
	if err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	if err := h.decoder.Decode(req, obj); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	if obj.GetDeletionTimestamp() != nil {
		return admission.Allowed("being deleted")
	}
	if req.Operation == admissionv1.Update {
		old, _ := newDefinitionObject(req.Kind.Kind)
		if err := h.decoder.DecodeRaw(req.OldObject, old); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		if equality.Semantic.DeepEqual(specOf(old), specOf(obj)) {
			return admission.Allowed("spec unchanged")
		}
	}
	d, err := definition.FromObject(obj, "as submitted")
	if err != nil {
		return admission.Denied(err.Error())
	}
	if err := h.validate(ctx, d); err != nil {
		return admission.Denied(err.Error())
	}
	return admission.Allowed("")
}

func newDefinitionObject(kind string) (client.Object, error) {
	switch kind {
	case "ComponentDefinition":
		return &v1beta1.ComponentDefinition{}, nil
	case "TraitDefinition":
		return &v1beta1.TraitDefinition{}, nil
	case "PolicyDefinition":
		return &v1beta1.PolicyDefinition{}, nil
	case "WorkflowStepDefinition":
		return &v1beta1.WorkflowStepDefinition{}, nil
	}
	return nil, fmt.Errorf("%q is not a definition kind this webhook validates", kind)
}

func specOf(o client.Object) any {
	switch o := o.(type) {
	case *v1beta1.ComponentDefinition:
		return o.Spec
	case *v1beta1.TraitDefinition:
		return o.Spec
	case *v1beta1.PolicyDefinition:
		return o.Spec
	case *v1beta1.WorkflowStepDefinition:
		return o.Spec
	}
	return nil
}
