package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/velad-dev/velad/bootstrap/mountinfo"
)

// netnsDir is where containerd and iproute2 mount network namespaces.
const netnsDir = "/run/netns"

// addNamespaceOverPods does what a user (or a test with hosts in network
// namespaces) does while velad's pods run: `ip netns add` a namespace of
// its own. On a machine where /run/netns is not a mount point yet,
// iproute2 first bind-mounts /run/netns onto itself as a new shared
// layer, which hides the pod namespaces containerd mounted before. This
// stacks that layer itself (bind, private, then shared: a peer group of
// its own, exactly what iproute2 makes there), so the pod namespaces are
// hidden whether or not an earlier `ip netns add` left a layer on this
// machine. It returns the namespace's name; the namespace and the layer
// are removed when the test ends.
func addNamespaceOverPods(t *testing.T) string {
	t.Helper()
	if err := os.MkdirAll(netnsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	before := layerIDs(t)
	for _, flags := range []uintptr{unix.MS_BIND | unix.MS_REC, unix.MS_PRIVATE | unix.MS_REC, unix.MS_SHARED | unix.MS_REC} {
		src := ""
		if flags&unix.MS_BIND != 0 {
			src = netnsDir
		}
		if err := unix.Mount(src, netnsDir, "", flags, ""); err != nil {
			t.Fatalf("stack a layer over %s: %v", netnsDir, err)
		}
	}
	name := fmt.Sprintf("velad-e2e-%d", os.Getpid())
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", name, err, out)
		}
		// The test's layer (uninstall may have replaced it by a clone of
		// itself): unmounted unless another program has a namespace in it
		// by now (plain umount refuses a busy mount).
		ids := layerIDs(t)
		for i := len(ids) - 1; i >= 0 && !slices.Contains(before, ids[i]); i-- {
			if err := unix.Unmount(netnsDir, 0); err != nil {
				t.Logf("the layer the test stacked on %s stays: %v", netnsDir, err)
				break
			}
		}
	})
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	if hidden := hiddenPodNetns(t); len(hidden) == 0 {
		t.Fatalf("no pod network namespace is hidden under the layer over %s; the test does not reproduce what it means to", netnsDir)
	}
	return name
}

// layerIDs are the IDs of the mounts on /run/netns itself, bottom first.
func layerIDs(t *testing.T) []int {
	t.Helper()
	var ids []int
	for _, m := range readMounts(t).At(netnsDir) {
		ids = append(ids, m.ID)
	}
	return ids
}

// podNetnsMounts lists the mounts of cni-* namespaces under /run/netns,
// in every layer.
func podNetnsMounts(t *testing.T) []mountinfo.Mount {
	t.Helper()
	var out []mountinfo.Mount
	for _, m := range readMounts(t) {
		if m.FSType == "nsfs" && strings.HasPrefix(m.Point, netnsDir+"/cni-") {
			out = append(out, m)
		}
	}
	return out
}

// hiddenPodNetns lists the pod namespace mounts whose parent is not the
// top layer on /run/netns: their path no longer reaches them.
func hiddenPodNetns(t *testing.T) []mountinfo.Mount {
	t.Helper()
	ids := layerIDs(t)
	var hidden []mountinfo.Mount
	for _, m := range podNetnsMounts(t) {
		if len(ids) > 0 && m.Parent != ids[len(ids)-1] {
			hidden = append(hidden, m)
		}
	}
	return hidden
}

// onlyHiddenPodNetns lists the hidden pod namespace mounts whose path
// shows no mount at all any more (containerd unmounted the layer's copy
// and failed to remove the file).
func onlyHiddenPodNetns(t *testing.T) []mountinfo.Mount {
	t.Helper()
	var out []mountinfo.Mount
	for _, m := range hiddenPodNetns(t) {
		var st unix.Stat_t
		if err := unix.Stat(m.Point, &st); err == nil && st.Dev != nsfsDev(t) {
			out = append(out, m)
		}
	}
	return out
}

// nsfsDev is the device number of the namespace file system.
func nsfsDev(t *testing.T) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &st); err != nil {
		t.Fatal(err)
	}
	return st.Dev
}

func readMounts(t *testing.T) mountinfo.Table {
	t.Helper()
	tab, err := mountinfo.Read("/proc")
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// assertNamespaceUsable: a namespace of the test's own survived.
func assertNamespaceUsable(t *testing.T, name string) {
	t.Helper()
	if out, err := exec.Command("ip", "netns", "exec", name, "ip", "link", "show", "lo").CombinedOutput(); err != nil {
		t.Errorf("the test's own namespace %s is gone or unusable: %v: %s", name, err, out)
	}
}

// assertNoPodNetns: no cni-* namespace file and no cni-* namespace mount
// in any layer is left.
func assertNoPodNetns(t *testing.T) {
	t.Helper()
	for _, m := range podNetnsMounts(t) {
		t.Errorf("pod network namespace mount left: %s (mount %d, parent %d)", m.Point, m.ID, m.Parent)
	}
	entries, _ := os.ReadDir(netnsDir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "cni-") {
			t.Errorf("network namespace %s left behind", e.Name())
		}
	}
}
