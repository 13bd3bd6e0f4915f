package apply

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestChangedField(t *testing.T) {
	live := &unstructured.Unstructured{Object: map[string]any{
		"spec": map[string]any{
			"replicas": int64(2),
			"selector": map[string]any{"matchLabels": map[string]any{"app": "web"}},
			"template": map[string]any{"spec": map[string]any{"containers": []any{
				map[string]any{"name": "web", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent"},
			}}},
		},
	}}
	desired := func(mutate func(spec map[string]any)) *unstructured.Unstructured {
		u := live.DeepCopy()
		delete(u.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any), "imagePullPolicy")
		u.Object["spec"].(map[string]any)["replicas"] = float64(2)
		if mutate != nil {
			mutate(u.Object["spec"].(map[string]any))
		}
		return u
	}
	cases := []struct {
		name    string
		desired *unstructured.Unstructured
		paths   []string
		want    string
		wantErr string
	}{
		{"nothing changed (numbers by value, defaults the live object has)", desired(nil), []string{"spec.replicas", "spec.selector", "spec.template"}, "", ""},
		{"selector changed", desired(func(s map[string]any) { s["selector"] = map[string]any{"matchLabels": map[string]any{"app": "api"}} }),
			[]string{"spec.replicas", "spec.selector"}, "spec.selector", ""},
		{"an indexed field", desired(func(s map[string]any) {
			s["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["image"] = "nginx:1.28"
		}), []string{"spec.template.spec.containers[0].image"}, "spec.template.spec.containers[0].image", ""},
		{"a path desired does not set is not compared", desired(nil), []string{"spec.minReadySeconds", "spec.template.spec.containers[3].image"}, "", ""},
		{"a path desired sets and live lacks", desired(func(s map[string]any) { s["paused"] = true }), []string{"spec.paused"}, "spec.paused", ""},
		{"bad index", desired(nil), []string{"spec.containers[x]"}, "", `field path "spec.containers[x]": an index is a number in brackets (write it as spec.template.spec.containers[0].image)`},
		{"empty segment", desired(nil), []string{"spec..image"}, "", `field path "spec..image": empty field name (write it as spec.template.spec.containers[0].image)`},
		{"empty", desired(nil), []string{""}, "", `field path "": empty (write it as spec.template.spec.containers[0].image)`},
	}
	for _, c := range cases {
		got, err := ChangedField(live, c.desired, c.paths)
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("%s: error %v, want %s", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}
