package supervisor

import (
	"context"
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestNodePassword(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	const first, other = "0123456789abcdef0123", "fedcba9876543210fedc"
	if err := EnsureNodePassword(ctx, cs, "edge-1", first); err != nil {
		t.Fatalf("first join: %v", err)
	}
	sec, err := cs.CoreV1().Secrets("kube-system").Get(ctx, "edge-1.node-password.velad", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h := string(sec.Data["hash"]); h == first || !CheckPassword(h, first) || CheckPassword(h, other) {
		t.Fatalf("stored hash %q: clear, or does not check", h)
	}
	if sec.Immutable == nil || !*sec.Immutable {
		t.Error("the node password Secret is not immutable")
	}
	if err := EnsureNodePassword(ctx, cs, "edge-1", first); err != nil {
		t.Fatalf("same machine again: %v", err)
	}
	if err := EnsureNodePassword(ctx, cs, "edge-1", other); !errors.Is(err, ErrNodePassword) {
		t.Fatalf("another machine with the same name: %v, want ErrNodePassword", err)
	}
	if err := EnsureNodePassword(ctx, cs, "edge-2", "short"); err == nil {
		t.Fatal("a short password was accepted")
	}
	if err := DeleteNodePassword(ctx, cs, "edge-1"); err != nil {
		t.Fatal(err)
	}
	if err := EnsureNodePassword(ctx, cs, "edge-1", other); err != nil {
		t.Fatalf("after the node left, a new machine takes the name: %v", err)
	}
}

func TestHashPasswordSalts(t *testing.T) {
	a, _ := HashPassword("0123456789abcdef")
	b, _ := HashPassword("0123456789abcdef")
	if a == b {
		t.Error("two hashes of one password are equal: no salt")
	}
	if CheckPassword("garbage", "0123456789abcdef") || CheckPassword("scrypt$!!$!!", "x") {
		t.Error("a malformed hash checked")
	}
}
