package embedded

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// cri answers the two calls criReady makes as containerd does in each
// phase of its start.
type cri struct {
	runtimeapi.UnimplementedRuntimeServiceServer
	versionErr error
	conds      []*runtimeapi.RuntimeCondition
}

func (c *cri) Version(context.Context, *runtimeapi.VersionRequest) (*runtimeapi.VersionResponse, error) {
	if c.versionErr != nil {
		return nil, c.versionErr
	}
	return &runtimeapi.VersionResponse{RuntimeName: "containerd"}, nil
}

func (c *cri) Status(context.Context, *runtimeapi.StatusRequest) (*runtimeapi.StatusResponse, error) {
	return &runtimeapi.StatusResponse{Status: &runtimeapi.RuntimeStatus{Conditions: c.conds}}, nil
}

func TestCRIReady(t *testing.T) {
	runtimeReady := &runtimeapi.RuntimeCondition{Type: runtimeapi.RuntimeReady, Status: true}
	networkNotReady := &runtimeapi.RuntimeCondition{Type: runtimeapi.NetworkReady, Status: false, Reason: "NetworkPluginNotReady"}
	for _, tc := range []struct {
		name    string
		srv     *cri // nil: nothing listens
		wantErr string
	}{
		{"no socket", nil, "connect"},
		{"restoring containers", &cri{versionErr: status.Error(codes.Unavailable, "server is not initialized yet")}, "not initialized"},
		{"runtime not ready", &cri{conds: []*runtimeapi.RuntimeCondition{{Type: runtimeapi.RuntimeReady, Reason: "Starting"}}}, "runtime not ready: Starting"},
		{"no runtime condition", &cri{}, "no RuntimeReady"},
		// The CNI config comes later in the boot: network readiness is not asked.
		{"ready", &cri{conds: []*runtimeapi.RuntimeCondition{runtimeReady, networkNotReady}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			socket := filepath.Join(t.TempDir(), "containerd.sock")
			if tc.srv != nil {
				l, err := net.Listen("unix", socket)
				if err != nil {
					t.Fatal(err)
				}
				s := grpc.NewServer()
				runtimeapi.RegisterRuntimeServiceServer(s, tc.srv)
				go func() { _ = s.Serve(l) }()
				t.Cleanup(s.Stop)
			}
			err := criReady(context.Background(), socket)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("criReady: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("criReady = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
