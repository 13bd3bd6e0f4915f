package lifecycle

import (
	"os"
	"reflect"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/velad-dev/velad/addons"
)

func TestControllerAccess(t *testing.T) {
	a := &addons.Addon{Name: "demo"}
	crd := func(group, plural string) []byte {
		return []byte("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  group: " + group + "\n  names: {plural: " + plural + "}\n")
	}
	all := []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	cases := []struct {
		name    string
		crds    [][]byte
		want    []rbacv1.PolicyRule
		wantErr string
	}{
		{"no CRDs, no role", nil, nil, ""},
		{"kinds by group, with status", [][]byte{crd("source.example.io", "repos"), crd("apps.example.io", "releases"), crd("source.example.io", "buckets")}, []rbacv1.PolicyRule{
			{APIGroups: []string{"apps.example.io"}, Resources: []string{"releases", "releases/status"}, Verbs: all},
			{APIGroups: []string{"source.example.io"}, Resources: []string{"buckets", "buckets/status", "repos", "repos/status"}, Verbs: all},
		}, ""},
		{"a CRD without a group", [][]byte{crd("", "repos")}, nil, "addon demo: a CRD without spec.group or spec.names.plural"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			role, err := controllerAccess(a, tc.crds)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if role != nil {
					t.Fatalf("a role without CRDs: %+v", role)
				}
				return
			}
			if role.Name != "velad-addon-demo" || role.Labels[AggregateToController] != "true" || role.Labels[addons.LabelAddon] != "demo" {
				t.Errorf("role %s labels %v", role.Name, role.Labels)
			}
			if !reflect.DeepEqual(role.Rules, tc.want) {
				t.Errorf("rules\n got: %+v\nwant: %+v", role.Rules, tc.want)
			}
		})
	}
}

// The label is the one the controller's chart aggregates.
func TestControllerAggregatesAddonRoles(t *testing.T) {
	rbac, err := os.ReadFile("../../charts/velad-controller/templates/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rbac), AggregateToController+`: "true"`) {
		t.Errorf("charts/velad-controller/templates/rbac.yaml aggregates no ClusterRole labelled %s", AggregateToController)
	}
}
