// Package rollout tells whether a Deployment has rolled out, the way
// `kubectl rollout status` does. Install waits on it for the system
// deployments and the controller; `velad status` reports it.
package rollout

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// DeploymentAvailable reports whether every replica of a Deployment is
// available.
func DeploymentAvailable(ctx context.Context, cs kubernetes.Interface, ns, name string) (bool, string) {
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, "not created yet"
	}
	if err != nil {
		return false, err.Error()
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	state := fmt.Sprintf("%d/%d available", st.AvailableReplicas, want)
	// As `kubectl rollout status`: an upgrade is done when every replica
	// runs the new template, is available, and no old one is left.
	if st.UpdatedReplicas < want || st.Replicas > st.UpdatedReplicas {
		state += fmt.Sprintf(", %d/%d updated, %d old", st.UpdatedReplicas, want, max(st.Replicas-st.UpdatedReplicas, 0))
	}
	done := st.ObservedGeneration >= d.Generation && st.UpdatedReplicas >= want &&
		st.Replicas <= st.UpdatedReplicas && st.AvailableReplicas >= st.UpdatedReplicas && st.AvailableReplicas >= want
	return done, state
}
