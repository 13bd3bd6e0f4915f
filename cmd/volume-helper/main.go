// Command volume-helper is the helper image of the local-path volume
// provisioner: the provisioner runs it in a pod on the node to create or
// delete a volume's folder. It replaces the shell scripts that upstream
// runs in a busybox image, so nothing has to be pulled.
//
//	volume-helper -p /var/lib/velad/storage/pvc-x -s 1073741824 -m Filesystem -a create
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	path := flag.String("p", "", "volume folder")
	flag.String("s", "0", "requested size in bytes (informational)")
	mode := flag.String("m", "Filesystem", "volume mode")
	action := flag.String("a", "", "create or delete")
	flag.Parse()
	if err := run(*path, *mode, *action); err != nil {
		fmt.Fprintln(os.Stderr, "volume-helper:", err)
		os.Exit(1)
	}
}

func run(path, mode, action string) error {
	if path == "" || !filepath.IsAbs(path) || filepath.Clean(path) == "/" {
		return fmt.Errorf("-p %q must be an absolute folder other than /", path)
	}
	if mode != "Filesystem" {
		return fmt.Errorf("volume mode %q is not supported; use Filesystem", mode)
	}
	switch action {
	case "create":
		if err := os.MkdirAll(path, 0o777); err != nil {
			return err
		}
		return os.Chmod(path, 0o777)
	case "delete":
		return os.RemoveAll(path)
	default:
		return fmt.Errorf("-a %q: use create or delete", action)
	}
}
