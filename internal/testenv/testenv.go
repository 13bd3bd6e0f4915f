// Package testenv starts a real velad control plane for tests: a `velad
// server --disable-agent` process on a temp data dir and free loopback
// ports. Tests get a *rest.Config for a real API server in a few seconds,
// without linking Kubernetes into their own binary.
//
// The velad binary comes from $VELAD_BIN (the Makefile sets it), or is
// built once per test process with `go build`.
package testenv

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/velad-dev/velad/embedded/config"
)

// Timeouts; every wait here is bounded.
const (
	StartTimeout = 2 * time.Minute
	StopTimeout  = time.Minute
)

// Server is one velad server process.
type Server struct {
	Binary  string
	DataDir string
	// Kubeconfig is the admin kubeconfig the server writes.
	Kubeconfig string
	Ports      Ports
	LogFile    string
	// ExtraArgs are appended to the server's command line.
	ExtraArgs []string
	// Host, when set, is the network namespace the server runs in, bound
	// to its address (see InHost).
	Host *Host

	cmd    *exec.Cmd
	exited chan struct{}
	log    *os.File
}

// Ports are the server's loopback ports.
type Ports struct {
	APIServer, ControllerManager, Scheduler, Supervisor int
}

// New makes a server on a fresh temp data dir and free ports, starts it,
// waits until it is ready, and stops it when the test ends.
func New(t testing.TB, extraArgs ...string) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(bin, t.TempDir(), extraArgs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop velad server: %v", err)
		}
		if t.Failed() {
			t.Logf("velad server log (%s):\n%s", s.LogFile, s.LogTail(60))
		}
	})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// NewServer prepares (but does not start) a server with data under dir.
func NewServer(binary, dir string, extraArgs ...string) (*Server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	return &Server{
		Binary:     binary,
		DataDir:    filepath.Join(dir, "data"),
		Kubeconfig: filepath.Join(dir, "kubeconfig.yaml"),
		LogFile:    filepath.Join(dir, "velad.log"),
		Ports:      Ports{APIServer: ports[0], ControllerManager: ports[1], Scheduler: ports[2], Supervisor: ports[3]},
		ExtraArgs:  extraArgs,
	}, nil
}

// InHost makes the server run inside h's network namespace with
// --bind-ip h.IP: it is reached at h.IP (ExternalKubeconfig), as another
// machine's velad would be.
func (s *Server) InHost(h *Host) { s.Host = h }

// ExternalKubeconfig is the admin kubeconfig pointing at --bind-ip
// ('velad kubeconfig --external'), written when the server runs InHost.
func (s *Server) ExternalKubeconfig() string {
	return config.NewPaths(s.DataDir).ExternalAdminKubeconfig
}

// Args is the server's command line.
func (s *Server) Args() []string {
	bind := "127.0.0.1"
	if s.Host != nil {
		bind = s.Host.IP.String()
	}
	return append([]string{
		"server", "--disable-agent",
		"--data-dir", s.DataDir,
		"--write-kubeconfig", s.Kubeconfig,
		"--bind-ip", bind,
		"--https-listen-port", strconv.Itoa(s.Ports.APIServer),
		"--kube-controller-manager-port", strconv.Itoa(s.Ports.ControllerManager),
		"--kube-scheduler-port", strconv.Itoa(s.Ports.Scheduler),
		"--supervisor-port", strconv.Itoa(s.Ports.Supervisor),
	}, s.ExtraArgs...)
}

// Start starts the process and waits until the API server is ready.
func (s *Server) Start() error {
	if err := s.Launch(); err != nil {
		return err
	}
	return s.WaitReady(StartTimeout)
}

// Launch starts the process without waiting.
func (s *Server) Launch() error {
	if s.cmd != nil {
		return errors.New("server already running")
	}
	log, err := os.OpenFile(s.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.Binary, s.Args()...)
	if s.Host != nil {
		cmd = s.Host.Command(s.Binary, s.Args()...)
	}
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group, so a test's Ctrl-C reaches it only through us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start %s: %w", s.Binary, err)
	}
	s.cmd, s.log, s.exited = cmd, log, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	return nil
}

// PID is the server's process id, 0 when not running.
func (s *Server) PID() int {
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// WaitReady waits until /readyz answers ok through the admin kubeconfig.
func (s *Server) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("velad server exited before it was ready: %s", s.LogTail(20))
		default:
		}
		if last = s.ready(); last == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("velad server not ready after %s: %v", timeout, last)
}

// ready is true once every component answers: the API server's /readyz
// and the controller-manager's and scheduler's /healthz.
func (s *Server) ready() error {
	for _, port := range []int{s.Ports.ControllerManager, s.Ports.Scheduler} {
		if s.Host != nil {
			break // their ports are the namespace's loopback
		}
		if err := healthz(port); err != nil {
			return err
		}
	}
	cfg, err := s.RESTConfig()
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil {
		return err
	}
	if string(body) != "ok" {
		return fmt.Errorf("/readyz: %s", body)
	}
	return nil
}

func healthz(port int) error {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		// Loopback health check of a self-signed component endpoint.
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec
		DisableKeepAlives: true,
	}}
	resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/healthz", port))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("port %d /healthz: %d", port, resp.StatusCode)
	}
	return nil
}

// RESTConfig returns a client config for the admin.
func (s *Server) RESTConfig() (*rest.Config, error) {
	file := s.Kubeconfig
	if s.Host != nil {
		file = s.ExternalKubeconfig()
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", file)
	if err != nil {
		return nil, err
	}
	cfg.Timeout = 30 * time.Second
	return cfg, nil
}

// Stop sends SIGTERM and waits for a clean exit; after StopTimeout it
// kills the process and reports that.
func (s *Server) Stop() error {
	if s.cmd == nil {
		return nil
	}
	defer s.reset()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		if code := s.cmd.ProcessState.ExitCode(); code != 0 {
			return fmt.Errorf("velad server exited with %d after SIGTERM: %s", code, s.LogTail(10))
		}
		return nil
	case <-time.After(StopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("velad server did not stop within %s of SIGTERM", StopTimeout)
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (s *Server) Kill() error {
	if s.cmd == nil {
		return nil
	}
	defer s.reset()
	if err := s.cmd.Process.Kill(); err != nil {
		return err
	}
	<-s.exited
	return nil
}

func (s *Server) reset() {
	if s.log != nil {
		s.log.Close()
	}
	s.cmd, s.log = nil, nil
}

// LogTail returns the last n lines of the server's log.
func (s *Server) LogTail(n int) string {
	data, err := os.ReadFile(s.LogFile)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

var (
	buildOnce sync.Once
	built     string
	buildErr  error
)

// Binary returns the velad binary to run: $VELAD_BIN, or one built from
// this module once per process.
func Binary() (string, error) {
	if bin := os.Getenv("VELAD_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("VELAD_BIN: %w", err)
		}
		return abs, nil
	}
	buildOnce.Do(func() { built, buildErr = buildVelad() })
	return built, buildErr
}

func buildVelad() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	dir, err := os.MkdirTemp("", "velad-testenv-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "velad")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/velad")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build velad (set VELAD_BIN to use a prebuilt one): %v: %s", err, stderr.String())
	}
	return bin, nil
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Main runs a package's tests and then removes a velad binary built for
// them; call it from TestMain: func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	if built != "" {
		_ = os.RemoveAll(filepath.Dir(built))
	}
	return code
}
