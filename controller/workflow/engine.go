package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// Outcome is what executing a step once produced.
type Outcome struct {
	// Done: the step succeeded (for apply steps: applied and healthy).
	Done bool
	// Failed: the step failed for good (an invalid object, an unknown
	// step type); the workflow fails.
	Failed  bool
	Reason  string
	Message string
	// Suspend: the step suspends the workflow (#Suspend) until it is
	// resumed; the step then runs again with StepInput.Resumed.
	Suspend bool
	// RequeueAfter: look at the step again this soon (a wait, a suspend
	// with a duration); 0: the engine's default.
	RequeueAfter time.Duration
	// Outputs are the values of the step's `outputs`, by name, once done;
	// Sensitive names those made from Secrets.
	Outputs   map[string]any
	Sensitive map[string]bool
	// Logs are lines the step logged (#Log) in this execution.
	Logs []string
}

// StepInput is what the engine gives a step besides its spec.
type StepInput struct {
	// Inputs are the step's inputs by `from` name (also set into its
	// properties at their parameterKey).
	Inputs map[string]any
	// Resumed: the step suspended the workflow and it was resumed since.
	Resumed bool
	// Context is the workflow's context (outputs, variables, logs).
	Context *Context
	// Started is when the step first ran.
	Started time.Time
}

// Executor runs the steps the engine does not run itself.
type Executor interface {
	// Execute runs step once. An error is transient: the step stays
	// running and the reconcile is retried.
	Execute(ctx context.Context, step v1beta1.WorkflowStepBase, in StepInput) (Outcome, error)
}

// Phase is the state of the whole workflow after a Run.
type Phase string

// Workflow phases, as written to status.workflow.status.
const (
	PhaseInitializing Phase = "initializing"
	PhaseExecuting    Phase = "executing"
	PhaseSuspending   Phase = "suspending"
	PhaseSucceeded    Phase = "succeeded"
	PhaseFailed       Phase = "failed"
	PhaseTerminated   Phase = "terminated"
)

// Result of a Run.
type Result struct {
	Phase Phase
	// RequeueAfter is when a step wants to be looked at again (a suspend
	// with a duration); 0 when nothing is scheduled.
	RequeueAfter time.Duration
	Message      string
	// Started are the steps given to the Executor, in this Run or an
	// earlier one, that succeeded or are still running.
	Started []v1beta1.WorkflowStepBase
}

// Engine advances workflows.
type Engine struct {
	Exec Executor
	Now  func() time.Time
	// Context carries outputs between steps; nil: a fresh one per Run
	// (the caller keeps it across Runs, see Store).
	Context *Context
}

// Reason of a step ended by terminate.
const ReasonTerminate = "Terminate"

// Init resets st for a fresh run of plan at revision.
func Init(st *v1beta1.WorkflowStatus, plan Plan, revision string, now time.Time) {
	*st = v1beta1.WorkflowStatus{AppRevision: revision, Mode: plan.Mode.Steps + "-" + plan.Mode.SubSteps,
		Phase: string(PhaseInitializing), StartTime: metav1.NewTime(now)}
	for _, s := range plan.Steps {
		ws := v1beta1.WorkflowStepStatus{StepStatus: newStatus(s.WorkflowStepBase)}
		for _, sub := range s.SubSteps {
			ws.SubStepsStatus = append(ws.SubStepsStatus, newStatus(sub))
		}
		st.Steps = append(st.Steps, ws)
	}
}

func newStatus(s v1beta1.WorkflowStepBase) v1beta1.StepStatus {
	sum := sha256.Sum256([]byte(s.Name))
	return v1beta1.StepStatus{ID: hex.EncodeToString(sum[:])[:10], Name: s.Name, Type: s.Type, Phase: v1beta1.WorkflowStepPending}
}

// node is a step with its status, for one Run.
type node struct {
	spec   v1beta1.WorkflowStepBase
	status *v1beta1.StepStatus
	subs   []node
	subDAG bool
}

