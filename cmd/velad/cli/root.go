// Package cli holds velad's cobra commands. Commands are thin: flags and
// a RunE that calls library code.
//
// One file per command or command group, named after it: install.go,
// uninstall.go, startstop.go, server.go, status.go, token.go, image.go,
// kubeconfig.go, kubectl.go for the node; up.go, ls.go, delete.go,
// workflow.go, dryrun.go, def.go for applications (the vela CLI);
// addon.go for `velad addon …`, chart.go for `velad chart …` (the fluxcd
// addon's chart repository). New commands follow the same rule (cluster.go
// for `velad cluster …`, join.go for `velad join`/agents; `velad token
// create|list|revoke` goes in token.go). Shared flags are in flags.go,
// everything printed beyond a line (tables, status, progress) in print.go,
// reading input in input.go.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// NewRootCommand returns the `velad` command with every subcommand.
func NewRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "velad",
		Short:         "velad: a single-node application platform in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(
		newVersionCommand(),
		newServerCommand(),
		newKubeconfigCommand(),
		newDryRunCommand(),
		newDefCommand(),
		newUpCommand(),
		newStatusCommand(),
		newLsCommand(),
		newDeleteCommand(),
		newWorkflowCommand(),
		newInstallCommand(),
		newUninstallCommand(),
		newStartCommand(),
		newStopCommand(),
		newKubectlCommand(),
		newImageCommand(),
		newTokenCommand(),
		newAgentCommand(),
		newJoinCommand(),
		newNodePoolCommand(),
		newAddonCommand(),
		newChartCommand(),
		newClusterCommand(),
	)
	return root
}

// flagError turns cobra's flag errors into one line that says what to do.
func flagError(cmd *cobra.Command, err error) error {
	return fmt.Errorf("%w; see '%s --help'", err, cmd.CommandPath())
}

// Execute runs the root command and returns the process exit code.
func Execute() int {
	cmd := NewRootCommand()
	// Invoked as `vela` (a link install makes), the app commands read as
	// vela's; as `kubectl`, velad is the embedded kubectl.
	switch name := filepath.Base(os.Args[0]); name {
	case "vela":
		cmd.Use = name
	case "kubectl":
		cmd.SetArgs(append([]string{"kubectl"}, os.Args[1:]...))
	}
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		msg := err.Error()
		if strings.HasPrefix(msg, "unknown command") {
			msg += "; see 'velad --help'"
		}
		fmt.Fprintln(os.Stderr, "velad: "+oneLine(msg))
		var exit exitCode
		if errors.As(err, &exit) {
			return int(exit)
		}
		return 1
	}
	return 0
}

// exitCode lets a command choose its exit status.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// oneLine joins a multi-error into one line.
func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ") }
