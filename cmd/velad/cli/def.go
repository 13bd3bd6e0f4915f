package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
)

// newDefCommand groups the commands for definition authors.
func newDefCommand() *cobra.Command {
	cmd := &cobra.Command{
		SilenceUsage: true,
		Use:          "def",
		Short:        "List, show, check and render X-Definitions",
	}
	cmd.AddCommand(newDefListCommand(), newDefShowCommand(), newDefVetCommand(), newDefRenderCommand())
	return cmd
}

func newDefListCommand() *cobra.Command {
	var paths []string
	var kind string
	cmd := &cobra.Command{
		SilenceUsage: true,
		Use:          "list",
		Short:        "List the built-in definitions (and those given with -d)",
		Args:         cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDefList(cmd.Context(), cmd.OutOrStdout(), paths, kind)
		},
	}
	cmd.Flags().StringArrayVarP(&paths, "definitions", "d", nil, "extra definition file or directory; repeatable")
	cmd.Flags().StringVarP(&kind, "type", "t", "", "only this type: component, trait, policy or workflow-step")
	return cmd
}

func runDefList(ctx context.Context, out io.Writer, paths []string, kind string) error {
	ctx = orBackground(ctx)
	var want definition.Kind
	if kind != "" {
		k, err := definition.ParseKind(kind)
		if err != nil {
			return err
		}
		want = k
	}
	src, err := definitionSource(paths)
	if err != nil {
		return err
	}
	defs, err := src.List(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tTYPE\tDESCRIPTION")
	for _, d := range defs {
		if want != "" && d.Kind != want {
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", d.Name, d.Kind, d.Description())
	}
	return w.Flush()
}

func newDefShowCommand() *cobra.Command {
	var paths []string
	var kind string
	cmd := &cobra.Command{
		SilenceUsage: true,
		Use:          "show NAME",
		Short:        "Show a definition's parameters",
		Args:         cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDefShow(cmd.Context(), cmd.OutOrStdout(), paths, kind, args[0])
		},
	}
	cmd.Flags().StringArrayVarP(&paths, "definitions", "d", nil, "extra definition file or directory; repeatable")
	cmd.Flags().StringVarP(&kind, "type", "t", "", "the definition's type when several types share the name")
	return cmd
}

func runDefShow(ctx context.Context, out io.Writer, paths []string, kind, name string) error {
	ctx = orBackground(ctx)
	src, err := definitionSource(paths)
	if err != nil {
		return err
	}
	kinds := definition.Kinds
	if kind != "" {
		k, err := definition.ParseKind(kind)
		if err != nil {
			return err
		}
		kinds = []definition.Kind{k}
	}
	var found []*definition.Definition
	for _, k := range kinds {
		d, err := src.Lookup(ctx, k, name, 0)
		if errors.Is(err, definition.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		found = append(found, d)
	}
	switch len(found) {
	case 0:
		return fmt.Errorf("definition %q not found: see `velad def list`", name)
	case 1:
	default:
		var ks []string
		for _, d := range found {
			ks = append(ks, string(d.Kind))
		}
		return fmt.Errorf("%q names a %s: choose one with --type", name, strings.Join(ks, " and a "))
	}
	d := found[0]
	params, err := render.NewRenderer().Parameters(d)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s (%s): %s\n\n", d.Name, d.Kind, d.Description())
	if len(params) == 0 {
		fmt.Fprintln(out, "No parameters.")
		return nil
	}
	for _, t := range render.ParameterTables(params) {
		fmt.Fprintf(out, "%s %s\n", strings.Repeat("#", min(t.Depth+1, 3)), t.Title)
		rows := [][]string{{"NAME", "DESCRIPTION", "TYPE", "REQUIRED", "DEFAULT"}}
		for _, r := range t.Rows {
			rows = append(rows, []string{r.Name, r.Description, r.Type, fmt.Sprint(r.Required), r.Default})
		}
		writeBoxTable(out, rows)
		fmt.Fprintln(out)
	}
	return nil
}

// writeBoxTable writes rows (the first is the header) in the boxed
// layout `vela show` uses.
func writeBoxTable(out io.Writer, rows [][]string) {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var rule strings.Builder
	rule.WriteString("+")
	for _, w := range widths {
		rule.WriteString(strings.Repeat("-", w+2) + "+")
	}
	line := func(r []string, center bool) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range r {
			pad := widths[i] - utf8.RuneCountInString(c)
			left := 0
			if center {
				left = pad / 2
			}
			b.WriteString(" " + strings.Repeat(" ", left) + c + strings.Repeat(" ", pad-left) + " |")
		}
		fmt.Fprintln(out, b.String())
	}
	fmt.Fprintln(out, rule.String())
	line(rows[0], true)
	fmt.Fprintln(out, rule.String())
	for _, r := range rows[1:] {
		line(r, false)
	}
	fmt.Fprintln(out, rule.String())
}

func newDefVetCommand() *cobra.Command {
	return &cobra.Command{
		SilenceUsage: true,
		Use:          "vet FILE|DIR...",
		Short:        "Check definition files (.cue or YAML; a directory: every such file in it) for errors",
		Args:         cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDefVet(cmd.OutOrStdout(), args)
		},
	}
}

func runDefVet(out io.Writer, paths []string) error {
	files, err := definition.Files(paths...)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no definition files (.cue, .yaml, .yml, .json) in %s", strings.Join(paths, ", "))
	}
	r := render.NewRenderer()
	var failed []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("read definition: %w", err)
		}
		defs, err := r.Vet(f, data)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, f) {
				msg = f + ": " + msg
			}
			fmt.Fprintln(out, msg)
			failed = append(failed, f)
			continue
		}
		for _, d := range defs {
			fmt.Fprintf(out, "%s: %s %q is valid\n", f, d.Kind, d.Name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d files have errors", len(failed), len(files))
	}
	return nil
}

func newDefRenderCommand() *cobra.Command {
	var namespace string
	cmd := &cobra.Command{
		SilenceUsage: true,
		Use:          "render FILE.cue...",
		Short:        "Turn .cue definition files into the CRD YAML to apply",
		Args:         cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDefRender(cmd.OutOrStdout(), namespace, args)
		},
	}
	cmd.Flags().StringVarP(&namespace, "namespace", "n", definition.DefaultNamespace, "namespace of the rendered definitions")
	return cmd
}

func runDefRender(out io.Writer, namespace string, files []string) error {
	r := render.NewRenderer()
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("read definition: %w", err)
		}
		d, err := definition.ParseCUE(f, data)
		if err != nil {
			return err
		}
		if _, err := r.Compile(d); err != nil {
			return err
		}
		d.Object.SetNamespace(namespace)
		b, err := definition.MarshalYAML(d)
		if err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprintln(out, "---")
		}
		if _, err := out.Write(b); err != nil {
			return err
		}
	}
	return nil
}
