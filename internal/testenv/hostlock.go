package testenv

import (
	"fmt"
	"os"
	"syscall"
	"testing"
)

// HostLockPath is the lock every test that installs velad on this machine
// (ports 6443 and 10250, /usr/local/bin links, iptables, the daemon unit)
// holds for its whole run, so that checkouts tested side by side never
// install two velads on one host at once.
const HostLockPath = "/run/lock/velad-e2e-host.lock"

// LockHost blocks until this test owns the host, and releases it when the
// test ends.
func LockHost(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(HostLockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatalf("open host lock: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Logf("waiting for %s (another checkout's test is installing velad on this host)", HostLockPath)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			t.Fatal(fmt.Errorf("lock host: %w", err))
		}
	}
	t.Cleanup(func() { f.Close() })
}
