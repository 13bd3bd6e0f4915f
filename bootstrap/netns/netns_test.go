package netns

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/velad-dev/velad/bootstrap/mountinfo"
)

// The tests mount: they run as root, each in a private mount namespace of
// its own (the test binary runs itself again with CLONE_NEWNS), so
// nothing they mount is seen by the host. A namespace "file" is the
// test's own network namespace bind-mounted on a file, as containerd and
// iproute2 do it; a layer is the folder bind-mounted onto itself
// (recursively, then made shared), as iproute2's first `ip netns add`
// does.

const childEnv = "VELAD_NETNS_TEST_CHILD"

// inMountNamespace runs the calling test again in a private mount
// namespace and reports its result; it returns true in that child.
func inMountNamespace(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		return true
	}
	if os.Getuid() != 0 {
		t.Skip("mounts file systems: needs root (CI runs as root)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	// Go makes / private (recursively) in the new mount namespace.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("in a private mount namespace: %v\n%s", err, out)
	}
	return false
}

// folder is a namespace folder on a tmpfs of its own, like /run/netns on
// /run.
type folder struct {
	t   *testing.T
	dir string
}

func newFolder(t *testing.T) *folder {
	run := t.TempDir()
	must(t, unix.Mount("tmpfs", run, "tmpfs", 0, "size=1m"))
	t.Cleanup(func() { _ = unix.Unmount(run, unix.MNT_DETACH) }) // and all below it
	dir := filepath.Join(run, "netns")
	must(t, os.Mkdir(dir, 0o755))
	return &folder{t: t, dir: dir}
}

func (f *folder) path(name string) string { return filepath.Join(f.dir, name) }

// add mounts a namespace on a new file, as containerd's CNI setup does.
func (f *folder) add(name string) string {
	p := f.path(name)
	must(f.t, os.WriteFile(p, nil, 0o444))
	must(f.t, unix.Mount("/proc/self/ns/net", p, "", unix.MS_BIND, ""))
	return p
}

// stack bind-mounts the folder onto itself as iproute2 does; private
// makes the new layer a peer group of its own first (so that nothing
// done in it propagates to the layer below).
func (f *folder) stack(private bool) {
	must(f.t, unix.Mount(f.dir, f.dir, "", unix.MS_BIND|unix.MS_REC, ""))
	if private {
		must(f.t, unix.Mount("", f.dir, "", unix.MS_PRIVATE|unix.MS_REC, ""))
	}
	must(f.t, unix.Mount("", f.dir, "", unix.MS_SHARED|unix.MS_REC, ""))
}

// unmountVisible unmounts what the path shows (the layer's copy), as
// containerd does when it tries to remove the namespace.
func (f *folder) unmountVisible(name string) {
	must(f.t, unix.Unmount(f.path(name), unix.MNT_DETACH))
}

func (f *folder) table() mountinfo.Table {
	tab, err := mountinfo.Read("/proc")
	must(f.t, err)
	return tab
}

// layers describes the mounts on the folder itself: one "s" (shared) or
// "p" per layer, bottom first.
func (f *folder) layers() string {
	var s string
	for _, m := range f.table().At(f.dir) {
		s += map[bool]string{true: "s", false: "p"}[m.Shared]
	}
	return s
}

// assertGone: no mount on the path, and no file.
func (f *folder) assertGone(p string) {
	f.t.Helper()
	if ms := nsfsAt(f.table(), p); len(ms) > 0 {
		f.t.Errorf("%s still has %d namespace mounts: %+v", p, len(ms), ms)
	}
	if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
		f.t.Errorf("%s is still there (%v)", p, err)
	}
}

