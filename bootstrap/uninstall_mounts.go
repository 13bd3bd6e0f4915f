package bootstrap

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/velad-dev/velad/embedded/config"
)

// unmountVolumes unmounts what the kubelet and containerd mounted (pod
// volumes, container root file systems, network namespaces).
func (u *uninstaller) unmountVolumes(context.Context) error {
	return unmountUnder(u.o.ProcRoot, mountRoots(u.paths))
}

func mountRoots(p config.Paths) []string {
	return []string{p.DataDir, p.RunDir, "/run/netns/cni-", "/var/run/netns/cni-"}
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
