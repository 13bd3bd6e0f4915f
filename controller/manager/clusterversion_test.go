package manager

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"github.com/velad-dev/velad/controller/render"
)

// TestClusterVersionFromServer: the renderer's context.clusterVersion is
// what the API server's /version says (here a server on loopback that
// answers as an EKS 1.29 one does, after failing once), read again while
// the controller runs.
func TestClusterVersionFromServer(t *testing.T) {
	var calls atomic.Int32
	minor := atomic.Value{}
	minor.Store("29+")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/version" {
			http.NotFound(w, req)
			return
		}
		if calls.Add(1) == 1 {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(version.Info{Major: "1", Minor: minor.Load().(string), GitVersion: "v1.29.4-eks-036c24b", Platform: "linux/arm64"})
	}))
	defer srv.Close()
	disc, err := discovery.NewDiscoveryClientForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	r := render.NewRenderer()
	cv := clusterVersion{disc: disc, renderer: r}
	if cv.read(context.Background()) {
		t.Fatal("read succeeded against a server that failed")
	}
	if got := r.ClusterVersion(); got != render.EmbeddedClusterVersion() {
		t.Errorf("after a failed read: %+v, want the embedded version", got)
	}
	if !cv.read(context.Background()) {
		t.Fatal("read failed")
	}
	want := render.ClusterVersion{Major: "1", Minor: "29+", GitVersion: "v1.29.4-eks-036c24b", Platform: "linux/arm64"}
	if got := r.ClusterVersion(); got != want {
		t.Errorf("cluster version %+v, want %+v", got, want)
	}

	// Start retries until the server answers, then keeps reading.
	calls.Store(0)
	minor.Store("30")
	r2 := render.NewRenderer()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- clusterVersion{disc: disc, renderer: r2}.Start(ctx) }()
	for r2.ClusterVersion().Minor != "30" && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	if got := r2.ClusterVersion(); got.Minor != "30" || got.GitVersion != "v1.29.4-eks-036c24b" {
		t.Errorf("Start: cluster version %+v, want minor 30 read after a failure", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Start: %v", err)
	}
}
