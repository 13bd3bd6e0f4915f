// Package containerd knows how velad starts its containerd: the server
// runs it as a supervised child (embedded.Containerd), and uninstall runs
// it once more on its own to stop the pods through the CRI. Both start it
// with Command, so the two never drift apart. It is a small package of its
// own so that bootstrap can use it without linking Kubernetes.
package containerd

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/velad-dev/velad/embedded/config"
)

// Command returns the command that runs the containerd in binDir with the
// node's config file. binDir comes first on PATH, so containerd finds its
// shim and runc there. The process gets its own process group (a signal
// to velad's group does not reach it) and is killed by the kernel when the
// thread that started it exits (see embedded.Containerd for why that
// thread must live as long as velad). The caller sets Stdout and Stderr.
func Command(binDir string, p config.Paths) *exec.Cmd {
	cmd := exec.Command(filepath.Join(binDir, "containerd"), "--config", p.ContainerdConfig)
	cmd.Env = append(os.Environ(), "PATH="+binDir+":"+os.Getenv("PATH"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd
}
