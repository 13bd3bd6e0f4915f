package bootstrap

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestCommandLinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "velad")
	notFound := func(string) (string, error) { return "", exec.ErrNotFound }
	kubectlElsewhere := func(name string) (string, error) {
		if name == "kubectl" {
			return "/usr/bin/kubectl", nil
		}
		return "", exec.ErrNotFound
	}
	userVela := filepath.Join(t.TempDir(), "vela")

	tests := []struct {
		name     string
		existing map[string]string // name -> symlink target ("" = a regular file)
		lookPath func(string) (string, error)
		want     map[string]string // name -> symlink target after install ("" = regular file kept, "-" = absent)
	}{
		{"fresh machine", nil, notFound, map[string]string{"vela": target, "kubectl": target}},
		{"kubectl elsewhere on PATH", nil, kubectlElsewhere, map[string]string{"vela": target, "kubectl": "-"}},
		{"a user's own file", map[string]string{"kubectl": ""}, notFound, map[string]string{"vela": target, "kubectl": ""}},
		{"a user's own link", map[string]string{"vela": userVela}, notFound, map[string]string{"vela": userVela, "kubectl": target}},
		{"already ours", map[string]string{"vela": target}, notFound, map[string]string{"vela": target, "kubectl": target}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range commandLinks {
				os.Remove(filepath.Join(dir, n))
			}
			for n, dest := range tc.existing {
				var err error
				if dest == "" {
					err = os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755)
				} else {
					err = os.Symlink(dest, filepath.Join(dir, n))
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := linkCommands(dir, target, tc.lookPath); err != nil {
				t.Fatal(err)
			}
			check := func(stage string, want map[string]string) {
				for n, w := range want {
					dest, err := os.Readlink(filepath.Join(dir, n))
					_, statErr := os.Lstat(filepath.Join(dir, n))
					switch {
					case w == "-" && !errors.Is(statErr, os.ErrNotExist):
						t.Errorf("%s: %s exists, want absent", stage, n)
					case w == "" && (statErr != nil || err == nil):
						t.Errorf("%s: %s is not the user's file any more", stage, n)
					case w != "-" && w != "" && dest != w:
						t.Errorf("%s: %s -> %q, want %q", stage, n, dest, w)
					}
				}
			}
			check("install", tc.want)
			if err := unlinkCommands(dir, target); err != nil {
				t.Fatal(err)
			}
			after := map[string]string{}
			for n, w := range tc.want {
				if w == target {
					w = "-"
				}
				after[n] = w
			}
			check("uninstall", after)
		})
	}
}
