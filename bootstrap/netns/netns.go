// Package netns removes the network namespace files of velad's pods.
// containerd's CNI setup bind-mounts each pod's namespace on a file under
// /run/netns; uninstall must unmount and delete those, and only those.
//
// It works from the mount table (mount IDs and parents), not from paths
// alone, because another program may have stacked a bind mount over
// /run/netns after velad's namespaces were mounted there: iproute2's first
// `ip netns add` bind-mounts /run/netns onto itself. velad's mounts are
// then hidden under that layer: the path shows the layer's copy (or a
// plain file once the copy is unmounted), umount says "not mounted" and
// unlink says "busy". This package reaches a hidden mount through the
// folder it really sits in:
//
//  1. the path itself, when it reaches the mount;
//  2. else the folder decoded from a file handle inside the mount below
//     the layer (open_by_handle_at): nothing changes for anyone else;
//  3. else (the mount below is itself covered, as with layers stacked on
//     layers, or file handles do not work there) by peeling what is
//     mounted on the folder for a moment: each layer is cloned with
//     everything mounted in it, taken off, and the clone put back at
//     once, so other programs' namespaces stay where they were.
//
// Mounts are unmounted only after checking, by mount ID, that the handle
// reaches the mount the table names; other programs' namespaces, and the
// layers themselves, are never removed.
package netns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/velad-dev/velad/bootstrap/mountinfo"
)

// Left is a namespace file that could not be removed.
type Left struct {
	Path string
	// Why it is left, and how to remove it by hand.
	Why, Fix string
}

// LeftError names every namespace file left, why, and how to remove it.
type LeftError struct{ Left []Left }

func (e *LeftError) Error() string {
	var parts []string
	for _, l := range e.Left {
		parts = append(parts, fmt.Sprintf("%s is left: %s; to remove it: %s", l.Path, l.Why, l.Fix))
	}
	return strings.Join(parts, "; ")
}

// Remove unmounts every mount of each namespace file (the one its path
// shows and any hidden under a layer) and deletes the file. A path that
// is already gone is fine. It returns a *LeftError for what it could not
// remove.
func Remove(procRoot string, paths []string) error {
	return each(procRoot, paths, remove)
}

// Surface leaves each namespace file with exactly one mount, the one its
// path reaches: a namespace hidden under a layer is bind-mounted on its
// path again and the hidden mounts are unmounted. Then whoever removes
// the namespace by its path (containerd, when it stops a pod) succeeds.
// It returns a *LeftError for the paths it could not surface.
func Surface(procRoot string, paths []string) error {
	return each(procRoot, paths, surface)
}

func each(procRoot string, paths []string, f func(*node, string) error) error {
	n := &node{procRoot: procRoot}
	defer n.close()
	var left []Left
	for _, p := range paths {
		path, err := resolve(p)
		if err == nil {
			err = f(n, path)
		}
		if err != nil {
			left = append(left, describe(p, err))
		}
	}
	if len(left) > 0 {
		return &LeftError{Left: left}
	}
	return nil
}

// resolve follows symbolic links in the folder (/var/run is usually a
// link to /run): the mount table shows real paths.
func resolve(path string) (string, error) {
	dir, err := filepath.EvalSymlinks(filepath.Dir(filepath.Clean(path)))
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, filepath.Base(path)), nil
}

// hiddenError is a mount no strategy reached.
type hiddenError struct {
	path  string
	cover mountinfo.Mount // the mount over it
	err   error
}

func (e *hiddenError) Error() string {
	return fmt.Sprintf("its mount is hidden under mount %d on %s and could not be reached (%v)", e.cover.ID, e.cover.Point, e.err)
}

func describe(path string, err error) Left {
	var h *hiddenError
	if errors.As(err, &h) {
		return Left{Path: path, Why: err.Error(), Fix: fmt.Sprintf(
			"check with 'ip netns list' that no other namespace still needs %s, then 'umount %s' (repeat while 'findmnt %s' shows a mount), 'umount %s' and 'rm %s'",
			h.cover.Point, h.cover.Point, h.cover.Point, path, path)}
	}
	return Left{Path: path, Why: err.Error(), Fix: fmt.Sprintf("'umount %s' (repeat until it says not mounted), then 'rm %s'", path, path)}
}

// maxRounds bounds the work on one path: each round unmounts at least one
// mount, and a path has one mount per layer (a handful).
const maxRounds = 16

func remove(n *node, path string) error {
	for range maxRounds {
		t, err := n.table()
		if err != nil {
			return err
		}
		ms := nsfsAt(t, path)
		if len(ms) == 0 {
			return n.unlink(path)
		}
		// The newest first: a mount stacked on the same file covers the
		// older one.
		if err := n.unmount(t, path, ms[len(ms)-1]); err != nil {
			return err
		}
	}
	return fmt.Errorf("still mounted after %d unmounts", maxRounds)
}

