package e2e

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/velad-dev/velad/internal/testenv"
)

// runVelad runs the binary with a bounded time and returns its exit code
// and the last line it printed on stderr.
func runVelad(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	bin, err := testenv.Binary()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("velad %v did not finish within 90s; stderr:\n%s", args, stderr.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	all := strings.TrimSpace(stderr.String())
	lines := strings.Split(all, "\n")
	return code, lines[len(lines)-1], all
}

func TestServerRejectsBadInput(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)

	cases := []struct {
		name string
		args []string
		want string
		// dataDirCreated: whether the data dir may exist afterwards.
		dataDirCreated bool
	}{
		{"unknown flag", []string{"--no-such-flag"}, "velad: unknown flag: --no-such-flag; see 'velad server --help'", false},
		{"overlapping CIDRs", []string{"--cluster-cidr", "10.43.0.0/16"}, "--cluster-cidr 10.43.0.0/16 and --service-cidr 10.43.0.0/16 overlap", false},
		{"bad bind ip", []string{"--bind-ip", "localhost"}, `--bind-ip "localhost" is not an IP address`, false},
		{"unsupported datastore", []string{"--database-endpoint", "redis://127.0.0.1:6379"}, `--database-endpoint scheme "redis" is not supported`, false},
		{"stray argument", []string{"extra"}, `unknown command "extra" for "velad server"`, false},
		{"port in use", []string{"--https-listen-port", busyPort}, "port 0.0.0.0:" + busyPort + " is already in use", true},
		{"unreachable datastore", []string{"--database-endpoint", "postgres://velad:s3cret@127.0.0.1:1/velad"}, "cannot reach the datastore at 127.0.0.1:1", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			args := append([]string{"server", "--disable-agent", "--data-dir", dataDir, "-o", ""}, tc.args...)
			code, last, all := runVelad(t, args...)
			if code == 0 {
				t.Fatalf("exit code 0, want failure; stderr:\n%s", all)
			}
			if !strings.HasPrefix(last, "velad: ") || !strings.Contains(last, tc.want) {
				t.Fatalf("last stderr line %q, want it to contain %q", last, tc.want)
			}
			if strings.Contains(all, "panic") || strings.Contains(all, "s3cret") {
				t.Fatalf("stderr shows a panic or a password:\n%s", all)
			}
			if _, err := os.Stat(dataDir); !tc.dataDirCreated && err == nil {
				t.Errorf("data dir created although the flags were refused")
			}
		})
	}
}

func TestUnwritableDataDir(t *testing.T) {
	code, last, _ := runVelad(t, "server", "--disable-agent", "-o", "", "--data-dir", "/proc/velad-test")
	if code == 0 || !strings.Contains(last, "data dir /proc/velad-test is not usable") {
		t.Fatalf("exit %d, %q", code, last)
	}
}

// A failed start leaves a data dir that the next start uses as it is, and
// a corrupt CA is reported without being overwritten.
func TestFailedStartLeavesUsableState(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := testenv.Binary()
	if err != nil {
		t.Fatal(err)
	}
	s, err := testenv.NewServer(bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s.Ports.APIServer = busy.Addr().(*net.TCPAddr).Port
	code, last, _ := runVelad(t, s.Args()...)
	busy.Close()
	if code == 0 || !strings.Contains(last, "already in use") {
		t.Fatalf("start on a busy port: exit %d, %q", code, last)
	}
	t.Cleanup(func() { _ = s.Stop() })
	if err := s.Start(); err != nil {
		t.Fatalf("start after a failed start: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}

	caFile := filepath.Join(s.DataDir, "server", "tls", "client-ca.crt")
	keyFile := filepath.Join(s.DataDir, "server", "tls", "client-admin.key")
	key, _ := os.ReadFile(keyFile)
	if err := os.WriteFile(caFile, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, last, _ = runVelad(t, s.Args()...)
	if code == 0 || !strings.Contains(last, "CA client-ca is unreadable") || !strings.Contains(last, "restore") {
		t.Fatalf("start with a corrupt CA: exit %d, %q", code, last)
	}
	if got, _ := os.ReadFile(caFile); string(got) != "not a certificate" {
		t.Error("the corrupt CA was overwritten")
	}
	if got, _ := os.ReadFile(keyFile); !bytes.Equal(got, key) {
		t.Error("a client key was rewritten although the start was refused")
	}
}

// Bad controller values and unknown addons are refused before install
// touches the host.
func TestInstallRejectsBadInput(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"value of the wrong type", []string{"--set", "replicas=two"}, "replicas"},
		{"unknown value", []string{"--set", "replica=2"}, "replica"},
		{"value out of its set", []string{"--set", "logLevel=loud"}, "logLevel"},
		{"pair without a value", []string{"--set", "replicas"}, `--set "replicas"`},
		{"pair without a key", []string{"--set", "=x"}, `--set "=x": a key is empty`},
		{"--set without the controller", []string{"--cluster-only", "--set", "replicas=2"}, "drop one of them"},
		{"unknown addon", []string{"--disable-addon", "nope"}, `--disable-addon: unknown addon "nope" (velad carries: fluxcd, ingress, rollout)`},
		{"unknown addon with --cluster-only", []string{"--cluster-only", "--disable-addon", "fluxcd", "--disable-addon", "nope"}, `unknown addon "nope"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			kubeconfig := filepath.Join(t.TempDir(), "kubeconfig.yaml")
			t.Cleanup(func() {
				// Only if the refusal failed and install went ahead.
				if _, err := os.Stat(dataDir); err == nil {
					runVelad(t, "uninstall", "--data-dir", dataDir, "-o", kubeconfig)
				}
			})
			args := append([]string{"install", "--data-dir", dataDir, "-o", kubeconfig}, tc.args...)
			code, last, all := runVelad(t, args...)
			if code == 0 {
				t.Fatalf("exit code 0, want failure; stderr:\n%s", all)
			}
			if !strings.HasPrefix(last, "velad: ") || !strings.Contains(last, tc.want) {
				t.Fatalf("last stderr line %q, want it to contain %q", last, tc.want)
			}
			if strings.Contains(all, "panic") {
				t.Fatalf("stderr shows a panic:\n%s", all)
			}
			if _, err := os.Stat(dataDir); err == nil {
				t.Errorf("data dir created although the flags were refused")
			}
		})
	}
}
