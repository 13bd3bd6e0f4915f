package tracker_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/tracker"
)

func TestPolicyStrategy(t *testing.T) {
	app := &v1beta1.Application{Spec: v1beta1.ApplicationSpec{
		Components: []v1beta1.ApplicationComponent{{Name: "web", Type: "webservice"}, {Name: "db", Type: "statefulset"}},
		Policies: []v1beta1.AppPolicy{{Name: "gc", Type: tracker.PolicyType, Properties: &runtime.RawExtension{Raw: []byte(`{
			"rules": [
				{"selector": {"componentNames": ["db"], "resourceTypes": ["PersistentVolumeClaim"]}, "strategy": "never"},
				{"selector": {"componentTypes": ["statefulset"]}, "strategy": "onAppDelete", "propagation": "orphan"},
				{"selector": {"oamTypes": ["TRAIT"], "traitTypes": ["gateway"]}, "strategy": "onAppDelete"}
			]}`)}}},
	}}
	p, err := tracker.PolicyOf(app)
	if err != nil {
		t.Fatal(err)
	}
	res := func(component, trait, kind, name string) v1beta1.ManagedResource {
		m := v1beta1.ManagedResource{Component: component, Trait: trait}
		m.Kind, m.Name = kind, name
		return m
	}
	tests := []struct {
		name        string
		m           v1beta1.ManagedResource
		strategy    tracker.Strategy
		propagation metav1.DeletionPropagation
	}{
		{"first matching rule wins", res("db", "", "PersistentVolumeClaim", "data"), tracker.Never, metav1.DeletePropagationBackground},
		{"by component type, orphaning", res("db", "", "StatefulSet", "db"), tracker.OnAppDelete, metav1.DeletePropagationOrphan},
		{"trait type and oam type", res("web", "gateway", "Ingress", "web"), tracker.OnAppDelete, metav1.DeletePropagationBackground},
		{"a component's own object is not a TRAIT", res("web", "", "Ingress", "web"), tracker.OnAppUpdate, metav1.DeletePropagationBackground},
		{"no rule: the default", res("web", "", "Deployment", "web"), tracker.OnAppUpdate, metav1.DeletePropagationBackground},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, prop := p.StrategyFor(tc.m)
			if s != tc.strategy || prop != tc.propagation {
				t.Errorf("got %s/%s, want %s/%s", s, prop, tc.strategy, tc.propagation)
			}
		})
	}

	none, err := tracker.PolicyOf(&v1beta1.Application{})
	if err != nil || none.KeepLegacyResource || len(none.Rules) != 0 {
		t.Errorf("no policy: %+v, %v", none, err)
	}
	bad := &v1beta1.Application{Spec: v1beta1.ApplicationSpec{Policies: []v1beta1.AppPolicy{{Name: "gc", Type: tracker.PolicyType,
		Properties: &runtime.RawExtension{Raw: []byte(`{"keepLegacyResource": "yes"}`)}}}}}
	if _, err := tracker.PolicyOf(bad); err == nil {
		t.Error("a mistyped policy: no error")
	}
}
