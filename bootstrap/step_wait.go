package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// clientFor builds a client from a kubeconfig file.
func clientFor(kubeconfig string) (kubernetes.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.Timeout = 10 * time.Second
	return kubernetes.NewForConfig(cfg)
}

// waitFor polls cond every second until it holds or timeout passes; the
// error names what was awaited and the last state seen.
func waitFor(ctx context.Context, timeout time.Duration, what string, cond func(ctx context.Context) (bool, string)) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		ok, state := cond(ctx)
		last = state
		return ok, nil
	})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || wait.Interrupted(err) {
			return fmt.Errorf("%s not ready after %s (%s); see %s and 'velad status'", what, timeout, last, LogFile)
		}
		return err
	}
	return nil
}

// NodeReady reports whether the node is Ready.
func NodeReady(ctx context.Context, cs kubernetes.Interface, node string) (bool, string) {
	n, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if err != nil {
		return false, err.Error()
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			if c.Status == corev1.ConditionTrue {
				return true, "Ready"
			}
			return false, "NotReady: " + c.Message
		}
	}
	return false, "no Ready condition yet"
}

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
