package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/appcli"
	"github.com/velad-dev/velad/controller/render"
)

func newUpCommand() *cobra.Command {
	var (
		f       clusterFlags
		file    string
		wait    bool
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "up -f APP.yaml [--wait]",
		Short: "Create or update an application",
		Example: `  velad up -f app.yaml --wait
  cat app.yaml | velad up -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := readInput(cmd.InOrStdin(), file)
			if err != nil {
				return err
			}
			app, err := render.ParseApplication(data)
			if err != nil {
				return err
			}
			c, ns, err := f.client()
			if err != nil {
				return err
			}
			if app.Namespace == "" || f.namespace != "" {
				app.Namespace = ns
			}
			ctx := orBackground(cmd.Context())
			created, err := appcli.Up(ctx, c, app)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			verb := "updated"
			if created {
				verb = "created"
			}
			fmt.Fprintf(out, "application %s/%s %s\n", app.Namespace, app.Name, verb)
			if !wait {
				return nil
			}
			final, err := appcli.Wait(ctx, c, app.Namespace, app.Name, timeout, func(a *v1beta1.Application) {
				fmt.Fprintf(out, "  %s%s\n", a.Status.Phase, progress(a))
			})
			if err != nil {
				return err
			}
			if final.Status.Phase != v1beta1.ApplicationRunning {
				return fmt.Errorf("application %s/%s is %s: %s", app.Namespace, app.Name, final.Status.Phase, reason(final))
			}
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().StringVarP(&file, "file", "f", "", `application file ("-" reads standard input)`)
	cmd.Flags().BoolVar(&wait, "wait", false, "show progress until the application is running or has failed")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long --wait waits")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}