// run carries one Run's state.
type run struct {
	e       *Engine
	st      *v1beta1.WorkflowStatus
	now     time.Time
	requeue time.Duration
	ctx     *Context
	// all are the plan's steps and sub-steps with their statuses.
	all []*node
}

// Run advances the workflow in st (already Init-ed for this plan) as far
// as it goes now.
func (e *Engine) Run(ctx context.Context, plan Plan, st *v1beta1.WorkflowStatus) (Result, error) {
	res, err := e.advance(ctx, plan, st)
	if err == nil {
		res.Started = started(plan, st)
	}
	return res, err
}

func (e *Engine) advance(ctx context.Context, plan Plan, st *v1beta1.WorkflowStatus) (Result, error) {
	now := time.Now()
	if e.Now != nil {
		now = e.Now()
	}
	switch {
	case st.Terminated:
		st.Phase = string(PhaseTerminated)
		return Result{Phase: PhaseTerminated, Message: st.Message}, nil
	case st.Finished:
		return Result{Phase: Phase(st.Phase), Message: st.Message}, nil
	}
	r := &run{e: e, st: st, now: now, ctx: e.Context}
	if r.ctx == nil {
		r.ctx = NewContext(st.AppRevision)
	}
	nodes, err := r.nodes(plan)
	if err != nil {
		return Result{}, err
	}
	for i := range nodes {
		r.all = append(r.all, &nodes[i])
		for j := range nodes[i].subs {
			r.all = append(r.all, &nodes[i].subs[j])
		}
	}
	if st.Suspend {
		st.Phase = string(PhaseSuspending)
		// A suspend step with a duration still wakes up by itself.
		r.scanSuspends(nodes)
		if st.Suspend {
			return Result{Phase: PhaseSuspending, RequeueAfter: r.requeue, Message: st.Message}, nil
		}
	}
	st.Phase = string(PhaseExecuting)
	phase, err := r.runNodes(ctx, nodes, plan.Mode.Steps == v1beta1.WorkflowModeDAG)
	if err != nil {
		return Result{Phase: PhaseExecuting}, err
	}
	res := Result{RequeueAfter: r.requeue}
	switch phase {
	case v1beta1.WorkflowStepSucceeded, v1beta1.WorkflowStepSkipped:
		res.Phase = PhaseSucceeded
		st.Finished, st.Suspend, st.Message = true, false, ""
		st.EndTime = metav1.NewTime(now)
	case v1beta1.WorkflowStepFailed:
		res.Phase = PhaseFailed
		st.Finished, st.Message = true, failedMessage(nodes)
		st.EndTime = metav1.NewTime(now)
	case v1beta1.WorkflowStepSuspending:
		res.Phase = PhaseSuspending
		st.Suspend = true
	default:
		res.Phase = PhaseExecuting
	}
	st.Phase = string(res.Phase)
	res.Message = st.Message
	return res, nil
}

// started lists the Executor's steps of plan (sub-steps included) whose
// status says they succeeded or are still running.
func started(plan Plan, st *v1beta1.WorkflowStatus) []v1beta1.WorkflowStepBase {
	var out []v1beta1.WorkflowStepBase
	add := func(s v1beta1.WorkflowStepBase, ss *v1beta1.StepStatus) {
		if ss == nil || s.Type == TypeSuspend || s.Type == TypeStepGroup {
			return
		}
		if ss.Phase == v1beta1.WorkflowStepSucceeded || ss.Phase == v1beta1.WorkflowStepRunning {
			out = append(out, s)
		}
	}
	for _, s := range plan.Steps {
		ws := findStep(st.Steps, s.Name)
		if ws == nil {
			continue
		}
		add(s.WorkflowStepBase, &ws.StepStatus)
		for _, sub := range s.SubSteps {
			add(sub, findSubStep(ws.SubStepsStatus, sub.Name))
		}
	}
	return out
}

