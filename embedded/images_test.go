package embedded

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/velad-dev/velad/embedded/config"
)

// An agent imports its node payload while the kubelet starts, and nothing
// writes the pod network config (which the node's readiness waits for)
// before the import is done.
func TestAgentWaitsForNodeImagesBeforeCNI(t *testing.T) {
	var names []string
	for _, c := range AgentComponents(&config.Config{}) {
		names = append(names, c.Name())
	}
	at := func(name string) int {
		i := slices.Index(names, name)
		if i < 0 {
			t.Fatalf("agent components %v lack %q", names, name)
		}
		return i
	}
	if !(at("images") < at("kubelet") && at("kubelet") < at("node images") && at("node images") < at("cni")) {
		t.Errorf("agent components %v: want images, kubelet, node images, cni in this order", names)
	}
}

func TestNodeImagesImported(t *testing.T) {
	ctx := context.Background()
	if err := (&NodeImagesImported{Images: &Images{}}).Start(ctx); err == nil {
		t.Error("waiting on an Images that imports nothing in the background was accepted")
	}
	img := &Images{nodeIn: make(chan struct{}), nodeErr: make(chan error, 1)}
	n := &NodeImagesImported{Images: img}
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.Ready(ctx); err == nil {
		t.Error("ready before the node payload was imported")
	}
	img.nodeErr <- errors.New("ctr import: no space left")
	select {
	case err := <-n.Failed():
		if err == nil || err.Error() != "ctr import: no space left" {
			t.Errorf("Failed() gave %v", err)
		}
	default:
		t.Error("the import's failure did not reach Failed()")
	}
	close(img.nodeIn)
	if err := n.Ready(ctx); err != nil {
		t.Errorf("not ready once imported: %v", err)
	}
}
