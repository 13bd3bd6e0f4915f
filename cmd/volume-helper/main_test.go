package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pvc-1")
	if err := run(dir, "Filesystem", "create"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o777 {
		t.Fatalf("created folder: %v %v", fi, err)
	}
	os.WriteFile(filepath.Join(dir, "data"), []byte("x"), 0o644)
	if err := run(dir, "Filesystem", "delete"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("folder still there: %v", err)
	}
	for _, tc := range []struct{ path, mode, action, want string }{
		{"/", "Filesystem", "delete", "absolute folder other than /"},
		{"rel", "Filesystem", "create", "absolute folder"},
		{dir, "Block", "create", "not supported"},
		{dir, "Filesystem", "format", "use create or delete"},
	} {
		if err := run(tc.path, tc.mode, tc.action); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q,%q,%q) = %v, want %q", tc.path, tc.mode, tc.action, err, tc.want)
		}
	}
}
