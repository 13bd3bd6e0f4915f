// Package webhook is the controller's validating admission webhook for
// Applications and X-Definitions: an application that would get stuck
// (appcheck) or does not render, and a definition whose CUE does not
// compile, are refused when created or changed, with the message, instead
// of being accepted and failing later in a status.
package webhook

import (
	"context"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/appcheck"
)

// ApplicationPath is where the API server sends Application reviews; the
// chart's ValidatingWebhookConfiguration names it.
const ApplicationPath = "/validate-core-oam-dev-v1beta1-application"

// Validator validates one application (app.Reconciler.Validate).
type Validator func(ctx context.Context, app *v1beta1.Application) error

// ApplicationHandler answers admission reviews of Applications.
type ApplicationHandler struct {
	validate Validator
	decoder  admission.Decoder
}

// NewApplicationHandler returns the handler for ApplicationPath.
func NewApplicationHandler(scheme *runtime.Scheme, validate Validator) *ApplicationHandler {
	return &ApplicationHandler{validate: validate, decoder: admission.NewDecoder(scheme)}
}

// Handle refuses an application whose new spec appcheck refuses or that
// does not render. Updates
// that leave the spec as it was (the controller's finalizer, labels,
// annotations) and deletions are let through without rendering.
func (h *ApplicationHandler) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return admission.Allowed("")
	}
	app := &v1beta1.Application{}
	if err := h.decoder.Decode(req, app); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	if app.DeletionTimestamp != nil {
		return admission.Allowed("being deleted")
	}
	if req.Operation == admissionv1.Update {
		old := &v1beta1.Application{}
		if err := h.decoder.DecodeRaw(req.OldObject, old); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		if equality.Semantic.DeepEqual(old.Spec, app.Spec) {
			return admission.Allowed("spec unchanged")
		}
	}
	if err := appcheck.Application(app); err != nil {
		return admission.Denied(err.Error())
	}
	if err := h.validate(ctx, app); err != nil {
		return admission.Denied(err.Error())
	}
	return admission.Allowed("")
}
