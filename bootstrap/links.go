package bootstrap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// commandLinks are the names velad answers to beside its own, linked next
// to the installed binary as k3s links kubectl: `vela up -f app.yaml` as
// in KubeVela, `kubectl get pods` on the admin kubeconfig.
var commandLinks = []string{"vela", "kubectl"}

// linkCommands links each name in dir to target, unless something else
// (a user's own kubectl, say) has the name in dir or, found by lookPath,
// elsewhere on PATH: velad never shadows or replaces another program.
func linkCommands(dir, target string, lookPath func(string) (string, error)) error {
	var errs []error
	for _, name := range commandLinks {
		link := filepath.Join(dir, name)
		if dest, err := os.Readlink(link); err == nil && dest == target {
			continue // ours, from an earlier install
		}
		if _, err := os.Lstat(link); err == nil {
			continue
		}
		if found, err := lookPath(name); err == nil && found != link {
			continue
		}
		if err := os.Symlink(target, link); err != nil {
			errs = append(errs, fmt.Errorf("link %s to %s: %w", link, target, err))
		}
	}
	return errors.Join(errs...)
}

// unlinkCommands removes the links linkCommands made, and nothing else.
func unlinkCommands(dir, target string) error {
	var errs []error
	for _, name := range commandLinks {
		link := filepath.Join(dir, name)
		if dest, err := os.Readlink(link); err == nil && dest == target {
			if err := os.Remove(link); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
