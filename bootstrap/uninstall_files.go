package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// removeFiles deletes everything install and the server created.
func (u *uninstaller) removeFiles(context.Context) error {
	cfg, p := u.o.Config, u.paths
	paths := []string{p.DataDir, p.RunDir, InstalledBinary, LogFile, PIDFile}
	if cfg.KubeconfigPath != "" {
		paths = append(paths, cfg.KubeconfigPath)
	}
	errs := []error{unlinkCommands(filepath.Dir(InstalledBinary), InstalledBinary)}
	for _, path := range paths {
		errs = append(errs, removeAll(path))
	}
	// The kubelet links container logs from /var/log/containers.
	links, _ := filepath.Glob("/var/log/containers/*.log")
	for _, l := range links {
		if target, err := os.Readlink(l); err == nil && strings.HasPrefix(target, p.DataDir) {
			errs = append(errs, removeAll(l))
		}
	}
	// Folders velad or the kubelet created, if nothing else uses them.
	for _, dir := range []string{filepath.Dir(PIDFile), "/var/log/containers"} {
		_ = os.Remove(dir) // fails, and keeps it, unless empty
	}
	return errors.Join(errs...)
}

func removeAll(path string) error {
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}
