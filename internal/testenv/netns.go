package testenv

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Test hosts live in network namespaces the test makes itself, on
// addresses from 198.18.0.0/15, the range set aside for network tests
// (RFC 2544): nothing outside this machine is ever a target.
//
// A Network is a bridge in the host's namespace with a /24; each Host is a
// network namespace joined to it by a veth pair, with the bridge's address
// as its default route, so the host (and pods, through the node) reach
// every test host, and test hosts reach each other.
//
//	net := testenv.NewNetwork(t)
//	repo := net.AddHost(t)
//	url := repo.ServeHTTP(t, handler) // http://198.19.x.2:port
//	repo.Command("velad", "server", …) // a process inside the namespace

// netLock serialises the choice of names and subnets between test
// processes running side by side.
const netLock = "/run/lock/velad-testnet.lock"

var netSeq atomic.Int32

// Network is a bridge with a /24 of test addresses.
type Network struct {
	Bridge  string
	Gateway net.IP // the bridge's address, the test hosts' default route
	prefix  [3]byte
	hosts   atomic.Int32
}

// Host is one network namespace on a Network.
type Host struct {
	// Name is the namespace's name (ip netns), IP its address.
	Name string
	IP   net.IP
	net  *Network
}

// NewNetwork creates a bridge with a free /24 from 198.18.0.0/15; it is
// deleted (with every host on it) when the test ends. Needs root.
func NewNetwork(t testing.TB) *Network {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("creates network namespaces: needs root (CI runs as root)")
	}
	n, err := newNetwork()
	if err != nil {
		t.Fatalf("test network: %v", err)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "link", "del", n.Bridge).CombinedOutput(); err != nil {
			t.Errorf("delete bridge %s: %v: %s", n.Bridge, err, out)
		}
	})
	return n
}

func newNetwork() (*Network, error) {
	unlock, err := flock(netLock)
	if err != nil {
		return nil, err
	}
	defer unlock()
	used, err := usedPrefixes()
	if err != nil {
		return nil, err
	}
	// 512 /24s in 198.18.0.0/15; start from the pid to spread processes.
	start := os.Getpid() + int(netSeq.Add(1))*7
	for i := range 512 {
		k := (start + i) % 512
		prefix := [3]byte{198, byte(18 + k/256), byte(k % 256)}
		if used[prefix] {
			continue
		}
		n := &Network{
			Bridge:  fmt.Sprintf("vtbr%d", k),
			Gateway: net.IPv4(prefix[0], prefix[1], prefix[2], 1),
			prefix:  prefix,
		}
		if err := run("ip", "link", "add", n.Bridge, "type", "bridge"); err != nil {
			continue // name taken by a test elsewhere: try the next
		}
		if err := runAll(
			[]string{"ip", "addr", "add", n.Gateway.String() + "/24", "dev", n.Bridge},
			[]string{"ip", "link", "set", n.Bridge, "up"},
		); err != nil {
			_ = run("ip", "link", "del", n.Bridge)
			return nil, err
		}
		return n, nil
	}
	return nil, errors.New("no free /24 left in 198.18.0.0/15")
}

// usedPrefixes lists the /24s that already have an address on this machine.
func usedPrefixes() (map[[3]byte]bool, error) {
	ifaces, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	used := map[[3]byte]bool{}
	for _, a := range ifaces {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip4 := ipn.IP.To4(); ip4 != nil {
				used[[3]byte{ip4[0], ip4[1], ip4[2]}] = true
			}
		}
	}
	return used, nil
}

// AddHost creates a network namespace on n with the next address; it is
// deleted when the test ends (its processes must have ended first: stop
// them with t.Cleanup registered after AddHost).
func (n *Network) AddHost(t testing.TB) *Host {
	t.Helper()
	idx := n.hosts.Add(1) + 1 // .2, .3, …
	if idx > 254 {
		t.Fatalf("test network %s is full", n.Bridge)
	}
	h := &Host{
		Name: fmt.Sprintf("velad-test-%d-%s-%d", os.Getpid(), strings.TrimPrefix(n.Bridge, "vtbr"), idx),
		IP:   net.IPv4(n.prefix[0], n.prefix[1], n.prefix[2], byte(idx)),
		net:  n,
	}
	hostEnd := fmt.Sprintf("vth%s-%d", strings.TrimPrefix(n.Bridge, "vtbr"), idx)
	t.Cleanup(func() {
		// Deleting the namespace deletes the veth pair with it.
		if out, err := exec.Command("ip", "netns", "del", h.Name).CombinedOutput(); err != nil {
			t.Errorf("delete netns %s: %v: %s", h.Name, err, out)
		}
	})
	if err := runAll(
		[]string{"ip", "netns", "add", h.Name},
		[]string{"ip", "link", "add", hostEnd, "type", "veth", "peer", "name", "eth0", "netns", h.Name},
		[]string{"ip", "link", "set", hostEnd, "master", n.Bridge, "up"},
		[]string{"ip", "-n", h.Name, "addr", "add", h.IP.String() + "/24", "dev", "eth0"},
		[]string{"ip", "-n", h.Name, "link", "set", "eth0", "up"},
		[]string{"ip", "-n", h.Name, "link", "set", "lo", "up"},
		[]string{"ip", "-n", h.Name, "route", "add", "default", "via", n.Gateway.String()},
	); err != nil {
		t.Fatalf("test host: %v", err)
	}
	return h
}

// NewHost is a test host on a network of its own.
func NewHost(t testing.TB) *Host {
	t.Helper()
	return NewNetwork(t).AddHost(t)
}

// Command runs a program inside the host's namespace.
func (h *Host) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", h.Name, name}, args...)...)
}

// Listen opens a listening socket inside the host's namespace (address
// "tcp", ":0" for any free port); the caller serves it from any goroutine.
func (h *Host) Listen(network, address string) (net.Listener, error) {
	var l net.Listener
	err := h.do(func() error {
		var err error
		l, err = net.Listen(network, address)
		return err
	})
	return l, err
}

// ServeHTTP serves handler inside the namespace until the test ends and
// returns its base URL (http://IP:port).
func (h *Host) ServeHTTP(t testing.TB, handler http.Handler) string {
	t.Helper()
	l, err := h.Listen("tcp", h.IP.String()+":0")
	if err != nil {
		t.Fatalf("listen in %s: %v", h.Name, err)
	}
	srv := &http.Server{Handler: handler}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + l.Addr().String()
}

// do runs fn on a thread switched into the namespace, then switches back.
func (h *Host) do(fn func() error) error {
	target, err := os.Open("/run/netns/" + h.Name)
	if err != nil {
		return err
	}
	defer target.Close()
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer self.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter netns %s: %w", h.Name, err)
	}
	fnErr := fn()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread is stuck in the namespace: leave it locked, so it
		// ends with this goroutine and is never reused.
		return fmt.Errorf("leave netns %s: %w", h.Name, err)
	}
	runtime.UnlockOSThread()
	return fnErr
}

func run(name string, args ...string) error {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func runAll(cmds ...[]string) error {
	for _, c := range cmds {
		if err := run(c[0], c[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// flock takes an exclusive lock on path and returns its release.
func flock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
