package embedded

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// cgroupMounts lists the cgroup hierarchies mounted on this machine (one
// for cgroup v2, one per controller set for v1).
func cgroupMounts() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, f := range fields {
			if f == "-" && i+1 < len(fields) && (fields[i+1] == "cgroup" || fields[i+1] == "cgroup2") {
				out = append(out, fields[4])
			}
		}
	}
	return out, sc.Err()
}

// ensureCgroupRoot creates the kubelet's cgroup root (when it is not the
// root) in every hierarchy; the kubelet refuses a root that does not
// exist. cpuset needs its CPUs and memory nodes filled before children
// can be made.
func ensureCgroupRoot(root string) error {
	if root == "" {
		return nil
	}
	mounts, err := cgroupMounts()
	if err != nil {
		return fmt.Errorf("read cgroup mounts: %w", err)
	}
	for _, m := range mounts {
		dir := filepath.Join(m, root)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create cgroup %s: %w", dir, err)
		}
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if cur, err := os.ReadFile(filepath.Join(dir, f)); err != nil || strings.TrimSpace(string(cur)) != "" {
				continue
			}
			if parent, err := os.ReadFile(filepath.Join(m, f)); err == nil {
				_ = os.WriteFile(filepath.Join(dir, f), parent, 0o644)
			}
		}
	}
	return nil
}

// RemoveCgroupRoot removes the cgroup root and what the kubelet made
// under it (empty once the pods are gone), deepest first.
func RemoveCgroupRoot(root string) error {
	if root == "" {
		return nil
	}
	mounts, err := cgroupMounts()
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range mounts {
		top := filepath.Join(m, root)
		var dirs []string
		_ = filepath.WalkDir(top, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := os.Remove(dirs[i]); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
