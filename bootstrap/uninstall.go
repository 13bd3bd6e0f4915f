package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/velad-dev/velad/embedded/config"
)

// UninstallOptions are what uninstall needs to know.
type UninstallOptions struct {
	Config config.Config
	Daemon Daemon
	// ProcRoot is "/proc" (tests may point elsewhere).
	ProcRoot string
}

// UninstallSteps lists what `velad uninstall` does, in order. Every step
// is safe to run again, so a failed uninstall can simply be repeated.
func UninstallSteps(o *UninstallOptions) []Step {
	p := o.Config.Paths()
	return []Step{
		{"Stopping velad", func(context.Context) error { return o.Daemon.Remove() }},
		{"Stopping pods through the container runtime", func(ctx context.Context) error { return stopPods(ctx, p) }},
		{"Stopping leftover processes", func(context.Context) error { return killUnder(o.ProcRoot, []string{p.DataDir}) }},
		{"Unmounting volumes", func(context.Context) error { return unmountUnder(o.ProcRoot, mountRoots(p)) }},
		{"Removing pod networking (netns, cni0, iptables/nft rules)", func(ctx context.Context) error { return sweepNetwork(ctx, p) }},
		{"Removing files", func(context.Context) error { return removeFiles(o.Config) }},
		{"Restoring sysctls", func(context.Context) error {
			if err := restoreSysctls(o.ProcRoot); err != nil {
				return err
			}
			return removeAll(ConfigDir)
		}},
	}
}

func mountRoots(p config.Paths) []string {
	return []string{p.DataDir, p.RunDir, "/run/netns/cni-", "/var/run/netns/cni-"}
}

// removeFiles deletes everything install and the server created.
func removeFiles(cfg config.Config) error {
	p := cfg.Paths()
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

// Uninstall runs the uninstall steps; it keeps going after a failed step
// and reports every failure at the end.
func Uninstall(ctx context.Context, o *UninstallOptions, prog Progress) error {
	var errs []error
	for _, s := range UninstallSteps(o) {
		prog.Start(s.Name)
		err := s.Run(ctx)
		prog.Done(err, 0)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Name, err))
		}
	}
	return errors.Join(errs...)
}
