package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/velad-dev/velad/internal/testenv"
)

// hostVelad is velad installed on this machine for one test.
type hostVelad struct {
	bin        string // the velad binary under test
	dir        string // the test's temp dir, holding dataDir and kubeconfig
	dataDir    string
	kubeconfig string
	installOut string // what `velad install` printed
}

// installVelad installs velad on this machine in a data dir of the
// test's own, holding the host lock, and uninstalls it when the test
// ends (an uninstall that fails fails the test). It needs root.
func installVelad(t *testing.T) *hostVelad {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("installs velad on this machine: needs root (CI runs as root)")
	}
	testenv.LockHost(t)
	bin, err := testenv.Binary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	v := &hostVelad{bin: bin, dir: dir, dataDir: filepath.Join(dir, "data"), kubeconfig: filepath.Join(dir, "kubeconfig.yaml")}
	diagnosticLogs = []string{filepath.Join(v.dataDir, "agent/containerd/containerd.log")}
	t.Cleanup(func() {
		if out, err := exec.Command(bin, "uninstall", "--data-dir", v.dataDir, "-o", v.kubeconfig).CombinedOutput(); err != nil {
			t.Errorf("uninstall: %v\n%s", err, out)
		}
	})
	v.installOut = runOK(t, 6*time.Minute, bin, "install", "--data-dir", v.dataDir, "-o", v.kubeconfig, "--timeout", "4m")
	return v
}
