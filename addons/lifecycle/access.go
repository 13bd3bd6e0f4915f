package lifecycle

import (
	"context"
	"fmt"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/addons"
)

// AggregateToController labels the ClusterRoles the velad controller's
// chart aggregates into the controller's own role
// (charts/velad-controller/templates/rbac.yaml).
const AggregateToController = "rbac.velad.dev/aggregate-to-controller"

// controllerAccess is the ClusterRole "velad-addon-<name>" that lets the
// velad controller manage the kinds the addon's CRDs define: what the
// addon's definitions render (a HelmRelease, an IngressRoute), applied,
// watched for health and garbage-collected like any workload. nil when the
// addon brings no CRDs.
func controllerAccess(a *addons.Addon, crds [][]byte) (*rbacv1.ClusterRole, error) {
	byGroup := map[string][]string{}
	for _, doc := range crds {
		var crd struct {
			Spec struct {
				Group string `json:"group"`
				Names struct {
					Plural string `json:"plural"`
				} `json:"names"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(doc, &crd); err != nil {
			return nil, fmt.Errorf("addon %s: parse CRD: %w", a.Name, err)
		}
		if crd.Spec.Group == "" || crd.Spec.Names.Plural == "" {
			return nil, fmt.Errorf("addon %s: a CRD without spec.group or spec.names.plural", a.Name)
		}
		byGroup[crd.Spec.Group] = append(byGroup[crd.Spec.Group], crd.Spec.Names.Plural, crd.Spec.Names.Plural+"/status")
	}
	if len(byGroup) == 0 {
		return nil, nil
	}
	role := &rbacv1.ClusterRole{}
	role.APIVersion, role.Kind = "rbac.authorization.k8s.io/v1", "ClusterRole"
	role.Name = "velad-addon-" + a.Name
	role.Labels = map[string]string{AggregateToController: "true", addons.LabelAddon: a.Name}
	groups := make([]string, 0, len(byGroup))
	for g := range byGroup {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	for _, g := range groups {
		resources := byGroup[g]
		slices.Sort(resources)
		role.Rules = append(role.Rules, rbacv1.PolicyRule{
			APIGroups: []string{g},
			Resources: resources,
			Verbs:     []string{"get", "list", "watch", "create", "update", "patch", "delete"},
		})
	}
	return role, nil
}

// applyControllerAccess applies controllerAccess. Like the CRDs, it stays
// when the addon is disabled: objects of those kinds can still be cleaned
// up by the controller.
func (m *Manager) applyControllerAccess(ctx context.Context, a *addons.Addon, crds [][]byte) error {
	role, err := controllerAccess(a, crds)
	if err != nil || role == nil {
		return err
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(role)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: obj}
	if err := m.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("apply ClusterRole %s of addon %s: %w", role.Name, a.Name, err)
	}
	return nil
}