func findStep(steps []v1beta1.WorkflowStepStatus, name string) *v1beta1.WorkflowStepStatus {
	for i := range steps {
		if steps[i].Name == name {
			return &steps[i]
		}
	}
	return nil
}

func findSubStep(steps []v1beta1.StepStatus, name string) *v1beta1.StepStatus {
	for i := range steps {
		if steps[i].Name == name {
			return &steps[i]
		}
	}
	return nil
}

// nodes pairs the plan's steps with their statuses (by name), adding a
// status for a step that has none.
func (r *run) nodes(plan Plan) ([]node, error) {
	byName := map[string]int{}
	for i, s := range r.st.Steps {
		byName[s.Name] = i
	}
	for _, s := range plan.Steps {
		if _, ok := byName[s.Name]; !ok {
			byName[s.Name] = len(r.st.Steps)
			r.st.Steps = append(r.st.Steps, v1beta1.WorkflowStepStatus{StepStatus: newStatus(s.WorkflowStepBase)})
		}
	}
	var out []node
	seen := map[string]bool{}
	for _, s := range plan.Steps {
		if seen[s.Name] {
			return nil, fmt.Errorf("workflow step name %q is used twice", s.Name)
		}
		seen[s.Name] = true
		ws := &r.st.Steps[byName[s.Name]]
		n := node{spec: s.WorkflowStepBase, status: &ws.StepStatus, subDAG: s.Mode != v1beta1.WorkflowModeStep}
		if s.Mode == "" {
			n.subDAG = true
		}
		subIdx := map[string]int{}
		for i, sub := range ws.SubStepsStatus {
			subIdx[sub.Name] = i
		}
		for _, sub := range s.SubSteps {
			if _, ok := subIdx[sub.Name]; !ok {
				subIdx[sub.Name] = len(ws.SubStepsStatus)
				ws.SubStepsStatus = append(ws.SubStepsStatus, newStatus(sub))
			}
		}
		for _, sub := range s.SubSteps {
			n.subs = append(n.subs, node{spec: sub, status: &ws.SubStepsStatus[subIdx[sub.Name]]})
		}
		out = append(out, n)
	}
	return out, nil
}

func done(p v1beta1.WorkflowStepPhase) bool {
	return p == v1beta1.WorkflowStepSucceeded || p == v1beta1.WorkflowStepSkipped
}

// runNodes runs a list of steps one after another, or as a DAG, and
// returns the phase of the list as a whole. After a step fails, the steps
// it leads to are skipped unless their `if` says to run them (`always`,
// `status.<step>.failed`, ...); the list then ends failed.
func (r *run) runNodes(ctx context.Context, nodes []node, dag bool) (v1beta1.WorkflowStepPhase, error) {
	if dag {
		return r.runDAG(ctx, nodes)
	}
	return r.runSequence(ctx, nodes)
}

// runSequence runs the steps in order: it stops at the first step that
// is not done yet, and after a failure runs only steps whose `if` asks
// for it.
func (r *run) runSequence(ctx context.Context, nodes []node) (v1beta1.WorkflowStepPhase, error) {
	failed := false
	for i := range nodes {
		n := &nodes[i]
		switch {
		case done(n.status.Phase):
			continue
		case n.status.Phase == v1beta1.WorkflowStepFailed:
			failed = true
			continue
		}
		if !r.gate(n, nodes, failed) {
			if n.status.Phase == v1beta1.WorkflowStepPending {
				return n.status.Phase, nil // its `if` waits for an input
			}
			failed = failed || n.status.Phase == v1beta1.WorkflowStepFailed
			continue
		}
		p, err := r.runNode(ctx, n)
		if err != nil {
			return p, err
		}
		if p == v1beta1.WorkflowStepFailed {
			failed = true
			continue
		}
		if !done(p) {
			return p, nil
		}
	}
	if failed {
		return v1beta1.WorkflowStepFailed, nil
	}
	return v1beta1.WorkflowStepSucceeded, nil
}

