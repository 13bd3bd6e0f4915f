package bootstrap

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestNodeReadySince(t *testing.T) {
	start := time.Date(2026, 11, 30, 12, 0, 0, 500e6, time.UTC)
	node := func(status corev1.ConditionStatus, heartbeat time.Time) *corev1.Node {
		return &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "vm"},
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{
				{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
				{Type: corev1.NodeReady, Status: status, LastHeartbeatTime: metav1.NewTime(heartbeat), Message: "kubelet says why"},
			}},
		}
	}
	for _, tc := range []struct {
		name   string
		node   *corev1.Node
		since  time.Time
		ready  bool
		reason string
	}{
		{"no node", nil, start, false, "not found"},
		{"ready before the start: stale", node(corev1.ConditionTrue, start.Add(-time.Minute)), start, false, "fresh status"},
		// The API keeps seconds: a heartbeat in the start's second counts.
		{"ready in the start's second", node(corev1.ConditionTrue, start.Truncate(time.Second)), start, true, "Ready"},
		{"ready after the start", node(corev1.ConditionTrue, start.Add(time.Second)), start, true, "Ready"},
		{"not ready after the start", node(corev1.ConditionFalse, start.Add(time.Second)), start, false, "NotReady: kubelet says why"},
		{"any heartbeat when no start is known", node(corev1.ConditionTrue, start.Add(-time.Hour)), time.Time{}, true, "Ready"},
		{"no Ready condition", &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "vm"}}, start, false, "no Ready condition"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset()
			if tc.node != nil {
				cs = fake.NewClientset(tc.node)
			}
			ready, reason := NodeReadySince(context.Background(), cs, "vm", tc.since)
			if ready != tc.ready || !strings.Contains(reason, tc.reason) {
				t.Fatalf("NodeReadySince = %v %q, want %v and a reason containing %q", ready, reason, tc.ready, tc.reason)
			}
		})
	}
}
