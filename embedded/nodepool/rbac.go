package nodepool

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// PodNetworkRole lets the pod network (flannel) of every node read all
// Nodes (their pod CIDRs and VXLAN endpoints) and publish its own
// endpoint, which flannel's kube subnet manager patches through the
// status subresource (flannel's own ClusterRole): a kubelet's credentials
// may only read its own Node.
const PodNetworkRole = "velad:pod-network"

// EnsurePodNetworkRBAC binds user to PodNetworkRole.
func EnsurePodNetworkRBAC(ctx context.Context, cs kubernetes.Interface, user string) error {
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: PodNetworkRole},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{""}, Resources: []string{"nodes/status"}, Verbs: []string{"patch"}},
		},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: PodNetworkRole},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: PodNetworkRole},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	roles := cs.RbacV1().ClusterRoles()
	if _, err := roles.Create(ctx, role, metav1.CreateOptions{}); apierrors.IsAlreadyExists(err) {
		got, err := roles.Get(ctx, role.Name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("read ClusterRole %s: %w", role.Name, err)
		}
		got.Rules = role.Rules
		if _, err := roles.Update(ctx, got, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("update ClusterRole %s: %w", role.Name, err)
		}
	} else if err != nil {
		return fmt.Errorf("create ClusterRole %s: %w", role.Name, err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create ClusterRoleBinding %s: %w", binding.Name, err)
	}
	return nil
}