func surface(n *node, path string) error {
	t, err := n.table()
	if err != nil {
		return err
	}
	ms := nsfsAt(t, path)
	if len(ms) == 0 {
		return nil // not a namespace any more; containerd treats it as closed
	}
	visible, _ := mountOf(path)
	if !slices.ContainsFunc(ms, func(m mountinfo.Mount) bool { return m.ID == visible }) {
		// Only hidden mounts: bind the namespace on the path again.
		newest := ms[len(ms)-1]
		fd, err := n.openMount(t, path, newest, unix.O_RDONLY)
		if err != nil {
			return err
		}
		err = unix.Mount(fdPath(fd), path, "", unix.MS_BIND, "")
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("bind namespace %s on %s again: %w", newest.Root, path, err)
		}
		if visible, err = mountOf(path); err != nil {
			return err
		}
		if t, err = n.table(); err != nil {
			return err
		}
		ms = nsfsAt(t, path)
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].ID != visible {
			if err := n.unmount(t, path, ms[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// nsfsAt lists the namespace mounts on path, oldest first.
func nsfsAt(t mountinfo.Table, path string) []mountinfo.Mount {
	var out []mountinfo.Mount
	for _, m := range t.At(path) {
		if m.FSType == "nsfs" {
			out = append(out, m)
		}
	}
	return out
}

// node holds the folders reached below layers: descriptors of a folder as
// it is in one mount.
type node struct {
	procRoot string
	dirs     map[dirKey]int
}

type dirKey struct {
	mount int
	dir   string
}

func (n *node) close() {
	for _, fd := range n.dirs {
		unix.Close(fd)
	}
}

func (n *node) table() (mountinfo.Table, error) { return mountinfo.Read(n.procRoot) }

// unmount unmounts m, after checking that the handle used reaches it.
func (n *node) unmount(t mountinfo.Table, path string, m mountinfo.Mount) error {
	fd, err := n.openMount(t, path, m, unix.O_PATH)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Unmount(fdPath(fd), unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount %s (mount %d): %w", path, m.ID, err)
	}
	return nil
}

// unlink deletes the file in every folder it was reached through (the
// same folder, unless a layer of another file system covers it).
func (n *node) unlink(path string) error {
	var errs []error
	if err := unix.Unlink(path); err != nil && !errors.Is(err, unix.ENOENT) {
		errs = append(errs, fmt.Errorf("remove %s: %w", path, err))
	}
	for k, dfd := range n.dirs {
		if k.dir != filepath.Dir(path) {
			continue
		}
		if err := unix.Unlinkat(dfd, filepath.Base(path), 0); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("remove %s below the layer over it: %w", path, err))
		}
	}
	return errors.Join(errs...)
}

// openMount opens the root of mount m (mounted on path) and checks, by
// mount ID, that it is m.
func (n *node) openMount(t mountinfo.Table, path string, m mountinfo.Mount, flags int) (int, error) {
	name := filepath.Base(path)
	if id, err := mountOf(path); err == nil && id == m.ID {
		return openChecked(unix.AT_FDCWD, path, m, flags)
	}
	dfd, err := n.dirIn(t, filepath.Dir(path), m)
	if err != nil {
		return -1, err
	}
	return openChecked(dfd, name, m, flags)
}

func openChecked(dirfd int, name string, m mountinfo.Mount, flags int) (int, error) {
	fd, err := unix.Openat(dirfd, name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s (mount %d): %w", name, m.ID, err)
	}
	if id, err := mountID(fd); err != nil || id != m.ID {
		unix.Close(fd)
		return -1, fmt.Errorf("opening %s reached mount %d, not mount %d (%v)", name, id, m.ID, err)
	}
	return fd, nil
}

// dirIn returns a descriptor of folder dir as it is in m's parent mount,
// below whatever is stacked over it.
func (n *node) dirIn(t mountinfo.Table, dir string, m mountinfo.Mount) (int, error) {
	key := dirKey{m.Parent, dir}
	if fd, ok := n.dirs[key]; ok {
		return fd, nil
	}
	parent, ok := t.ByID(m.Parent)
	if !ok {
		return -1, fmt.Errorf("mount %d's parent %d is not in the mount table", m.ID, m.Parent)
	}
	fd, err := -1, errors.New("file handles not used")
	if useHandles {
		fd, err = dirByHandle(dir, parent)
	}
	if err != nil {
		fd, err = peel(t, dir, parent)
	}
	if err != nil {
		return -1, err
	}
	if n.dirs == nil {
		n.dirs = map[dirKey]int{}
	}
	n.dirs[key] = fd
	return fd, nil
}

// useHandles is false in tests that exercise peeling.
var useHandles = true

// dirByHandle decodes a file handle of dir inside parent: this reaches the
// folder below any layer without touching the layer. It needs the parent
// mount reachable at its own mount point, the same file system there as
// dir shows (a bind layer of the same folder), and file handle support.
func dirByHandle(dir string, parent mountinfo.Mount) (int, error) {
	if parent.Point == dir {
		return -1, errors.New("the mount below is covered at its own mount point")
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return -1, err
	}
	if dev := fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev)); dev != parent.Dev {
		return -1, fmt.Errorf("%s shows file system %s, the mount below is %s", dir, dev, parent.Dev)
	}
	mfd, err := unix.Open(parent.Point, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(mfd)
	if id, err := mountID(mfd); err != nil || id != parent.ID {
		return -1, fmt.Errorf("%s reaches mount %d, not mount %d", parent.Point, id, parent.ID)
	}
	h, _, err := unix.NameToHandleAt(unix.AT_FDCWD, dir, 0)
	if err != nil {
		return -1, fmt.Errorf("file handle of %s: %w", dir, err)
	}
	fd, err := unix.OpenByHandleAt(mfd, h, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("open %s by file handle: %w", dir, err)
	}
	if id, err := mountID(fd); err != nil || id != parent.ID {
		unix.Close(fd)
		return -1, fmt.Errorf("the file handle of %s reached mount %d, not %d", dir, id, parent.ID)
	}
	return fd, nil
}

