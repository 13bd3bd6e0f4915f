package bootstrap

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/velad-dev/velad/embedded/config"
)

// fakeHost builds /proc and /sys trees in a temp dir.
type fakeHost struct {
	cgroupV2    string   // contents of cgroup.controllers; empty: cgroup v1
	v1          []string // v1 controller folders
	overlay     bool
	brNetfilter bool
	tools       []string
	busyPorts   []int
	free        uint64
	uid         int
}

func (f fakeHost) build(t *testing.T) Host {
	t.Helper()
	root := t.TempDir()
	proc, sys := filepath.Join(root, "proc"), filepath.Join(root, "sys")
	os.MkdirAll(filepath.Join(sys, "fs/cgroup"), 0o755)
	if f.cgroupV2 != "" {
		os.WriteFile(filepath.Join(sys, "fs/cgroup/cgroup.controllers"), []byte(f.cgroupV2+"\n"), 0o644)
	}
	for _, c := range f.v1 {
		os.MkdirAll(filepath.Join(sys, "fs/cgroup", c), 0o755)
	}
	fs := "nodev\tsysfs\nnodev\ttmpfs\n\text4\n"
	if f.overlay {
		fs += "nodev\toverlay\n"
	}
	os.MkdirAll(proc, 0o755)
	os.WriteFile(filepath.Join(proc, "filesystems"), []byte(fs), 0o644)
	if f.brNetfilter {
		os.MkdirAll(filepath.Join(proc, "sys/net/bridge"), 0o755)
		os.WriteFile(filepath.Join(proc, "sys/net/bridge/bridge-nf-call-iptables"), []byte("1\n"), 0o644)
	}
	return Host{
		ProcRoot: proc, SysRoot: sys, UID: f.uid,
		LookPath: func(name string) (string, error) {
			if slices.Contains(f.tools, name) {
				return "/usr/sbin/" + name, nil
			}
			return "", errors.New("not found")
		},
		PortFree: func(port int) error {
			for _, p := range f.busyPorts {
				if p == port {
					return errors.New("in use")
				}
			}
			return nil
		},
		FreeBytes: func(string) (uint64, error) { return f.free, nil },
	}
}

func healthy() fakeHost {
	return fakeHost{v1: []string{"cpu", "memory", "pids"}, overlay: true, brNetfilter: true, tools: []string{"iptables"}, free: 10 << 30}
}

func TestPreflight(t *testing.T) {
	cases := []struct {
		name   string
		change func(f *fakeHost)
		want   []string // substrings of the error; none: passes
	}{
		{"healthy cgroup v1 host", func(f *fakeHost) {}, nil},
		{"healthy cgroup v2 host with nft only", func(f *fakeHost) {
			f.v1, f.cgroupV2, f.tools = nil, "cpuset cpu io memory hugetlb pids rdma", []string{"nft"}
		}, nil},
		{"not root", func(f *fakeHost) { f.uid = 1000 }, []string{"running as root: velad install needs root; run it with sudo"}},
		{"no memory cgroup (Raspberry Pi)", func(f *fakeHost) { f.v1 = []string{"cpu", "pids"} }, []string{"cgroup v1 controllers missing: memory", "cgroup_enable=memory"}},
		{"cgroup v2 without pids", func(f *fakeHost) { f.v1, f.cgroupV2 = nil, "cpu memory" }, []string{"cgroup v2 controllers missing: pids"}},
		{"no overlay", func(f *fakeHost) { f.overlay = false }, []string{"modprobe overlay"}},
		{"no br_netfilter", func(f *fakeHost) { f.brNetfilter = false }, []string{"modprobe br_netfilter"}},
		{"no iptables nor nft", func(f *fakeHost) { f.tools = nil }, []string{"apt-get install iptables"}},
		{"ports busy", func(f *fakeHost) { f.busyPorts = []int{6443, 10250} }, []string{"port 6443, 10250 already in use"}},
		{"disk full", func(f *fakeHost) { f.free = 100 << 20 }, []string{"only 100 MiB free", "need 2048 MiB"}},
		{"several problems at once", func(f *fakeHost) { f.uid, f.overlay = 1, false }, []string{"needs root", "modprobe overlay"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := healthy()
			tc.change(&f)
			cfg := config.Default()
			err := Preflight(f.build(t), &cfg)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected failure: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("preflight passed, want a failure")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
