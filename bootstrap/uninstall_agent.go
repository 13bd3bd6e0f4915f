package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/velad-dev/velad/embedded"
)

// AgentUninstallSteps lists what `velad uninstall` does for an agent (the
// agent process must stop first: its kubelet would register the Node
// again).
func AgentUninstallSteps(o *UninstallOptions) []Step {
	u := &uninstaller{o: o, paths: o.Config.Paths()}
	return []Step{
		{"Stopping the agent (its daemon, if velad join installed one)", u.stopAgent},
		{"Stopping pods through the container runtime", u.stopPods},
		{"Stopping leftover processes", u.killProcesses},
		{"Deleting this node from the cluster", u.deleteNode},
		{"Unmounting volumes", u.unmountVolumes},
		{"Removing pod networking (netns, cni0, iptables/nft rules)", u.removeNetworking},
		{"Removing the agent's files and cgroups", u.removeAgentFiles},
	}
}

// UninstallAgent runs the agent's uninstall steps: nothing happens while
// the agent runs; after that it keeps going past a failed step (the
// server may be unreachable: the node's own things still go) and reports
// every failure at the end.
func UninstallAgent(ctx context.Context, o *UninstallOptions, prog Progress) error {
	var errs []error
	for i, s := range AgentUninstallSteps(o) {
		prog.Start(s.Name)
		err := s.Run(ctx)
		prog.Done(err, 0)
		if err != nil && i == 0 {
			return err
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Name, err))
		}
	}
	return errors.Join(errs...)
}

// removeAgentFiles deletes the data dir, the run dir, the container log
// links into them and the kubelet's cgroup root.
func (u *uninstaller) removeAgentFiles(context.Context) error {
	p := u.paths
	errs := []error{removeAll(p.DataDir), removeAll(p.RunDir), embedded.RemoveCgroupRoot(p.KubeletCgroupRoot)}
	links, _ := filepath.Glob("/var/log/containers/*.log")
	for _, l := range links {
		if target, err := os.Readlink(l); err == nil && strings.HasPrefix(target, p.DataDir) {
			errs = append(errs, removeAll(l))
		}
	}
	return errors.Join(errs...)
}