// maxLayers bounds peeling: iproute2 stacks one layer; more is unusual.
const maxLayers = 4

// peel reaches dir in parent when mounts on dir cover it (layers): they
// are taken off, top first, and each is replaced at once by a clone of
// itself (with everything mounted in it) once dir has been opened. Only
// mounts on dir itself are lifted, never one on a folder above it.
func peel(t mountinfo.Table, dir string, parent mountinfo.Mount) (fd int, err error) {
	var clones []layer
	defer func() {
		if rerr := restore(dir, clones); rerr != nil {
			if fd >= 0 {
				unix.Close(fd)
			}
			fd, err = -1, rerr
		}
	}()
	for range maxLayers {
		top, err := mountOf(dir)
		if err != nil || top == parent.ID || !onDir(t, top, dir) {
			break
		}
		l, err := takeOff(t, dir, top)
		if err != nil {
			return -1, err
		}
		clones = append(clones, l)
	}
	fd, err = unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == nil {
		if id, _ := mountID(fd); id == parent.ID {
			return fd, nil
		}
		unix.Close(fd)
	}
	return -1, &hiddenError{path: dir, cover: coverOf(t, dir), err: errors.New("velad lifts only mounts on the namespace folder itself")}
}

// coverOf is the mount dir (or its nearest existing folder) reaches.
func coverOf(t mountinfo.Table, dir string) mountinfo.Mount {
	for p := dir; ; p = filepath.Dir(p) {
		if id, err := mountOf(p); err == nil {
			m, _ := t.ByID(id)
			return m
		}
		if p == "/" {
			return mountinfo.Mount{Point: dir}
		}
	}
}

// onDir reports whether mount id is a layer mounted exactly on dir.
func onDir(t mountinfo.Table, id int, dir string) bool {
	m, ok := t.ByID(id)
	return ok && m.Point == dir
}

// layer is a layer taken off dir: a detached clone to put back.
type layer struct {
	clone  int
	shared bool
}

// takeOff clones the top layer on dir with everything mounted in it, and
// detaches the original. The original is made private
// first, so that detaching it does not propagate into the clone.
func takeOff(t mountinfo.Table, dir string, top int) (layer, error) {
	m, _ := t.ByID(top)
	cover := &hiddenError{path: dir, cover: m}
	if err := unix.Mount("", dir, "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
		cover.err = fmt.Errorf("make the layer private: %w", err)
		return layer{}, cover
	}
	clone, err := unix.OpenTree(unix.AT_FDCWD, dir, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		if m.Shared {
			_ = unix.Mount("", dir, "", unix.MS_SHARED|unix.MS_REC, "")
		}
		cover.err = fmt.Errorf("clone the layer: %w", err)
		return layer{}, cover
	}
	if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
		unix.Close(clone)
		if m.Shared {
			_ = unix.Mount("", dir, "", unix.MS_SHARED|unix.MS_REC, "")
		}
		cover.err = fmt.Errorf("take the layer off: %w", err)
		return layer{}, cover
	}
	return layer{clone: clone, shared: m.Shared}, nil
}

// restore puts the clones back, the lowest layer first.
func restore(dir string, clones []layer) error {
	var errs []error
	for i := len(clones) - 1; i >= 0; i-- {
		l := clones[i]
		if err := unix.MoveMount(l.clone, "", unix.AT_FDCWD, dir, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			errs = append(errs, fmt.Errorf("put the layer over %s back (the namespaces other programs had in it are no longer visible there): %w", dir, err))
		} else if l.shared {
			if err := unix.Mount("", dir, "", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
				errs = append(errs, fmt.Errorf("make the layer over %s shared again: %w", dir, err))
			}
		}
		unix.Close(l.clone)
	}
	return errors.Join(errs...)
}

// mountOf is the ID of the mount path reaches (the top one on it).
func mountOf(path string) (int, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	return mountID(fd)
}

// mountID reads the mount ID of an open file from /proc/self/fdinfo
// (Linux 3.15+; statx's STATX_MNT_ID needs 5.8).
func mountID(fd int) (int, error) {
	data, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "mnt_id:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, errors.New("no mnt_id in /proc/self/fdinfo")
}

func fdPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }
