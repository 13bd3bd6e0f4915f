package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/images"
)

func newImageCommand() *cobra.Command {
	var dataDir string
	ctr := func() images.Ctr {
		p := config.NewPaths(dataDir)
		return images.Ctr{Binary: filepath.Join(p.RuntimeBinDir, "ctr"), Socket: p.ContainerdSocket}
	}
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Import and list the node's images (nothing is ever pulled)",
	}
	cmd.PersistentFlags().StringVar(&dataDir, "data-dir", config.DefaultDataDir, "data dir of the running server")
	cmd.AddCommand(&cobra.Command{
		Use:   "import FILE.tar...",
		Short: "Import docker or OCI image archives (docker save / skopeo / crane output)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, file := range args {
				refs, err := ctr().Import(cmd.Context(), file)
				if err != nil {
					return fmt.Errorf("import %s: %w", file, err)
				}
				for _, r := range refs {
					fmt.Fprintf(cmd.OutOrStdout(), "imported %s\n", r)
				}
			}
			return nil
		},
	}, &cobra.Command{
		Use:   "ls",
		Short: "List the images on the node",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			refs, err := ctr().List(cmd.Context())
			if err != nil {
				return fmt.Errorf("%w (is velad running?)", err)
			}
			for _, r := range refs {
				fmt.Fprintln(cmd.OutOrStdout(), r)
			}
			return nil
		},
	})
	return cmd
}
