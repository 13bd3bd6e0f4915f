package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/velad-dev/velad/embedded"
	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/fileutil"
)

// JoinOptions are what `velad join` needs: the agent's settings, the
// arguments its daemon runs `velad agent` with, this binary and how long
// to wait for the node.
type JoinOptions struct {
	Config    config.Config
	AgentArgs []string
	Self      string
	Daemon    Daemon
	Timeout   time.Duration
}

// JoinSteps lists what `velad join` does, in order: the join itself runs
// here, in the foreground, so a refused token stops it before anything is
// installed; the daemon's agent then starts from the stored join.
func JoinSteps(o *JoinOptions) []Step {
	j := &joiner{o: o, paths: o.Config.Paths()}
	return []Step{
		{"Checking " + o.Config.DataDir + " is no server's data dir", j.notServer},
		{"Joining " + o.Config.ServerURL, j.join},
		{"Copying velad to " + j.paths.AgentBinary, j.copyBinary},
		{"Starting the agent daemon " + j.paths.AgentDaemonName + " (" + o.Daemon.Kind() + ")", j.startDaemon},
		{"Waiting for node " + o.Config.NodeName + " to be Ready", j.waitNode},
	}
}

// Join runs the join steps and stops at the first failure (`velad
// uninstall --data-dir` removes what it left).
func Join(ctx context.Context, o *JoinOptions, prog Progress) error {
	return RunSteps(ctx, JoinSteps(o), prog)
}

type joiner struct {
	o     *JoinOptions
	paths config.Paths
}

// notServer refuses the data dir of the installed server, or of any
// server that ran on it: the agent would take over its node's files.
func (j *joiner) notServer(context.Context) error {
	dataDir := filepath.Clean(j.o.Config.DataDir)
	installed, recorded, err := InstalledDataDir()
	if err != nil {
		return err
	}
	if recorded && installed == dataDir {
		return fmt.Errorf("velad server is installed on %s; join from another --data-dir (or velad uninstall the server first)", dataDir)
	}
	if _, err := os.Stat(j.paths.ServerDir); err == nil {
		return fmt.Errorf("%s holds a velad server's state (%s); join from another --data-dir", dataDir, j.paths.ServerDir)
	}
	return nil
}

func (j *joiner) join(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, j.o.Timeout)
	defer cancel()
	return (&embedded.Join{Config: &j.o.Config}).Init(ctx)
}

// copyBinary puts this velad into the data dir: the agent's daemon runs
// its own copy, never the host's installed one.
func (j *joiner) copyBinary(context.Context) error {
	if same, _ := sameFile(j.o.Self, j.paths.AgentBinary); same {
		return nil
	}
	data, err := os.ReadFile(j.o.Self)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(j.paths.AgentBinary), config.DirMode); err != nil {
		return err
	}
	return fileutil.WriteAtomic(j.paths.AgentBinary, data, 0o755)
}

func (j *joiner) startDaemon(context.Context) error { return j.o.Daemon.Install(j.o.AgentArgs) }

// waitNode polls the node's Ready condition with the kubelet's own
// credentials (a node may read its Node).
func (j *joiner) waitNode(ctx context.Context) error {
	name, last := j.o.Config.NodeName, "the kubelet has not started"
	err := wait.PollUntilContextTimeout(ctx, time.Second, j.o.Timeout, true, func(ctx context.Context) (bool, error) {
		if ok, state := j.o.Daemon.Healthy(); !ok {
			last = state
			return false, nil
		}
		rc, err := clientcmd.BuildConfigFromFlags("", j.paths.KubeletKubeconfig)
		if err != nil {
			return false, nil
		}
		rc.Timeout = 5 * time.Second
		cs, err := kubernetes.NewForConfig(rc)
		if err != nil {
			return false, nil
		}
		var ok bool
		ok, last = NodeReady(ctx, cs, name)
		return ok, nil
	})
	if errors.Is(err, context.DeadlineExceeded) || wait.Interrupted(err) {
		return fmt.Errorf("node %s not Ready after %s (%s); see %s", name, j.o.Timeout, last, j.paths.AgentDaemonLog)
	}
	return err
}
