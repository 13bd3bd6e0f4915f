package bootstrap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeProc writes a /proc with one process (pid, comm) holding a socket
// listening on port 80 (IPv4) and one on 443 (IPv6), plus one socket in
// another state on 8080.
func fakeProc(t *testing.T) string {
	t.Helper()
	proc := t.TempDir()
	write := func(name, data string) {
		p := filepath.Join(proc, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	hdr := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	write("net/tcp", hdr+
		"   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n"+
		"   1: 0100007F:1F90 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 5151 1 0000000000000000 100 0 0 10 0\n")
	write("net/tcp6", hdr+
		"   0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 100 0 0 10 0\n")
	write("812/comm", "nginx\n")
	os.MkdirAll(filepath.Join(proc, "812/fd"), 0o755)
	os.Symlink("socket:[4242]", filepath.Join(proc, "812/fd/6"))
	os.Symlink("socket:[4343]", filepath.Join(proc, "812/fd/7"))
	os.Symlink("/dev/null", filepath.Join(proc, "812/fd/0"))
	write("900/comm", "curl\n")
	os.MkdirAll(filepath.Join(proc, "900/fd"), 0o755)
	os.Symlink("socket:[5151]", filepath.Join(proc, "900/fd/3"))
	return proc
}

func TestPortHolder(t *testing.T) {
	proc := fakeProc(t)
	for _, tc := range []struct {
		port int
		want string
	}{
		{80, "nginx (pid 812)"},
		{443, "nginx (pid 812)"},
		{8080, ""}, // connected, not listening
		{8443, ""},
	} {
		if got := PortHolder(proc, tc.port); got != tc.want {
			t.Errorf("PortHolder(%d) = %q, want %q", tc.port, got, tc.want)
		}
	}
}

func TestCheckIngressPorts(t *testing.T) {
	h := healthy()
	h.busyPorts = []int{80, 443}
	host := h.build(t)
	host.ProcRoot = fakeProc(t)
	err := checkIngressPorts(host, []int{80, 443})
	want := "port 80 is taken by nginx (pid 812); port 443 is taken by nginx (pid 812); the ingress addon (Traefik) serves the node's ports 80 and 443: " +
		"stop what listens there, or install without it (velad install --disable-addon ingress) and enable it on other ports " +
		"(velad addon enable ingress --set ports.web.hostPort=8080 --set ports.websecure.hostPort=8443)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	// Other ports are free: no complaint.
	if err := checkIngressPorts(host, []int{8081, 8444}); err != nil {
		t.Fatalf("free ports refused: %v", err)
	}
	// A port taken by a process /proc does not show (another namespace).
	h.busyPorts = []int{8081}
	host = h.build(t)
	if err := checkIngressPorts(host, []int{8081}); err == nil || !strings.Contains(err.Error(), "port 8081 is taken by another process") {
		t.Fatalf("err = %v", err)
	}
}
