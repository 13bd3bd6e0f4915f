// Package fileutil writes files so that a crash never leaves a half-written
// one behind: data goes to a temporary file that is renamed into place.
package fileutil

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// WriteAtomic writes data to path with mode, via a temporary file in the
// same folder and a rename. The parent folder must exist.
func WriteAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteIfChanged writes data atomically unless path already holds exactly
// data with mode; it reports whether it wrote.
func WriteIfChanged(path string, data []byte, mode os.FileMode) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm() == mode.Perm() {
			return false, nil
		}
	}
	return true, WriteAtomic(path, data, mode)
}

// MkdirAll creates dir and its parents with mode and makes sure dir itself
// has exactly mode (MkdirAll leaves existing folders alone).
func MkdirAll(dir string, mode os.FileMode) error {
	if err := os.MkdirAll(dir, mode); err != nil {
		return err
	}
	return os.Chmod(dir, mode)
}