// runDAG runs every step whose dependsOn have finished, in passes until
// nothing more can start, and returns the phase of the list as a whole.
func (r *run) runDAG(ctx context.Context, nodes []node) (v1beta1.WorkflowStepPhase, error) {
	phases := map[string]v1beta1.WorkflowStepPhase{}
	for i := range nodes {
		phases[nodes[i].spec.Name] = nodes[i].status.Phase
	}
	finished := func(p v1beta1.WorkflowStepPhase) bool { return done(p) || p == v1beta1.WorkflowStepFailed }
	// Passes until nothing more can start: a chain whose steps finish at
	// once completes in one Run. Bounded by the number of steps.
	for pass := 0; pass <= len(nodes); pass++ {
		progressed := false
		for i := range nodes {
			n := &nodes[i]
			if finished(phases[n.spec.Name]) {
				continue
			}
			ready, blocked := true, false
			for _, d := range n.spec.DependsOn {
				dp, known := phases[d]
				if !known {
					continue
				}
				blocked = blocked || dp == v1beta1.WorkflowStepFailed
				ready = ready && finished(dp)
			}
			if !ready {
				continue
			}
			if !r.gate(n, nodes, blocked) {
				phases[n.spec.Name] = n.status.Phase
				progressed = progressed || finished(n.status.Phase)
				continue
			}
			p, err := r.runNode(ctx, n)
			if err != nil {
				return v1beta1.WorkflowStepRunning, err
			}
			if p != phases[n.spec.Name] {
				progressed = progressed || finished(p)
				phases[n.spec.Name] = p
			}
		}
		if !progressed {
			break
		}
	}
	return dagPhase(nodes, phases), nil
}

// dagPhase is the phase of a DAG list from the phases of its steps.
func dagPhase(nodes []node, phases map[string]v1beta1.WorkflowStepPhase) v1beta1.WorkflowStepPhase {
	agg, failed, conditional := v1beta1.WorkflowStepSucceeded, false, false
	for i := range nodes {
		p := phases[nodes[i].spec.Name]
		switch {
		case p == v1beta1.WorkflowStepFailed:
			failed = true
		case p == v1beta1.WorkflowStepSuspending:
			agg = v1beta1.WorkflowStepSuspending
		case !done(p):
			conditional = conditional || nodes[i].spec.If != ""
			if agg != v1beta1.WorkflowStepSuspending {
				agg = v1beta1.WorkflowStepRunning
			}
		}
	}
	// A failure ends the list at once, unless a step still to come has an
	// `if` that may run it because of that failure.
	if failed && (agg == v1beta1.WorkflowStepSucceeded || !conditional) {
		return v1beta1.WorkflowStepFailed
	}
	return agg
}

// gate decides whether step n runs now: its `if` holds (evaluated over the
// steps of its list), or it has none and nothing before it failed. A step
// that does not run is marked skipped (or failed, when its `if` is not a
// valid condition).
func (r *run) gate(n *node, nodes []node, failedBefore bool) bool {
	if n.spec.If == "" {
		if failedBefore {
			r.set(n.status, v1beta1.WorkflowStepSkipped, ReasonSkip, "an earlier step failed")
			return false
		}
		return true
	}
	steps := make([]v1beta1.StepStatus, 0, len(nodes))
	for i := range nodes {
		steps = append(steps, *nodes[i].status)
		for j := range nodes[i].subs {
			steps = append(steps, *nodes[i].subs[j].status)
		}
	}
	_, inputs, err := resolveInputs(n.spec, r.ctx, r.producing)
	var pending *inputPending
	if errors.As(err, &pending) {
		r.set(n.status, v1beta1.WorkflowStepPending, "Input", pending.Error())
		return false
	}
	ok := false
	if err == nil {
		ok, err = evalIf(n.spec.If, steps, inputs)
	}
	switch {
	case err != nil:
		r.set(n.status, v1beta1.WorkflowStepFailed, ReasonInvalidIf, fmt.Sprintf("step %q: %v", n.spec.Name, err))
		return false
	case !ok:
		r.set(n.status, v1beta1.WorkflowStepSkipped, ReasonSkip, fmt.Sprintf("if %q is false", n.spec.If))
		return false
	}
	return true
}