// assertNamespace: the path shows a network namespace (another program's
// namespace is still usable).
func (f *folder) assertNamespace(p string) {
	f.t.Helper()
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		f.t.Errorf("open %s: %v", p, err)
		return
	}
	defer unix.Close(fd)
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil || st.Type != unix.NSFS_MAGIC {
		f.t.Errorf("%s is no longer a namespace (file system type %x, %v)", p, st.Type, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestRemove: velad's namespaces go whatever was stacked over the folder
// and when; other programs' namespaces and the layers stay.
func TestRemove(t *testing.T) {
	if !inMountNamespace(t) {
		return
	}
	cases := []struct {
		name string
		// setup mounts velad's namespaces ("cni-…") and another
		// program's ("theirs") and returns velad's.
		setup func(f *folder) []string
		// layers on the folder before and after ("s" shared, "p" private).
		layers  string
		handles bool
	}{
		{"no layer", func(f *folder) []string {
			a := f.add("cni-a")
			f.add("theirs")
			return []string{a}
		}, "", true},
		{"layer made before the pods (velad's mounts are in it)", func(f *folder) []string {
			f.stack(false)
			a := f.add("cni-a")
			f.add("theirs")
			return []string{a}
		}, "s", true},
		{"layer made while pods ran: copies and hidden originals", func(f *folder) []string {
			a, b := f.add("cni-a"), f.add("cni-b")
			f.stack(false)
			f.add("theirs")
			return []string{a, b}
		}, "s", true},
		{"layer made while pods ran, copies already unmounted (only hidden mounts)", func(f *folder) []string {
			a, b := f.add("cni-a"), f.add("cni-b")
			f.stack(false)
			f.unmountVisible("cni-a")
			f.unmountVisible("cni-b")
			f.add("theirs")
			return []string{a, b}
		}, "s", true},
		{"hidden mounts, reached by peeling the layer (no file handles)", func(f *folder) []string {
			a := f.add("cni-a")
			f.stack(false)
			f.unmountVisible("cni-a")
			f.add("theirs")
			return []string{a}
		}, "s", false},
		{"a private layer stacked over a shared one: peeling", func(f *folder) []string {
			f.stack(false)
			a := f.add("cni-a")
			f.add("theirs-below")
			f.stack(true)
			f.unmountVisible("cni-a")
			f.add("theirs")
			return []string{a}
		}, "ss", true},
		{"another file system mounted on the folder: lifted too", func(f *folder) []string {
			a := f.add("cni-a")
			must(t, unix.Mount("tmpfs", f.dir, "tmpfs", 0, "size=1m"))
			f.add("theirs")
			return []string{a}
		}, "p", true},
		{"mounted twice on one file, a layer between", func(f *folder) []string {
			a := f.add("cni-a")
			f.stack(false)
			must(t, unix.Mount("/proc/self/ns/net", a, "", unix.MS_BIND, ""))
			f.add("theirs")
			return []string{a}
		}, "s", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			useHandles = tc.handles
			defer func() { useHandles = true }()
			f := newFolder(t)
			ours := tc.setup(f)
			if got := f.layers(); got != tc.layers {
				t.Fatalf("setup made layers %q, want %q", got, tc.layers)
			}
			var theirs []string
			for _, m := range f.table() {
				if strings.HasPrefix(m.Point, f.dir+"/theirs") && !slices.Contains(theirs, m.Point) {
					theirs = append(theirs, m.Point)
				}
			}
			if err := Remove("/proc", append(ours, f.path("cni-never-existed"))); err != nil {
				t.Fatalf("Remove: %v", err)
			}
			for _, p := range ours {
				f.assertGone(p)
			}
			for _, p := range theirs {
				f.assertNamespace(p)
			}
			if got := f.layers(); got != tc.layers {
				t.Errorf("layers after Remove: %q, want %q", got, tc.layers)
			}
		})
	}
}

// TestSurface: after Surface, removing by path (what containerd does when
// it stops a pod) works, and other programs' namespaces stay.
func TestSurface(t *testing.T) {
	if !inMountNamespace(t) {
		return
	}
	for _, copies := range []bool{true, false} {
		name := map[bool]string{true: "the layer has copies", false: "only hidden mounts"}[copies]
		t.Run(name, func(t *testing.T) {
			f := newFolder(t)
			a := f.add("cni-a")
			f.stack(false)
			if !copies {
				f.unmountVisible("cni-a")
			}
			theirs := f.add("theirs")
			if err := Surface("/proc", []string{a}); err != nil {
				t.Fatalf("Surface: %v", err)
			}
			if ms := nsfsAt(f.table(), a); len(ms) != 1 {
				t.Fatalf("%d mounts on %s after Surface, want 1: %+v", len(ms), a, ms)
			}
			f.assertNamespace(a)
			// containerd: unmount the path, then delete the file.
			must(t, unix.Unmount(a, unix.MNT_DETACH))
			must(t, os.Remove(a))
			f.assertGone(a)
			f.assertNamespace(theirs)
		})
	}
}

// TestRemoveReportsWhatIsLeft: a namespace hidden under something that is
// not a bind layer of its folder is left, named, with how to remove it.
func TestRemoveReportsWhatIsLeft(t *testing.T) {
	if !inMountNamespace(t) {
		return
	}
	f := newFolder(t)
	a := f.add("cni-a")
	// A file system mounted over the folder above the namespace folder
	// hides it: velad does not lift that.
	run := filepath.Dir(f.dir)
	must(t, unix.Mount("tmpfs", run, "tmpfs", 0, "size=1m"))
	t.Cleanup(func() { _ = unix.Unmount(run, unix.MNT_DETACH) })
	must(t, os.Mkdir(f.dir, 0o755))
	must(t, os.WriteFile(a, nil, 0o444))
	err := Remove("/proc", []string{a})
	var left *LeftError
	if !errors.As(err, &left) || len(left.Left) != 1 {
		t.Fatalf("Remove: %v, want one namespace left", err)
	}
	l := left.Left[0]
	if l.Path != a || !strings.Contains(l.Why, "hidden under mount") || !strings.Contains(l.Fix, "umount "+run) {
		t.Errorf("left %+v", l)
	}
	if !strings.Contains(err.Error(), a+" is left: ") {
		t.Errorf("message: %v", err)
	}
}
