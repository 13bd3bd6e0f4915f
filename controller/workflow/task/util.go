package task

import (
	"context"

	"cuelang.org/go/cue"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// The util provider.

func (r *runner) utilString(_ context.Context, a *action) (map[string]any, error) {
	v := a.params.LookupPath(cue.ParsePath("bt"))
	b, err := v.Bytes()
	if err != nil {
		s, serr := v.String()
		if serr != nil {
			return nil, permanentf("IncompleteAction", "bt is not bytes: %v", err)
		}
		b = []byte(s)
	}
	return map[string]any{"str": string(b)}, nil
}

func (r *runner) utilPatch(_ context.Context, a *action) (map[string]any, error) {
	var p struct {
		Value map[string]any `json:"value"`
		Patch map[string]any `json:"patch"`
	}
	if err := a.decode(&p); err != nil {
		return nil, err
	}
	out, err := mergePatch(p.Value, p.Patch)
	if err != nil {
		return nil, err
	}
	return map[string]any{"result": out}, nil
}

func cuePath(s string) cue.Path { return cue.ParsePath(s) }

// runtimeConvert converts an unstructured object into a typed one.
func runtimeConvert(u *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
}
