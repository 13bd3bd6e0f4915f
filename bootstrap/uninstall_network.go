package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/velad-dev/velad/bootstrap/netns"
	"github.com/velad-dev/velad/embedded/flannel"
)

// removeNetworking removes what pod networking left: the network
// namespaces of velad's pods, the cni0 bridge (its veths go with it), the
// chains kube-proxy and the CNI plugins added, and kube-proxy's nftables
// tables.
func (u *uninstaller) removeNetworking(ctx context.Context) error {
	p := u.paths
	var errs []error
	if err := u.removePodNetns(); err != nil {
		errs = append(errs, err)
	}
	if err := flannel.Remove(); err != nil {
		errs = append(errs, err)
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

// PodNetnsDir is where containerd mounts pod network namespaces.
const PodNetnsDir = "/var/run/netns"

// removePodNetns removes the network namespaces of velad's pods that are
// still there (containerd removes them as it stops the pods; see
// stopPods), whatever another program stacked over the folder, and no
// other program's. When containerd could not say which are velad's, the
// cni-* namespaces found are named and left.
func (u *uninstaller) removePodNetns() error {
	err := netns.Remove(u.o.ProcRoot, u.podNetns)
	if u.askedRuntime {
		return err
	}
	if _, statErr := os.Stat(u.paths.ContainerdConfig); statErr != nil {
		return err // velad ran no node here: none of them is velad's
	}
	entries, _ := os.ReadDir(PodNetnsDir)
	var unknown []string
	for _, e := range entries {
		if path := filepath.Join(PodNetnsDir, e.Name()); strings.HasPrefix(e.Name(), "cni-") && !slices.Contains(u.podNetns, path) {
			unknown = append(unknown, path)
		}
	}
	if len(unknown) == 0 {
		return err
	}
	return errors.Join(err, fmt.Errorf("velad's container runtime could not say which pod network namespaces are velad's, so these are left: %s; remove each that is velad's with 'umount PATH; rm PATH'",
		strings.Join(unknown, ", ")))
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
