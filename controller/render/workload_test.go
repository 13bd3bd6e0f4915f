package render

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestApplies(t *testing.T) {
	deploy := Workload{Definition: "webservice", Type: "deployments.apps", GVK: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}}
	job := Workload{Definition: "task", Type: "jobs.batch", GVK: schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}}
	cm := Workload{Definition: "k8s-objects", GVK: schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}}
	policy := Workload{Definition: "np", GVK: schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}}
	cases := []struct {
		name      string
		appliesTo []string
		w         Workload
		want      bool
	}{
		{"empty list fits all", nil, job, true},
		{"wildcard", []string{"*"}, cm, true},
		{"resource.group", []string{"deployments.apps"}, deploy, true},
		{"other resource", []string{"deployments.apps"}, job, false},
		{"definition name", []string{"task"}, job, true},
		{"kind", []string{"Deployment"}, deploy, true},
		{"apiVersion.kind", []string{"apps/v1.Deployment"}, deploy, true},
		{"Kind.group", []string{"Deployment.apps"}, deploy, true},
		{"Kind.group of another group", []string{"Deployment.apps"}, job, false},
		{"Kind.group of the core group", []string{"ConfigMap."}, cm, false},
		{"group wildcard", []string{"*.apps"}, deploy, true},
		{"group wildcard other group", []string{"*.apps"}, job, false},
		{"core resource without group", []string{"configmaps"}, cm, true},
		{"plural of y", []string{"networkpolicies.networking.k8s.io"}, policy, true},
		{"second entry", []string{"statefulsets.apps", "jobs.batch"}, job, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Applies(tc.appliesTo, tc.w); got != tc.want {
				t.Errorf("Applies(%v, %s) = %v, want %v", tc.appliesTo, tc.w.Resource(), got, tc.want)
			}
		})
	}
}

func TestConflicts(t *testing.T) {
	cases := []struct {
		name  string
		with  []string
		other string
		want  bool
	}{
		{"none", nil, "scaler", false},
		{"named", []string{"hpa"}, "hpa", true},
		{"other name", []string{"hpa"}, "scaler", false},
		{"wildcard", []string{"*"}, "scaler", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Conflicts(tc.with, tc.other); got != tc.want {
				t.Errorf("Conflicts(%v, %q) = %v, want %v", tc.with, tc.other, got, tc.want)
			}
		})
	}
}
