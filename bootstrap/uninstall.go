package bootstrap

import (
	"context"
	"errors"
	"fmt"

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
// is safe to run again, so a failed uninstall can simply be repeated. Each
// step is a method of uninstaller in its own uninstall_*.go file.
func UninstallSteps(o *UninstallOptions) []Step {
	u := &uninstaller{o: o, paths: o.Config.Paths()}
	return []Step{
		{"Stopping velad", u.stopDaemon},
		{"Stopping pods through the container runtime", u.stopPods},
		{"Stopping leftover processes", u.killProcesses},
		{"Unmounting volumes", u.unmountVolumes},
		{"Removing pod networking (netns, cni0, iptables/nft rules)", u.removeNetworking},
		{"Removing files", u.removeFiles},
		{"Restoring sysctls", u.restoreSysctls},
	}
}

// uninstaller is one run of `velad uninstall`, and what its steps learn.
type uninstaller struct {
	o     *UninstallOptions
	paths config.Paths

	// podNetns are the network namespace files of velad's pods, as its
	// containerd reported them (stopPods); askedRuntime is true when it
	// reported every pod's.
	podNetns     []string
	askedRuntime bool
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
