package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/appcli"
	"github.com/velad-dev/velad/controller/render"
	"github.com/velad-dev/velad/embedded/config"
)

// clusterFlags are the flags of every command that talks to the cluster.
type clusterFlags struct {
	kubeconfig string
	namespace  string
}

func (f *clusterFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, else "+appcli.DefaultKubeconfig+")")
	cmd.Flags().StringVarP(&f.namespace, "namespace", "n", "", "namespace (default: the kubeconfig's, else default)")
}

func (f *clusterFlags) client() (client.Client, string, error) {
	c, err := appcli.Client(f.kubeconfig)
	if err != nil {
		return nil, "", err
	}
	ns := f.namespace
	if ns == "" {
		ns = appcli.Namespace(f.kubeconfig)
	}
	return c, ns, nil
}

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

// progress summarises the workflow steps: " (web: succeeded, db: running)".
func progress(a *v1beta1.Application) string {
	if a.Status.Workflow == nil || len(a.Status.Workflow.Steps) == 0 {
		return ""
	}
	var parts []string
	for _, s := range a.Status.Workflow.Steps {
		parts = append(parts, s.Name+": "+string(s.Phase))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// reason is the first message explaining a non-running app.
func reason(a *v1beta1.Application) string {
	if wf := a.Status.Workflow; wf != nil && wf.Message != "" {
		return wf.Message
	}
	for _, c := range a.Status.Conditions {
		if c.Status != "True" && c.Message != "" {
			return c.Message
		}
	}
	return string(a.Status.Phase)
}

func newStatusCommand() *cobra.Command {
	var (
		f           clusterFlags
		tree        bool
		nodeDataDir string
	)
	cmd := &cobra.Command{
		Use:   "status [APP [-n NS] [--tree]]",
		Short: "Show velad's health, or an application's phase, workflow, services and resources",
		Long: `Without an argument: the velad daemon, the node and the system pods,
one line each; the exit code is non-zero when something is unhealthy.
With APP: the application's phase, workflow steps, services and resources.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return runClusterStatus(cmd, nodeDataDir)
			}
			c, ns, err := f.client()
			if err != nil {
				return err
			}
			ctx := orBackground(cmd.Context())
			app, err := appcli.Get(ctx, c, ns, args[0])
			if err != nil {
				return err
			}
			var res []appcli.Resource
			if tree {
				if res, err = appcli.Resources(ctx, c, app); err != nil {
					return err
				}
			}
			return printStatus(cmd.OutOrStdout(), app, tree, res)
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVar(&tree, "tree", false, "show the applied resources as a tree")
	cmd.Flags().StringVar(&nodeDataDir, "data-dir", config.DefaultDataDir, "data dir of the installed server (without APP)")
	return cmd
}

func printStatus(w io.Writer, app *v1beta1.Application, tree bool, res []appcli.Resource) error {
	st := app.Status
	fmt.Fprintf(w, "Application: %s\nNamespace:   %s\nPhase:       %s\n", app.Name, app.Namespace, st.Phase)
	if st.LatestRevision != nil {
		fmt.Fprintf(w, "Revision:    %s\n", st.LatestRevision.Name)
	}
	if st.Phase != v1beta1.ApplicationRunning {
		if r := reason(app); r != string(st.Phase) {
			fmt.Fprintf(w, "Message:     %s\n", r)
		}
	}
	if wf := st.Workflow; wf != nil {
		fmt.Fprintf(w, "\nWorkflow: %s (mode %s)\n", wf.Phase, wf.Mode)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, s := range wf.Steps {
			fmt.Fprintf(tw, "  %s %s\t%s\t%s\t%s\n", mark(s.Phase), s.Name, s.Type, s.Phase, s.Message)
			for _, sub := range s.SubStepsStatus {
				fmt.Fprintf(tw, "    %s %s\t%s\t%s\t%s\n", mark(sub.Phase), sub.Name, sub.Type, sub.Phase, sub.Message)
			}
		}
		tw.Flush()
	}
	if len(st.Services) > 0 {
		fmt.Fprintln(w, "\nServices:")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, s := range st.Services {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, health(s.Healthy), s.Message)
			for _, t := range s.Traits {
				fmt.Fprintf(tw, "    trait %s\t%s\t%s\n", t.Type, health(t.Healthy), t.Message)
			}
		}
		tw.Flush()
	}
	if tree {
		fmt.Fprintln(w, "\nResources:")
		byComp := map[string][]appcli.Resource{}
		var order []string
		for _, r := range res {
			if _, ok := byComp[r.Component]; !ok {
				order = append(order, r.Component)
			}
			byComp[r.Component] = append(byComp[r.Component], r)
		}
		for _, comp := range order {
			name := comp
			if name == "" {
				name = "(workflow)"
			}
			fmt.Fprintf(w, "  %s\n", name)
			list := byComp[comp]
			for i, r := range list {
				branch := "├─"
				if i == len(list)-1 {
					branch = "└─"
				}
				obj := r.Ref.Kind + " " + r.Ref.Name
				if r.Ref.Namespace != "" {
					obj = r.Ref.Kind + " " + r.Ref.Namespace + "/" + r.Ref.Name
				}
				if r.Trait != "" {
					obj += " (trait " + r.Trait + ")"
				}
				fmt.Fprintf(w, "  %s %s\n", branch, obj)
			}
		}
	} else if len(st.AppliedResources) > 0 {
		fmt.Fprintln(w, "\nResources:")
		for _, r := range st.AppliedResources {
			fmt.Fprintf(w, "  %s %s/%s\n", r.Kind, r.Namespace, r.Name)
		}
	}
	return nil
}

func mark(p v1beta1.WorkflowStepPhase) string {
	switch p {
	case v1beta1.WorkflowStepSucceeded:
		return "✓"
	case v1beta1.WorkflowStepFailed:
		return "✗"
	case v1beta1.WorkflowStepSuspending:
		return "‖"
	case v1beta1.WorkflowStepSkipped:
		return "-"
	}
	return "…"
}

func health(ok bool) string {
	if ok {
		return "healthy"
	}
	return "unhealthy"
}

func newLsCommand() *cobra.Command {
	var (
		f   clusterFlags
		all bool
	)
	cmd := &cobra.Command{
		Use:   "ls [-n NS | -A]",
		Short: "List applications",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, ns, err := f.client()
			if err != nil {
				return err
			}
			if all {
				ns = ""
			}
			apps, err := appcli.List(orBackground(cmd.Context()), c, ns)
			if err != nil {
				return err
			}
			return printList(cmd.OutOrStdout(), apps, time.Now())
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list applications of every namespace")
	return cmd
}

func printList(w io.Writer, apps []v1beta1.Application, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tAPP\tCOMPONENTS\tPHASE\tHEALTHY\tREVISION\tAGE")
	for _, a := range apps {
		var comps []string
		for _, c := range a.Spec.Components {
			comps = append(comps, c.Name+"("+c.Type+")")
		}
		healthy := 0
		for _, s := range a.Status.Services {
			if s.Healthy {
				healthy++
			}
		}
		rev := ""
		if a.Status.LatestRevision != nil {
			rev = a.Status.LatestRevision.Name
		}
		age := now.Sub(a.CreationTimestamp.Time).Round(time.Second)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", a.Namespace, a.Name, strings.Join(comps, ","), a.Status.Phase,
			healthy, len(a.Status.Services), rev, age)
	}
	return tw.Flush()
}

func newDeleteCommand() *cobra.Command {
	var (
		f       clusterFlags
		wait    bool
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "delete APP [--wait]",
		Short: "Delete an application and everything it applied",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ns, err := f.client()
			if err != nil {
				return err
			}
			if err := appcli.Delete(orBackground(cmd.Context()), c, ns, args[0], wait, timeout); err != nil {
				return err
			}
			if wait {
				fmt.Fprintf(cmd.OutOrStdout(), "application %s/%s deleted\n", ns, args[0])
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "application %s/%s is being deleted\n", ns, args[0])
			}
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the application and its resources are gone")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "how long --wait waits")
	return cmd
}

func newWorkflowCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "workflow",
		Short: "Suspend, resume, terminate, restart or roll back an application's workflow",
	}
	for _, op := range []struct {
		op    appcli.WorkflowOp
		short string
	}{
		{appcli.Suspend, "Suspend the running workflow"},
		{appcli.Resume, "Resume a suspended workflow"},
		{appcli.Terminate, "Stop the workflow for good (until restarted)"},
		{appcli.Restart, "Run the workflow again from the first step"},
	} {
		var f clusterFlags
		sub := &cobra.Command{
			Use:   string(op.op) + " APP",
			Short: op.short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, ns, err := f.client()
				if err != nil {
					return err
				}
				if err := appcli.Workflow(orBackground(cmd.Context()), c, ns, args[0], op.op); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "workflow of %s/%s: %s\n", ns, args[0], op.op)
				return nil
			},
		}
		f.bind(sub)
		cmd.AddCommand(sub)
	}
	cmd.AddCommand(newRollbackCommand())
	return cmd
}

func newRollbackCommand() *cobra.Command {
	var f clusterFlags
	cmd := &cobra.Command{
		Use:   "rollback APP",
		Short: "Go back to the newest earlier revision whose workflow succeeded",
		Long: `Rollback puts the spec of the newest earlier revision whose workflow
succeeded back into the application; the controller delivers it as a new
revision and removes what only the abandoned revision applied.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ns, err := f.client()
			if err != nil {
				return err
			}
			rev, err := appcli.Rollback(orBackground(cmd.Context()), c, ns, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "application %s/%s rolled back to the spec of %s\n", ns, args[0], rev)
			return nil
		},
	}
	f.bind(cmd)
	return cmd
}
