package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/velad-dev/velad/bootstrap/mountinfo"
)

// unmountVolumes unmounts what the kubelet and containerd mounted under
// the data and run folders (pod volumes, container root file systems).
// Pod network namespaces are removeNetworking's.
func (u *uninstaller) unmountVolumes(context.Context) error {
	return unmountUnder(u.o.ProcRoot, []string{u.paths.DataDir, u.paths.RunDir})
}

// unmountUnder unmounts every mount point under the given prefixes,
// deepest first.
func unmountUnder(procRoot string, prefixes []string) error {
	t, err := mountinfo.Read(procRoot)
	if err != nil {
		return err
	}
	var errs []error
	for _, mp := range t.Under(prefixes...) {
		if err := syscall.Unmount(mp, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", mp, err))
		}
	}
	return errors.Join(errs...)
}
