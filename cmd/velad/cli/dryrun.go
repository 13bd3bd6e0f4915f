package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
)

type dryRunOptions struct {
	file        string
	definitions []string
}

// newDryRunCommand renders an Application locally, without a cluster.
func newDryRunCommand() *cobra.Command {
	o := &dryRunOptions{}
	cmd := &cobra.Command{
		SilenceUsage: true,
		Use:          "dry-run -f APP.yaml [-d FILE_OR_DIR]...",
		Short:        "Render an application to Kubernetes YAML without a cluster",
		Long: `Render an Application with the built-in definitions plus the given ones
(Kubernetes YAML or .cue definition files, or folders of them) and print the
objects it would create, as "vela dry-run" does: one
"# Application(app) -- Component(name)" section per component, and one set
of sections per deploy step when the workflow has deploy steps (rendered
with the override policies each names).`,
		Example: `  velad dry-run -f app.yaml
  velad dry-run -f app.yaml -d ./my-definitions/
  cat app.yaml | velad dry-run -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDryRun(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout(), o)
		},
	}
	cmd.Flags().StringVarP(&o.file, "file", "f", "", `application file ("-" reads standard input)`)
	cmd.Flags().StringArrayVarP(&o.definitions, "definitions", "d", nil, "definition file or directory (.cue, .yaml); repeatable")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

func runDryRun(ctx context.Context, stdin io.Reader, out io.Writer, o *dryRunOptions) error {
	ctx = orBackground(ctx)
	data, err := readInput(stdin, o.file)
	if err != nil {
		return err
	}
	app, err := render.ParseApplication(data)
	if err != nil {
		return fmt.Errorf("%s: %w", o.file, err)
	}
	src, err := definitionSource(o.definitions)
	if err != nil {
		return err
	}
	return render.NewRenderer().DryRun(ctx, out, app, src)
}

// definitionSource is the user's definitions (which win) over the
// built-ins.
func definitionSource(paths []string) (definition.Source, error) {
	builtins, err := builtins.Load()
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return builtins, nil
	}
	defs, err := definition.LoadPaths(paths...)
	if err != nil {
		return nil, err
	}
	return definition.Chain{definition.NewSet(defs...), builtins}, nil
}
