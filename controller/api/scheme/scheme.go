// Package scheme builds the runtime.Scheme that velad's clients and the
// controller speak: the Kubernetes built-in types and the OAM types of
// core.oam.dev/v1beta1. It lives with the API types so that a client
// (the CLI library, tests, benchmarks) need not import the controller.
package scheme

import (
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// New returns a new scheme with the Kubernetes built-in types and the OAM
// types.
func New() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1beta1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}
