package cli

import (
	"github.com/spf13/cobra"

	"github.com/velad-dev/velad/bootstrap"
)

func newStartCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "start",
		Short: "Start the installed velad daemon again (after a stop or a crash)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return bootstrap.NewDaemon().Start()
		},
	}
}

func newStopCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "Stop the velad daemon (pods keep their data; 'velad start' brings it back)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return bootstrap.NewDaemon().Stop()
		},
	}
}
