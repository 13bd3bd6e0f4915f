package cli

import (
	"github.com/spf13/cobra"

	"github.com/velad-dev/velad/embedded/config"
)

func newTokenCommand() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print the token nodes join with (K10<CA hash>::server:<secret>)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := readFileHint(config.NewPaths(dataDir).TokenFile, "run 'velad install' first, or pass --data-dir")
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", config.DefaultDataDir, "data dir of the server")
	return cmd
}
