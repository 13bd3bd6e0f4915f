package bootstrap

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// killProcesses kills what is left of the node: processes run from the
// data dir (containerd, shims) and their descendants (containers).
func (u *uninstaller) killProcesses(context.Context) error {
	return killUnder(u.o.ProcRoot, []string{u.paths.DataDir})
}

// killUnder kills every process whose executable lives under one of roots
// (containerd, shims) and every descendant of those (containers).
func killUnder(procRoot string, roots []string) error {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return err
	}
	parent := map[int]int{}
	var targets []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "stat")); err == nil {
			s := string(stat)
			if i := strings.LastIndex(s, ")"); i > 0 {
				f := strings.Fields(s[i+1:])
				if len(f) > 1 {
					ppid, _ := strconv.Atoi(f[1])
					parent[pid] = ppid
				}
			}
		}
		exe, err := os.Readlink(filepath.Join(procRoot, e.Name(), "exe"))
		if err != nil {
			continue
		}
		for _, r := range roots {
			if strings.HasPrefix(exe, r+"/") {
				targets = append(targets, pid)
			}
		}
	}
	kill := map[int]bool{}
	for _, t := range targets {
		kill[t] = true
	}
	for changed := true; changed; {
		changed = false
		for pid, ppid := range parent {
			if kill[ppid] && !kill[pid] {
				kill[pid], changed = true, true
			}
		}
	}
	for pid := range kill {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for pid := range kill {
		for time.Now().Before(deadline) && alive(pid) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}
