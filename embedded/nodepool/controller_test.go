package nodepool

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestApplyAddsPoolAttributesAndRemovesDroppedOnes(t *testing.T) {
	taint := func(k, v string) corev1.Taint {
		return corev1.Taint{Key: k, Value: v, Effect: corev1.TaintEffectNoSchedule}
	}
	pool := Pool{Name: "beijing", Spec: Spec{Type: "Edge", Labels: map[string]string{"zone": "north"}, Taints: []corev1.Taint{taint("apps.openyurt.io/example", "beijing")}}}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "bj-1", Labels: map[string]string{LabelDesiredPool: "beijing", "own": "x"}},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{taint("own", "y")}}}
	got, changed, err := Apply(pool, node)
	if err != nil || !changed {
		t.Fatalf("Apply = changed %v, %v", changed, err)
	}
	if got.Labels[LabelPool] != "beijing" || got.Labels["zone"] != "north" || got.Labels["own"] != "x" {
		t.Errorf("labels %v", got.Labels)
	}
	if len(got.Spec.Taints) != 2 {
		t.Errorf("taints %v, want the node's own and the pool's", got.Spec.Taints)
	}
	if _, again, _ := Apply(pool, got); again {
		t.Error("applying the same pool twice changes the node again")
	}
	// The pool drops its label and taint: they go, the node's own stay.
	pool.Spec = Spec{Type: "Edge"}
	after, changed, _ := Apply(pool, got)
	if !changed {
		t.Fatal("dropping the pool's attributes changed nothing")
	}
	if _, ok := after.Labels["zone"]; ok || after.Labels["own"] != "x" {
		t.Errorf("labels after the pool dropped zone: %v", after.Labels)
	}
	if len(after.Spec.Taints) != 1 || after.Spec.Taints[0].Key != "own" {
		t.Errorf("taints after the pool dropped its taint: %v", after.Spec.Taints)
	}
}

func TestCRDParsesWithBothVersions(t *testing.T) {
	crd, err := CRD()
	if err != nil {
		t.Fatal(err)
	}
	if len(crd.Spec.Versions) != 2 || crd.Spec.Versions[0].Name != "v1beta2" || !crd.Spec.Versions[0].Storage || crd.Spec.Versions[1].Name != "v1beta1" || !crd.Spec.Versions[1].Served {
		t.Errorf("versions %+v: want v1beta2 stored and v1beta1 served", crd.Spec.Versions)
	}
}
