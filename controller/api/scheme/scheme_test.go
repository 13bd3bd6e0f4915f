package scheme_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/velad-dev/velad/controller/api/scheme"
	"github.com/velad-dev/velad/controller/api/v1beta1"
)

func TestNewKnowsBuiltinAndOAMTypes(t *testing.T) {
	s, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, gvk := range []schema.GroupVersionKind{
		{Version: "v1", Kind: "ConfigMap"},
		{Group: "apps", Version: "v1", Kind: "Deployment"},
		v1beta1.GroupVersion.WithKind(v1beta1.ApplicationKind),
		v1beta1.GroupVersion.WithKind("ResourceTracker"),
	} {
		if !s.Recognizes(gvk) {
			t.Errorf("scheme does not know %s", gvk)
		}
	}
}
