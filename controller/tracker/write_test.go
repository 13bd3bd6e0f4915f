package tracker

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

func TestWritePolicyFor(t *testing.T) {
	app := &v1beta1.Application{Spec: v1beta1.ApplicationSpec{
		Components: []v1beta1.ApplicationComponent{{Name: "web", Type: "webservice"}, {Name: "db", Type: "statefulset"}},
		Policies: []v1beta1.AppPolicy{
			{Name: "ro", Type: ReadOnlyPolicyType, Properties: &runtime.RawExtension{Raw: []byte(
				`{"rules":[{"selector":{"resourceTypes":["ConfigMap"],"resourceNames":["shared"]}}]}`)}},
			{Name: "upd", Type: ResourceUpdatePolicyType, Properties: &runtime.RawExtension{Raw: []byte(
				`{"rules":[{"selector":{"componentTypes":["statefulset"]},"strategy":{"op":"replace"}},
				  {"selector":{"resourceTypes":["Deployment","ConfigMap"]},"strategy":{"recreateFields":["spec.selector"]}},
				  {"selector":{"componentNames":["web"]},"strategy":{"op":"replace"}}]}`)}},
		},
	}}
	p, err := WritePolicyOf(app)
	if err != nil {
		t.Fatal(err)
	}
	mr := func(comp, kind, name string) v1beta1.ManagedResource {
		m := v1beta1.ManagedResource{Component: comp}
		m.Kind, m.Name = kind, name
		return m
	}
	cases := []struct {
		name string
		m    v1beta1.ManagedResource
		want WriteStrategy
	}{
		{"read-only wins over update rules", mr("web", "ConfigMap", "shared"), WriteStrategy{ReadOnly: true}},
		{"first update rule that selects", mr("db", "ConfigMap", "cfg"), WriteStrategy{Op: OpReplace}},
		{"op defaults to patch", mr("web", "Deployment", "web"), WriteStrategy{Op: OpPatch, RecreateFields: []string{"spec.selector"}}},
		{"a later rule", mr("web", "Service", "web"), WriteStrategy{Op: OpReplace}},
		{"no rule: patch", mr("api", "Service", "api"), WriteStrategy{Op: OpPatch}},
	}
	for _, c := range cases {
		if got := p.For(c.m); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestWritePolicyBadOp(t *testing.T) {
	app := &v1beta1.Application{Spec: v1beta1.ApplicationSpec{Policies: []v1beta1.AppPolicy{
		{Name: "upd", Type: ResourceUpdatePolicyType, Properties: &runtime.RawExtension{Raw: []byte(`{"rules":[{"strategy":{"op":"merge"}}]}`)}},
	}}}
	_, err := WritePolicyOf(app)
	if want := `policy "upd" (resource-update): strategy.op "merge": use "patch" or "replace"`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}
