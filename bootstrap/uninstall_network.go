package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// removeNetworking removes what pod networking left: CNI network namespaces,
// the cni0 bridge (its veths go with it), the chains kube-proxy and the
// CNI plugins added, and kube-proxy's nftables tables.
func (u *uninstaller) removeNetworking(ctx context.Context) error {
	p := u.paths
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
