// Command velad is the single binary of the velad platform.
package main

import (
	"os"

	"github.com/velad-dev/velad/cmd/velad/cli"
)

func main() { os.Exit(cli.Execute()) }
