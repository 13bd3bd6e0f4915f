package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/addons/ingress"
	"github.com/velad-dev/velad/addons/lifecycle"
	"github.com/velad-dev/velad/bootstrap"
	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/appcli"
	"github.com/velad-dev/velad/operators/fluxcd/chartrepo"
)

// Everything the commands print beyond a line: install and uninstall
// progress, velad's health, an application's status, the application
// list.

// stepProgress shows install steps: a spinner on a terminal, plain lines
// otherwise (logs, CI).
type stepProgress struct {
	out  io.Writer
	tty  bool
	bar  *progressbar.ProgressBar
	name string
}

func newProgress(out io.Writer) *stepProgress {
	f, ok := out.(*os.File)
	return &stepProgress{out: out, tty: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *stepProgress) Start(name string) {
	p.name = name
	if p.tty {
		p.bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(p.out), progressbar.OptionSetDescription(name),
			progressbar.OptionSpinnerType(14), progressbar.OptionClearOnFinish())
		go func(b *progressbar.ProgressBar) {
			for !b.IsFinished() {
				_ = b.Add(1)
				time.Sleep(100 * time.Millisecond)
			}
		}(p.bar)
	}
}

func (p *stepProgress) Done(err error, took time.Duration) {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
	mark := "✓"
	if err != nil {
		mark = "✗"
	}
	if took > 0 {
		fmt.Fprintf(p.out, "%s %s (%s)\n", mark, p.name, took.Round(100*time.Millisecond))
	} else {
		fmt.Fprintf(p.out, "%s %s\n", mark, p.name)
	}
}

func (p *stepProgress) Note(msg string) { fmt.Fprintln(p.out, msg) }

// Update shows the running step's latest state: beside the spinner on a
// terminal, else as a line of its own.
func (p *stepProgress) Update(msg string) {
	if p.bar != nil {
		p.bar.Describe(p.name + ": " + msg)
		return
	}
	fmt.Fprintf(p.out, "  … %s\n", msg)
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
			name := s.Name
			if s.Cluster != "" {
				name += " (cluster " + s.Cluster + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", name, health(s.Healthy), s.Message)
			for _, t := range s.Traits {
				fmt.Fprintf(tw, "    trait %s\t%s\t%s\n", t.Type, health(t.Healthy), t.Message)
			}
		}
		tw.Flush()
	}
	if tree {
		fmt.Fprintln(w, "\nResources:")
		// Grouped by cluster when some are not in local.
		byCluster := map[string][]appcli.Resource{}
		var clusters []string
		for _, r := range res {
			c := r.Ref.Cluster
			if c == "" {
				c = "local"
			}
			if _, ok := byCluster[c]; !ok {
				clusters = append(clusters, c)
			}
			byCluster[c] = append(byCluster[c], r)
		}
		if len(clusters) == 1 && clusters[0] == "local" {
			printByComponent(w, "  ", res)
			return nil
		}
		for _, c := range clusters {
			fmt.Fprintf(w, "  cluster %s\n", c)
			printByComponent(w, "    ", byCluster[c])
		}
	} else if len(st.AppliedResources) > 0 {
		fmt.Fprintln(w, "\nResources:")
		for _, r := range st.AppliedResources {
			where := ""
			if r.Cluster != "" && r.Cluster != "local" {
				where = " (cluster " + r.Cluster + ")"
			}
			fmt.Fprintf(w, "  %s %s/%s%s\n", r.Kind, r.Namespace, r.Name, where)
		}
	}
	return nil
}

// printByComponent prints resources under their components.
func printByComponent(w io.Writer, indent string, res []appcli.Resource) {
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
		fmt.Fprintf(w, "%s%s\n", indent, name)
		printTree(w, indent, byComp[comp])
	}
}

// printTree prints resources as branches below indent, each with the
// objects made on its behalf (a HelmRelease's) one level deeper.
func printTree(w io.Writer, indent string, list []appcli.Resource) {
	for i, r := range list {
		branch, below := "├─", "│  "
		if i == len(list)-1 {
			branch, below = "└─", "   "
		}
		obj := r.Ref.Kind + " " + r.Ref.Name
		if r.Ref.Namespace != "" {
			obj = r.Ref.Kind + " " + r.Ref.Namespace + "/" + r.Ref.Name
		}
		if r.Trait != "" {
			obj += " (trait " + r.Trait + ")"
		}
		fmt.Fprintf(w, "%s%s %s\n", indent, branch, obj)
		printTree(w, indent+below, r.Children)
	}
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

// printClusterStatus prints bootstrap.Status lines with a mark each and
// reports whether all are healthy.
func printClusterStatus(w io.Writer, lines []bootstrap.StatusLine) bool {
	healthy := true
	for _, l := range lines {
		mark := "✓"
		if !l.OK {
			mark, healthy = "✗", false
		}
		fmt.Fprintf(w, "%s %-40s %s\n", mark, l.Name, l.Detail)
	}
	return healthy
}

// printWorkflowIO prints the inputs and outputs of steps and components.
func printWorkflowIO(w io.Writer, ios []appcli.StepIO) {
	fmt.Fprintln(w, "\nInputs and outputs:")
	if len(ios) == 0 {
		fmt.Fprintln(w, "  (no step or component has inputs or outputs)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range ios {
		for _, in := range s.Inputs {
			fmt.Fprintf(tw, "  %s\tinput\t%s\t%s\n", s.Step, in.Name, in.Value)
		}
		for _, o := range s.Outputs {
			fmt.Fprintf(tw, "  %s\toutput\t%s\t%s\n", s.Step, o.Name, o.Value)
		}
	}
	tw.Flush()
}

// printChartList prints `velad chart list` as a table.
func printChartList(w io.Writer, entries []chartrepo.Entry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tAPP VERSION\tSIZE\tPUSHED")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", e.Name, e.Version, e.AppVersion, e.Size, e.Created.Local().Format(time.DateTime))
	}
	return tw.Flush()
}

