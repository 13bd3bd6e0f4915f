package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
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
	return NodeReadySince(ctx, cs, node, time.Time{})
}

// NodeReadySince is NodeReady for a Ready condition whose heartbeat the
// kubelet posted at or after since (to the second, as the API keeps it).
func NodeReadySince(ctx context.Context, cs kubernetes.Interface, node string, since time.Time) (bool, string) {
	n, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if err != nil {
		return false, err.Error()
	}
	for _, c := range n.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		if c.LastHeartbeatTime.Time.Before(since.Truncate(time.Second)) {
			return false, "waiting for the kubelet to post a fresh status (last at " + c.LastHeartbeatTime.Format(time.TimeOnly) + ")"
		}
		if c.Status == corev1.ConditionTrue {
			return true, "Ready"
		}
		return false, "NotReady: " + c.Message
	}
	return false, "no Ready condition yet"
}
