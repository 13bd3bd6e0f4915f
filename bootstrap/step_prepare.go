package bootstrap

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/velad-dev/velad/embedded/fileutil"
)

// hostSysctls are set by install for pod networking; their previous values
// are kept in SysctlBackup and restored by uninstall.
var hostSysctls = map[string]string{
	"net/ipv4/ip_forward":                 "1",
	"net/bridge/bridge-nf-call-iptables":  "1",
	"net/bridge/bridge-nf-call-ip6tables": "1",
}

// SysctlBackup holds the sysctl values found before install.
const SysctlBackup = ConfigDir + "/sysctl.orig"

// prepareHost loads the kernel modules pods need and sets the sysctls.
func (in *installer) prepareHost(context.Context) error {
	procRoot := in.o.Host.ProcRoot
	if modprobe, err := exec.LookPath("modprobe"); err == nil {
		for _, m := range []string{"overlay", "br_netfilter"} {
			_ = exec.Command(modprobe, m).Run() // preflight reports what is still missing
		}
	}
	if err := os.MkdirAll(ConfigDir, 0o755); err != nil {
		return err
	}
	var backup []string
	_, haveBackup := os.Stat(SysctlBackup)
	for key, want := range hostSysctls {
		path := filepath.Join(procRoot, "sys", key)
		old, err := os.ReadFile(path)
		if err != nil {
			continue // module missing: preflight says so
		}
		backup = append(backup, key+"="+strings.TrimSpace(string(old)))
		if strings.TrimSpace(string(old)) != want {
			if err := os.WriteFile(path, []byte(want+"\n"), 0o644); err != nil {
				return err
			}
		}
	}
	if haveBackup != nil { // first install only
		return fileutil.WriteAtomic(SysctlBackup, []byte(strings.Join(backup, "\n")+"\n"), 0o644)
	}
	return nil
}
