package bootstrap

import (
	"context"
	"os"
	"path/filepath"
	"strings"
)

// restoreSysctls puts back the sysctl values install found (step_prepare.go)
// and removes velad's configuration folder.
func (u *uninstaller) restoreSysctls(context.Context) error {
	if err := putBackSysctls(u.o.ProcRoot); err != nil {
		return err
	}
	return removeAll(ConfigDir)
}

// putBackSysctls writes the values found before the first install.
func putBackSysctls(procRoot string) error {
	data, err := os.ReadFile(SysctlBackup)
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		_ = os.WriteFile(filepath.Join(procRoot, "sys", key), []byte(val+"\n"), 0o644)
	}
	return nil
}