// printAddonList prints `velad addon list` as a table.
func printAddonList(w io.Writer, infos []lifecycle.Info) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tENABLED\tHEALTH\tDESCRIPTION")
	for _, i := range infos {
		enabled, health := "no", "-"
		if i.Enabled {
			enabled = "yes"
			health = tick(i.Healthy) + " " + i.Health
		}
		version := i.Version
		if i.Installed != "" && i.Installed != i.Version {
			version = i.Installed + " (velad carries " + i.Version + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", i.Name, version, enabled, health, i.Description)
	}
	return tw.Flush()
}

// printRoutes lists the routes the ingress addon's Traefik serves.
func printRoutes(w io.Writer, routes []ingress.Route) {
	if len(routes) == 0 {
		fmt.Fprintln(w, "\nRoutes:      none (the gateway and http-route traits add them)")
		return
	}
	fmt.Fprintln(w, "\nRoutes:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  KIND\tNAMESPACE/NAME\tAPP\tHOSTS\tPATHS\tADDRESS")
	for _, r := range routes {
		fmt.Fprintf(tw, "  %s\t%s/%s\t%s\t%s\t%s\t%s\n", r.Kind, r.Namespace, r.Name, orDash(r.App),
			strings.Join(r.Hosts, ","), strings.Join(r.Paths, ", "), orDash(r.Address))
	}
	tw.Flush()
}

func printAddonStatus(w io.Writer, r *lifecycle.Report) {
	state := "not enabled ('velad addon enable " + r.Name + "' enables it)"
	if r.Enabled {
		state = "enabled, " + map[bool]string{true: "healthy", false: "unhealthy"}[r.Healthy]
	}
	fmt.Fprintf(w, "Addon:       %s %s\n", r.Name, r.Version)
	fmt.Fprintf(w, "State:       %s\n", state)
	fmt.Fprintf(w, "Description: %s\n", r.Description)
	fmt.Fprintf(w, "Namespace:   %s\n", r.Namespace)
	if len(r.Dependencies) > 0 {
		fmt.Fprintf(w, "Depends on:  %s\n", strings.Join(r.Dependencies, ", "))
	}
	if rel := r.Release; rel != nil {
		fmt.Fprintf(w, "Release:     %s/%s revision %d, %s, chart %s, updated %s\n",
			rel.Namespace, rel.Name, rel.Revision, rel.Status, rel.Chart, rel.Updated.Local().Format(time.DateTime))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(r.Workloads) > 0 {
		fmt.Fprintln(tw, "\nWorkloads:")
		for _, wl := range r.Workloads {
			fmt.Fprintf(tw, "  %s %s %s\t%s\n", tick(wl.Ready), wl.Kind, wl.Name, wl.State)
		}
	}
	if len(r.Pods) > 0 {
		fmt.Fprintln(tw, "\nPods:")
		for _, p := range r.Pods {
			fmt.Fprintf(tw, "  %s %s\t%s\trestarts %d\t%s\n", tick(p.Ready), p.Name, p.Phase, p.Restarts, p.Problem)
		}
	}
	if len(r.Definitions) > 0 {
		fmt.Fprintln(tw, "\nDefinitions:")
		for _, d := range r.Definitions {
			present := "present"
			if !d.Present {
				present = "missing"
			}
			fmt.Fprintf(tw, "  %s %s %s\t%s\n", tick(d.Present || !r.Enabled), d.Kind, d.Name, present)
		}
	}
	tw.Flush()
	if len(r.Problems) > 0 {
		fmt.Fprintln(w, "\nUnhealthy:")
		for _, p := range r.Problems {
			fmt.Fprintf(w, "  - %s\n", p)
		}
	}
}

// tick marks a check: ✓ or ✗.
func tick(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

func printStructured(w io.Writer, format string, v any) error {
	var (
		data []byte
		err  error
	)
	if format == "json" {
		data, err = json.MarshalIndent(v, "", "  ")
		data = append(data, '\n')
	} else {
		data, err = yaml.Marshal(v)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// addonProgress shows each step of enabling or disabling as an install
// step (a spinner on a terminal, a ✓ line when it is done).
type addonProgress struct {
	steps   *stepProgress
	active  bool
	begin   time.Time
	waiting string
}

func (p *addonProgress) Step(msg string) {
	if p.active {
		p.steps.Done(nil, time.Since(p.begin))
	}
	p.steps.Start(msg)
	p.active, p.begin, p.waiting = true, time.Now(), ""
}

func (p *addonProgress) Waiting(msg string) {
	if msg == p.waiting {
		return
	}
	p.waiting = msg
	p.steps.Update(msg)
}

func (p *addonProgress) finish(err error) {
	if p.active {
		p.steps.Done(err, time.Since(p.begin))
		p.active = false
	}
}

// orDash is s, or "-" when it is empty (a table cell).
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
