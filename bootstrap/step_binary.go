package bootstrap

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/velad-dev/velad/embedded/fileutil"
)

// installBinary copies the running velad to InstalledBinary and links
// the commands it answers to beside it (links.go).
func (in *installer) installBinary(context.Context) error {
	if _, err := copyBinary(in.o.Self); err != nil {
		return err
	}
	return linkCommands(filepath.Dir(InstalledBinary), InstalledBinary, exec.LookPath)
}

// copyBinary copies the running velad to InstalledBinary unless the same
// binary is there; it reports whether it changed anything.
func copyBinary(self string) (bool, error) {
	if same, _ := sameFile(self, InstalledBinary); same {
		return false, nil
	}
	data, err := os.ReadFile(self)
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(InstalledBinary), 0o755); err != nil {
		return false, err
	}
	return true, fileutil.WriteAtomic(InstalledBinary, data, 0o755)
}

func sameFile(a, b string) (bool, error) {
	ha, err := hashFile(a)
	if err != nil {
		return false, err
	}
	hb, err := hashFile(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(ha, hb), nil
}

func hashFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
