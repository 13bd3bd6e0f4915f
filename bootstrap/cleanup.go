package bootstrap

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	remote "k8s.io/cri-client/pkg"

	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/containerd"
)

// stopPods starts the node's containerd on its own (velad server is
// stopped by now) and stops and removes every pod sandbox through the CRI,
// so the CNI plugins release addresses, veths and rules; then it stops
// containerd again.
func stopPods(ctx context.Context, p config.Paths) error {
	if _, err := os.Stat(filepath.Join(p.RuntimeBinDir, "containerd")); err != nil {
		return nil // never ran a node
	}
	if _, err := os.Stat(p.ContainerdConfig); err != nil {
		return nil
	}
	cmd := containerd.Command(p.RuntimeBinDir, p)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start containerd for cleanup: %w", err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var rs interface {
		ListPodSandbox(context.Context, *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error)
		StopPodSandbox(context.Context, string) error
		RemovePodSandbox(context.Context, string) error
	}
	for rs == nil {
		if _, err := os.Stat(p.ContainerdSocket); err == nil {
			svc, err := remote.NewRemoteRuntimeService(ctx, "unix://"+p.ContainerdSocket, 10*time.Second, nil, false)
			if err == nil {
				rs = svc
				break
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("containerd did not come up for cleanup: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	var sandboxes []*runtimeapi.PodSandbox
	var err error
	for i := 0; i < 50; i++ { // the CRI plugin may need a moment after the socket appears
		if sandboxes, err = rs.ListPodSandbox(ctx, nil); err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("list pod sandboxes: %w", err)
	}
	var errs []error
	for _, sb := range sandboxes {
		if err := rs.StopPodSandbox(ctx, sb.Id); err != nil {
			errs = append(errs, fmt.Errorf("stop pod %s/%s: %w", sb.Metadata.Namespace, sb.Metadata.Name, err))
			continue
		}
		if err := rs.RemovePodSandbox(ctx, sb.Id); err != nil {
			errs = append(errs, fmt.Errorf("remove pod %s/%s: %w", sb.Metadata.Namespace, sb.Metadata.Name, err))
		}
	}
	return errors.Join(errs...)
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

// unmountUnder unmounts every mount point under the given prefixes,
// deepest first.
func unmountUnder(procRoot string, prefixes []string) error {
	data, err := os.ReadFile(filepath.Join(procRoot, "self", "mountinfo"))
	if err != nil {
		return err
	}
	var points []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		mp := unescapeMount(f[4])
		for _, pre := range prefixes {
			if mp == pre || strings.HasPrefix(mp, strings.TrimSuffix(pre, "/")+"/") || (strings.HasSuffix(pre, "-") && strings.HasPrefix(mp, pre)) {
				points = append(points, mp)
				break
			}
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	var errs []error
	for _, mp := range points {
		if err := syscall.Unmount(mp, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", mp, err))
		}
	}
	return errors.Join(errs...)
}

func unescapeMount(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

// sweepNetwork removes what pod networking left: CNI network namespaces,
// the cni0 bridge (its veths go with it), the chains kube-proxy and the
// CNI plugins added, and kube-proxy's nftables tables.
func sweepNetwork(ctx context.Context, p config.Paths) error {
	var errs []error
	for _, dir := range []string{"/run/netns", "/var/run/netns"} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "cni-") {
				path := filepath.Join(dir, e.Name())
				_ = syscall.Unmount(path, syscall.MNT_DETACH)
				if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
					errs = append(errs, err)
				}
			}
		}
	}
	if ip, err := exec.LookPath("ip"); err == nil {
		if exec.CommandContext(ctx, ip, "link", "show", "cni0").Run() == nil {
			if out, err := exec.CommandContext(ctx, ip, "link", "delete", "cni0").CombinedOutput(); err != nil {
				errs = append(errs, fmt.Errorf("delete cni0: %v: %s", err, out))
			}
		}
	} else if _, err := os.Stat("/sys/class/net/cni0"); err == nil {
		errs = append(errs, errors.New("cni0 is left: install iproute2 and run 'ip link delete cni0'"))
	}
	for _, tool := range []string{"iptables", "ip6tables"} {
		if err := sweepIptables(ctx, tool); err != nil {
			errs = append(errs, err)
		}
	}
	if nft, err := exec.LookPath("nft"); err == nil {
		for _, family := range []string{"ip", "ip6"} {
			_ = exec.CommandContext(ctx, nft, "delete", "table", family, "kube-proxy").Run()
		}
	}
	_ = os.RemoveAll(p.CNIStateDir)
	return errors.Join(errs...)
}

// OwnedChain reports whether an iptables chain belongs to kube-proxy, the
// kubelet or the CNI plugins.
func OwnedChain(name string) bool {
	return strings.HasPrefix(name, "KUBE-") || strings.HasPrefix(name, "CNI-")
}

// FilterIptablesSave drops the chains OwnedChain claims, and every rule
// that jumps to one or lives in one, from iptables-save output (pure).
func FilterIptablesSave(save string) string {
	var out []string
	for _, line := range strings.Split(save, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 0 && strings.HasPrefix(f[0], ":") && OwnedChain(strings.TrimPrefix(f[0], ":")):
			continue
		case len(f) > 1 && (f[0] == "-A" || f[0] == "-I") && OwnedChain(f[1]):
			continue
		case ruleJumpsToOwned(f):
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

func ruleJumpsToOwned(f []string) bool {
	for i := 0; i+1 < len(f); i++ {
		if (f[i] == "-j" || f[i] == "-g") && OwnedChain(f[i+1]) {
			return true
		}
		if f[i] == "--comment" && strings.Contains(f[i+1], "CNI-") {
			return true
		}
	}
	return false
}

func sweepIptables(ctx context.Context, tool string) error {
	save, err := exec.LookPath(tool + "-save")
	if err != nil {
		return nil
	}
	restore, err := exec.LookPath(tool + "-restore")
	if err != nil {
		return nil
	}
	out, err := exec.CommandContext(ctx, save).Output()
	if err != nil {
		return nil // no such table support here
	}
	filtered := FilterIptablesSave(string(out))
	if filtered == string(out) {
		return nil
	}
	cmd := exec.CommandContext(ctx, restore)
	cmd.Stdin = strings.NewReader(filtered)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", restore, err, msg)
	}
	return nil
}
