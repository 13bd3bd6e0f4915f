package rollout

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

func TestDeploymentAvailable(t *testing.T) {
	tests := []struct {
		name   string
		gen    int64
		status appsv1.DeploymentStatus
		want   bool
	}{
		{"rolled out", 2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}, true},
		{"new spec not seen yet", 3, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}, false},
		{"new pod starting, old one still serving", 2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 1, AvailableReplicas: 1}, false},
		{"new pod not available yet", 2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 0}, false},
		{"nothing updated", 2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 0, AvailableReplicas: 1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns", Generation: tc.gen},
				Spec:       appsv1.DeploymentSpec{Replicas: ptr.To(int32(1))},
				Status:     tc.status,
			}
			ok, state := DeploymentAvailable(context.Background(), fake.NewSimpleClientset(d), "ns", "c")
			if ok != tc.want {
				t.Errorf("available = %v (%s), want %v", ok, state, tc.want)
			}
		})
	}
	if ok, state := DeploymentAvailable(context.Background(), fake.NewSimpleClientset(), "ns", "c"); ok || state != "not created yet" {
		t.Errorf("missing deployment: %v %q", ok, state)
	}
}