// runNode runs one step (a suspend, a group, or an executor step), or
// fails it when its timeout has passed.
func (r *run) runNode(ctx context.Context, n *node) (v1beta1.WorkflowStepPhase, error) {
	if n.status.FirstExecuteTime.IsZero() {
		n.status.FirstExecuteTime = metav1.NewTime(r.now)
	}
	at, timed, err := deadline(n.spec, n.status)
	switch {
	case err != nil:
		r.set(n.status, v1beta1.WorkflowStepFailed, ReasonInvalidTimer, err.Error())
		return n.status.Phase, nil
	case timed && !r.now.Before(at):
		r.set(n.status, v1beta1.WorkflowStepFailed, ReasonTimeout, fmt.Sprintf("step %q did not finish within %s", n.spec.Name, n.spec.Timeout))
		return n.status.Phase, nil
	}
	p, err := r.runStep(ctx, n)
	if timed && err == nil && !done(p) && p != v1beta1.WorkflowStepFailed {
		r.schedule(at.Sub(r.now)) // look again when it times out
	}
	return p, err
}

// runStep runs one step once.
func (r *run) runStep(ctx context.Context, n *node) (v1beta1.WorkflowStepPhase, error) {
	switch n.spec.Type {
	case TypeSuspend:
		return r.suspend(n), nil
	case TypeStepGroup:
		r.set(n.status, v1beta1.WorkflowStepRunning, "", "")
		p, err := r.runNodes(ctx, n.subs, n.subDAG)
		if err != nil {
			return v1beta1.WorkflowStepRunning, err
		}
		msg := ""
		if p == v1beta1.WorkflowStepFailed {
			msg = failedMessage(n.subs)
		}
		r.set(n.status, p, "", msg)
		return p, nil
	}
	step, inputs, err := resolveInputs(n.spec, r.ctx, r.producing)
	var pending *inputPending
	switch {
	case errors.As(err, &pending):
		r.set(n.status, v1beta1.WorkflowStepPending, "Input", pending.Error())
		return v1beta1.WorkflowStepPending, nil
	case err != nil:
		r.set(n.status, v1beta1.WorkflowStepFailed, "InvalidInput", err.Error())
		return n.status.Phase, nil
	}
	resumed := n.status.Phase == v1beta1.WorkflowStepSuspending && !r.st.Suspend
	out, err := r.e.Exec.Execute(ctx, step, StepInput{Inputs: inputs, Resumed: resumed, Context: r.ctx, Started: n.status.FirstExecuteTime.Time})
	if err != nil {
		r.set(n.status, v1beta1.WorkflowStepRunning, "Retrying", err.Error())
		return v1beta1.WorkflowStepRunning, err
	}
	r.ctx.Log(n.spec.Name, out.Logs...)
	if out.RequeueAfter > 0 {
		r.schedule(out.RequeueAfter)
	}
	switch {
	case out.Failed:
		r.set(n.status, v1beta1.WorkflowStepFailed, out.Reason, out.Message)
	case out.Done:
		for _, o := range n.spec.Outputs {
			if v, ok := out.Outputs[o.Name]; ok {
				r.ctx.SetOutput(o.Name, v, out.Sensitive[o.Name])
			}
		}
		r.set(n.status, v1beta1.WorkflowStepSucceeded, out.Reason, out.Message)
	case out.Suspend:
		r.set(n.status, v1beta1.WorkflowStepSuspending, "Suspend", out.Message)
		r.st.Suspend = true
		r.st.Message = out.Message
	default:
		r.set(n.status, v1beta1.WorkflowStepRunning, out.Reason, out.Message)
	}
	return n.status.Phase, nil
}

