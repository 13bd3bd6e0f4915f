package bootstrap

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/velad-dev/velad/embedded/config"
)

// Host is how preflight sees the machine; tests point it at fake /proc
// and /sys folders.
type Host struct {
	ProcRoot string // "/proc"
	SysRoot  string // "/sys"
	UID      int
	LookPath func(string) (string, error)
	// PortFree reports nil when nothing listens on the TCP port.
	PortFree func(port int) error
	// FreeBytes reports the free space of the file system holding path.
	FreeBytes func(path string) (uint64, error)
}

// RealHost is this machine.
func RealHost(lookPath func(string) (string, error)) Host {
	return Host{
		ProcRoot: "/proc", SysRoot: "/sys", UID: os.Getuid(), LookPath: lookPath,
		PortFree: func(port int) error {
			l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
			if err != nil {
				return err
			}
			return l.Close()
		},
		FreeBytes: func(path string) (uint64, error) {
			for ; ; path = filepath.Dir(path) {
				var st syscall.Statfs_t
				if err := syscall.Statfs(path, &st); err == nil {
					return st.Bavail * uint64(st.Bsize), nil
				} else if path == "/" {
					return 0, err
				}
			}
		},
	}
}

// MinFreeBytes is the free disk space install asks for.
const MinFreeBytes = 2 << 30

// Check is one preflight check; Run returns an error that says what is
// wrong and what to do.
type Check struct {
	Name string
	Run  func(h Host, cfg *config.Config) error
}

// Checks are the preflight checks, in order.
var Checks = []Check{
	{"running as root", checkRoot},
	{"cgroups", checkCgroups},
	{"overlay file system", checkOverlay},
	{"bridge netfilter", checkBridgeNetfilter},
	{"iptables or nft", checkFirewallTools},
	{"ports", checkPorts},
	{"disk space", checkDisk},
}

// Preflight runs every check and returns the failures, joined.
func Preflight(h Host, cfg *config.Config) error {
	var errs []error
	for _, c := range Checks {
		if err := c.Run(h, cfg); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.Name, err))
		}
	}
	return errors.Join(errs...)
}

func checkRoot(h Host, _ *config.Config) error {
	if h.UID != 0 {
		return errors.New("velad install needs root; run it with sudo")
	}
	return nil
}

// CgroupVersion reports 2 for the unified hierarchy, else 1.
func CgroupVersion(sysRoot string) int {
	if _, err := os.Stat(filepath.Join(sysRoot, "fs/cgroup/cgroup.controllers")); err == nil {
		return 2
	}
	return 1
}

func checkCgroups(h Host, _ *config.Config) error {
	need := []string{"cpu", "memory", "pids"}
	var missing []string
	if CgroupVersion(h.SysRoot) == 2 {
		data, err := os.ReadFile(filepath.Join(h.SysRoot, "fs/cgroup/cgroup.controllers"))
		if err != nil {
			return err
		}
		have := strings.Fields(string(data))
		for _, c := range need {
			if !slices.Contains(have, c) {
				missing = append(missing, c)
			}
		}
	} else {
		for _, c := range need {
			if _, err := os.Stat(filepath.Join(h.SysRoot, "fs/cgroup", c)); err != nil {
				missing = append(missing, c)
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	hint := "enable them in the kernel"
	if slices.Contains(missing, "memory") {
		hint = "add 'cgroup_memory=1 cgroup_enable=memory' to the kernel command line (on a Raspberry Pi: /boot/cmdline.txt) and reboot"
	}
	return fmt.Errorf("cgroup v%d controllers missing: %s; %s", CgroupVersion(h.SysRoot), strings.Join(missing, ", "), hint)
}

func checkOverlay(h Host, _ *config.Config) error {
	data, err := os.ReadFile(filepath.Join(h.ProcRoot, "filesystems"))
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[len(f)-1] == "overlay" {
			return nil
		}
	}
	return errors.New("the overlay file system is not available; run 'modprobe overlay' (package kmod) or use a kernel with overlayfs")
}

func checkBridgeNetfilter(h Host, _ *config.Config) error {
	if _, err := os.Stat(filepath.Join(h.ProcRoot, "sys/net/bridge/bridge-nf-call-iptables")); err != nil {
		return errors.New("bridge netfilter is not loaded; run 'modprobe br_netfilter'")
	}
	return nil
}

func checkFirewallTools(h Host, _ *config.Config) error {
	for _, tool := range []string{"iptables", "nft"} {
		if _, err := h.LookPath(tool); err == nil {
			return nil
		}
	}
	return errors.New("neither iptables nor nft is installed; run 'apt-get install iptables'")
}

func checkPorts(h Host, cfg *config.Config) error {
	var busy []string
	for _, port := range []int{cfg.HTTPSPort, 10250} {
		if err := h.PortFree(port); err != nil {
			busy = append(busy, strconv.Itoa(port))
		}
	}
	if len(busy) > 0 {
		return fmt.Errorf("port %s already in use; stop what listens there (another Kubernetes?) or choose --https-listen-port", strings.Join(busy, ", "))
	}
	return nil
}

func checkDisk(h Host, cfg *config.Config) error {
	free, err := h.FreeBytes(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("cannot read free space of %s: %v", cfg.DataDir, err)
	}
	if free < MinFreeBytes {
		return fmt.Errorf("only %d MiB free under %s, need %d MiB; free some space or choose another --data-dir", free>>20, cfg.DataDir, MinFreeBytes>>20)
	}
	return nil
}