// suspend suspends the workflow until it is resumed (status.workflow.
// suspend set back to false) or its duration has passed.
func (r *run) suspend(n *node) v1beta1.WorkflowStepPhase {
	props, _ := Properties(n.spec)
	msg, _ := props["message"].(string)
	if n.status.Phase == v1beta1.WorkflowStepSuspending && !r.st.Suspend {
		r.set(n.status, v1beta1.WorkflowStepSucceeded, "", "")
		return n.status.Phase
	}
	if d, ok := props["duration"].(string); ok && d != "" {
		dur, err := time.ParseDuration(d)
		if err != nil {
			r.set(n.status, v1beta1.WorkflowStepFailed, "InvalidDuration", fmt.Sprintf("suspend step %q: invalid duration %q: %v", n.spec.Name, d, err))
			return n.status.Phase
		}
		if left := n.status.FirstExecuteTime.Add(dur).Sub(r.now); left > 0 {
			r.schedule(left)
		} else {
			r.set(n.status, v1beta1.WorkflowStepSucceeded, "", "")
			return n.status.Phase
		}
	}
	r.set(n.status, v1beta1.WorkflowStepSuspending, "Suspend", msg)
	r.st.Suspend = true
	r.st.Message = msg
	return n.status.Phase
}

// scanSuspends resumes a suspended workflow whose suspend steps with a
// duration have all expired.
func (r *run) scanSuspends(nodes []node) {
	waiting, expired := 0, 0
	var walk func([]node)
	walk = func(ns []node) {
		for i := range ns {
			n := &ns[i]
			walk(n.subs)
			if n.spec.Type != TypeSuspend || n.status.Phase != v1beta1.WorkflowStepSuspending {
				continue
			}
			// A suspend step with a timeout fails when it is not resumed
			// in time; the workflow then goes on to fail (or to the steps
			// whose `if` handles it).
			if at, timed, err := deadline(n.spec, n.status); err == nil && timed {
				if !r.now.Before(at) {
					r.set(n.status, v1beta1.WorkflowStepFailed, ReasonTimeout, fmt.Sprintf("step %q was not resumed within %s", n.spec.Name, n.spec.Timeout))
					expired++
					continue
				}
				r.schedule(at.Sub(r.now))
			}
			props, _ := Properties(n.spec)
			d, _ := props["duration"].(string)
			dur, err := time.ParseDuration(d)
			if d == "" || err != nil {
				waiting++
				continue
			}
			if left := n.status.FirstExecuteTime.Add(dur).Sub(r.now); left > 0 {
				r.schedule(left)
				waiting++
				continue
			}
			r.set(n.status, v1beta1.WorkflowStepSucceeded, "", "")
			expired++
		}
	}
	walk(nodes)
	// A workflow suspended by hand (no suspend step) stays suspended.
	if expired > 0 && waiting == 0 {
		r.st.Suspend = false
		r.st.Message = ""
	}
}

// producing reports whether a step that has not finished declares
// output name.
func (r *run) producing(name string) bool {
	for _, n := range r.all {
		if done(n.status.Phase) || n.status.Phase == v1beta1.WorkflowStepFailed {
			continue
		}
		for _, o := range n.spec.Outputs {
			if o.Name == name {
				return true
			}
		}
	}
	return false
}

func (r *run) schedule(d time.Duration) {
	if r.requeue == 0 || d < r.requeue {
		r.requeue = d
	}
}

// set changes a step's phase; times move only when something changes, so
// that a Run that changes nothing leaves the status equal.
func (r *run) set(s *v1beta1.StepStatus, p v1beta1.WorkflowStepPhase, reason, msg string) {
	if s.Phase == p && s.Reason == reason && s.Message == msg {
		return
	}
	s.Phase, s.Reason, s.Message = p, reason, msg
	s.LastExecuteTime = metav1.NewTime(r.now)
}

func failedMessage(nodes []node) string {
	for _, n := range nodes {
		if n.status.Phase == v1beta1.WorkflowStepFailed {
			return fmt.Sprintf("step %q failed: %s", n.spec.Name, n.status.Message)
		}
	}
	return "a step failed"
}
