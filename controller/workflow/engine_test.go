package workflow

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// fakeExec completes the steps named in done; others wait.
type fakeExec struct {
	done map[string]bool
	ran  []string
	// outputs are what a step outputs when done; props and inputs what
	// each step was given.
	outputs map[string]map[string]any
	props   map[string]map[string]any
	inputs  map[string]map[string]any
}

func (f *fakeExec) Execute(_ context.Context, s v1beta1.WorkflowStepBase, in StepInput) (Outcome, error) {
	f.ran = append(f.ran, s.Name)
	if s.Name == "bad" {
		return Outcome{Failed: true, Message: "boom"}, nil
	}
	if f.props == nil {
		f.props, f.inputs = map[string]map[string]any{}, map[string]map[string]any{}
	}
	f.props[s.Name], _ = Properties(s)
	f.inputs[s.Name] = in.Inputs
	return Outcome{Done: f.done[s.Name], Outputs: f.outputs[s.Name]}, nil
}

func step(name, typ string, deps ...string) v1beta1.WorkflowStep {
	return v1beta1.WorkflowStep{WorkflowStepBase: v1beta1.WorkflowStepBase{Name: name, Type: typ, DependsOn: deps}}
}

func TestRun(t *testing.T) {
	dag := v1beta1.WorkflowExecuteMode{Steps: v1beta1.WorkflowModeDAG, SubSteps: v1beta1.WorkflowModeDAG}
	seq := v1beta1.WorkflowExecuteMode{Steps: v1beta1.WorkflowModeStep, SubSteps: v1beta1.WorkflowModeDAG}
	group := step("g", TypeStepGroup)
	group.SubSteps = []v1beta1.WorkflowStepBase{{Name: "x", Type: "t"}, {Name: "y", Type: "t"}}
	cases := []struct {
		name  string
		plan  Plan
		done  map[string]bool
		want  Phase
		ran   []string
		phase map[string]v1beta1.WorkflowStepPhase
	}{
		{"dag chain completes in one run", Plan{[]v1beta1.WorkflowStep{step("b", "t", "a"), step("a", "t")}, dag},
			map[string]bool{"a": true, "b": true}, PhaseSucceeded, []string{"a", "b"}, nil},
		{"dependsOn waits", Plan{[]v1beta1.WorkflowStep{step("a", "t"), step("b", "t", "a")}, dag},
			map[string]bool{"b": true}, PhaseExecuting, []string{"a"},
			map[string]v1beta1.WorkflowStepPhase{"a": v1beta1.WorkflowStepRunning, "b": v1beta1.WorkflowStepPending}},
		{"step by step stops at a waiting step", Plan{[]v1beta1.WorkflowStep{step("a", "t"), step("b", "t")}, seq},
			map[string]bool{"b": true}, PhaseExecuting, []string{"a"}, nil},
		{"suspend stops the sequence", Plan{[]v1beta1.WorkflowStep{step("a", "t"), step("s", TypeSuspend), step("b", "t")}, seq},
			map[string]bool{"a": true, "b": true}, PhaseSuspending, []string{"a"},
			map[string]v1beta1.WorkflowStepPhase{"s": v1beta1.WorkflowStepSuspending, "b": v1beta1.WorkflowStepPending}},
		{"failure fails the workflow", Plan{[]v1beta1.WorkflowStep{step("bad", "t"), step("b", "t")}, seq},
			nil, PhaseFailed, []string{"bad"}, nil},
		{"step group runs its sub-steps", Plan{[]v1beta1.WorkflowStep{group}, seq},
			map[string]bool{"x": true, "y": true}, PhaseSucceeded, []string{"x", "y"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ex := &fakeExec{done: tc.done}
			st := &v1beta1.WorkflowStatus{}
			now := time.Unix(1000, 0)
			Init(st, tc.plan, "app-v1", now)
			e := Engine{Exec: ex, Now: func() time.Time { return now }}
			res, err := e.Run(context.Background(), tc.plan, st)
			if err != nil {
				t.Fatal(err)
			}
			if res.Phase != tc.want {
				t.Errorf("phase = %s, want %s", res.Phase, tc.want)
			}
			if len(ex.ran) != len(tc.ran) {
				t.Errorf("ran %v, want %v", ex.ran, tc.ran)
			}
			for _, s := range st.Steps {
				if want, ok := tc.phase[s.Name]; ok && s.Phase != want {
					t.Errorf("step %s = %s, want %s", s.Name, s.Phase, want)
				}
			}
		})
	}
}

func TestSuspendDurationExpires(t *testing.T) {
	plan := Plan{[]v1beta1.WorkflowStep{step("s", TypeSuspend), step("b", "t")}, v1beta1.WorkflowExecuteMode{Steps: v1beta1.WorkflowModeStep}}
	plan.Steps[0].Properties = rawJSON(map[string]any{"duration": "10s"})
	now := time.Unix(1000, 0)
	st := &v1beta1.WorkflowStatus{}
	Init(st, plan, "v1", now)
	e := Engine{Exec: &fakeExec{done: map[string]bool{"b": true}}, Now: func() time.Time { return now }}
	res, _ := e.Run(context.Background(), plan, st)
	if res.Phase != PhaseSuspending || res.RequeueAfter != 10*time.Second {
		t.Fatalf("first run: %+v", res)
	}
	now = now.Add(11 * time.Second)
	res, _ = e.Run(context.Background(), plan, st)
	if res.Phase != PhaseSucceeded {
		t.Fatalf("after the duration: %+v, steps %+v", res, st.Steps)
	}
}

func TestManualSuspendStays(t *testing.T) {
	plan := Plan{[]v1beta1.WorkflowStep{step("a", "t")}, v1beta1.WorkflowExecuteMode{Steps: v1beta1.WorkflowModeStep}}
	st := &v1beta1.WorkflowStatus{}
	Init(st, plan, "v1", time.Unix(0, 0))
	st.Suspend = true
	ex := &fakeExec{done: map[string]bool{"a": true}}
	res, _ := (&Engine{Exec: ex}).Run(context.Background(), plan, st)
	if res.Phase != PhaseSuspending || len(ex.ran) != 0 {
		t.Fatalf("got %+v, ran %v", res, ex.ran)
	}
}

func withIf(s v1beta1.WorkflowStep, cond string) v1beta1.WorkflowStep {
	s.If = cond
	return s
}

// `if` decides whether a step runs; after a failure only steps whose `if`
// allows it run, and the workflow still ends failed.
func TestIfConditions(t *testing.T) {
	seq := v1beta1.WorkflowExecuteMode{Steps: v1beta1.WorkflowModeStep, SubSteps: v1beta1.WorkflowModeDAG}
	dag := v1beta1.WorkflowExecuteMode{Steps: v1beta1.WorkflowModeDAG, SubSteps: v1beta1.WorkflowModeDAG}
	all := map[string]bool{"a": true, "b": true, "c": true, "notify": true, "cleanup": true}
	cases := []struct {
		name  string
		plan  Plan
		want  Phase
		phase map[string]v1beta1.WorkflowStepPhase
	}{
		{"always runs after a failure", Plan{[]v1beta1.WorkflowStep{step("bad", "t"), step("b", "t"), withIf(step("cleanup", "t"), "always")}, seq},
			PhaseFailed, map[string]v1beta1.WorkflowStepPhase{"b": v1beta1.WorkflowStepSkipped, "cleanup": v1beta1.WorkflowStepSucceeded}},
		{"a condition on a failed step", Plan{[]v1beta1.WorkflowStep{step("bad", "t"), withIf(step("notify", "t"), "status.bad.failed")}, seq},
			PhaseFailed, map[string]v1beta1.WorkflowStepPhase{"notify": v1beta1.WorkflowStepSucceeded}},
		{"a false condition skips", Plan{[]v1beta1.WorkflowStep{step("a", "t"), withIf(step("notify", "t"), `status.a.phase != "succeeded"`), step("b", "t")}, seq},
			PhaseSucceeded, map[string]v1beta1.WorkflowStepPhase{"notify": v1beta1.WorkflowStepSkipped, "b": v1beta1.WorkflowStepSucceeded}},
		{"a step name with a dash", Plan{[]v1beta1.WorkflowStep{step("a", "t"), withIf(step("b", "t"), `status["a"].succeeded && !status["a"].timeout`)}, seq},
			PhaseSucceeded, map[string]v1beta1.WorkflowStepPhase{"b": v1beta1.WorkflowStepSucceeded}},
		{"an invalid condition fails the step", Plan{[]v1beta1.WorkflowStep{step("a", "t"), withIf(step("b", "t"), "status.nope.failed")}, seq},
			PhaseFailed, map[string]v1beta1.WorkflowStepPhase{"b": v1beta1.WorkflowStepFailed}},
		{"dag: dependents of a failure are skipped", Plan{[]v1beta1.WorkflowStep{step("bad", "t"), step("b", "t", "bad"), withIf(step("c", "t", "bad"), "status.bad.failed")}, dag},
			PhaseFailed, map[string]v1beta1.WorkflowStepPhase{"b": v1beta1.WorkflowStepSkipped, "c": v1beta1.WorkflowStepSucceeded}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &v1beta1.WorkflowStatus{}
			now := time.Unix(1000, 0)
			Init(st, tc.plan, "app-v1", now)
			res, err := (&Engine{Exec: &fakeExec{done: all}, Now: func() time.Time { return now }}).Run(context.Background(), tc.plan, st)
			if err != nil {
				t.Fatal(err)
			}
			if res.Phase != tc.want {
				t.Errorf("phase = %s (%s), want %s", res.Phase, res.Message, tc.want)
			}
			for _, s := range st.Steps {
				if want, ok := tc.phase[s.Name]; ok && s.Phase != want {
					t.Errorf("step %s = %s (%s), want %s", s.Name, s.Phase, s.Message, want)
				}
			}
		})
	}
}

// A step not done within its timeout fails with reason Timeout; the
// engine asks to be run again when the timeout falls due.
func TestStepTimeout(t *testing.T) {
	seq := v1beta1.WorkflowExecuteMode{Steps: v1beta1.WorkflowModeStep}
	slow := step("slow", "t")
	slow.Timeout = "30s"
	plan := Plan{[]v1beta1.WorkflowStep{slow, withIf(step("notify", "t"), "status.slow.timeout")}, seq}
	now := time.Unix(1000, 0)
	st := &v1beta1.WorkflowStatus{}
	Init(st, plan, "v1", now)
	e := Engine{Exec: &fakeExec{done: map[string]bool{"notify": true}}, Now: func() time.Time { return now }}
	res, _ := e.Run(context.Background(), plan, st)
	if res.Phase != PhaseExecuting || res.RequeueAfter != 30*time.Second {
		t.Fatalf("before the timeout: %+v", res)
	}
	now = now.Add(31 * time.Second)
	res, _ = e.Run(context.Background(), plan, st)
	if res.Phase != PhaseFailed || st.Steps[0].Reason != ReasonTimeout || st.Steps[1].Phase != v1beta1.WorkflowStepSucceeded {
		t.Fatalf("after the timeout: %+v, steps %+v", res, st.Steps)
	}

	bad := step("a", "t")
	bad.Timeout = "soon"
	plan = Plan{[]v1beta1.WorkflowStep{bad}, seq}
	Init(st, plan, "v1", now)
	res, _ = e.Run(context.Background(), plan, st)
	if res.Phase != PhaseFailed || st.Steps[0].Reason != ReasonInvalidTimer {
		t.Fatalf("invalid timeout: %+v, steps %+v", res, st.Steps)
	}
}

// A suspend step with a timeout fails when nobody resumes it in time.
func TestSuspendTimeout(t *testing.T) {
	s := step("approve", TypeSuspend)
	s.Timeout = "1m"
	plan := Plan{[]v1beta1.WorkflowStep{s, step("b", "t")}, v1beta1.WorkflowExecuteMode{Steps: v1beta1.WorkflowModeStep}}
	now := time.Unix(1000, 0)
	st := &v1beta1.WorkflowStatus{}
	Init(st, plan, "v1", now)
	e := Engine{Exec: &fakeExec{done: map[string]bool{"b": true}}, Now: func() time.Time { return now }}
	res, _ := e.Run(context.Background(), plan, st)
	if res.Phase != PhaseSuspending || res.RequeueAfter != time.Minute {
		t.Fatalf("first run: %+v", res)
	}
	now = now.Add(30 * time.Second)
	if res, _ = e.Run(context.Background(), plan, st); res.Phase != PhaseSuspending {
		t.Fatalf("before the timeout: %+v", res)
	}
	now = now.Add(31 * time.Second)
	res, _ = e.Run(context.Background(), plan, st)
	if res.Phase != PhaseFailed || st.Steps[0].Reason != ReasonTimeout || st.Steps[1].Phase != v1beta1.WorkflowStepSkipped {
		t.Fatalf("after the timeout: %+v, steps %+v", res, st.Steps)
	}
}

// Run reports the executor steps that succeeded or still run, in this
// Run or an earlier one, also once the workflow finished or was
// terminated.
func TestRunStarted(t *testing.T) {
	group := step("g", TypeStepGroup)
	group.SubSteps = []v1beta1.WorkflowStepBase{{Name: "x", Type: "t"}, {Name: "bad", Type: "t"}}
	plan := Plan{[]v1beta1.WorkflowStep{step("a", "t"), step("s", TypeSuspend), group, step("b", "t"), step("c", "t")},
		v1beta1.WorkflowExecuteMode{Steps: v1beta1.WorkflowModeStep, SubSteps: v1beta1.WorkflowModeDAG}}
	now := time.Unix(1000, 0)
	st := &v1beta1.WorkflowStatus{}
	Init(st, plan, "v1", now)
	e := Engine{Exec: &fakeExec{done: map[string]bool{"a": true, "x": true}}, Now: func() time.Time { return now }}
	names := func(res Result) string {
		var out []string
		for _, s := range res.Started {
			out = append(out, s.Name)
		}
		return strings.Join(out, " ")
	}
	res, err := e.Run(context.Background(), plan, st)
	if err != nil || res.Phase != PhaseSuspending || names(res) != "a" {
		t.Fatalf("first run: %+v (%v), started %q, want a", res, err, names(res))
	}
	st.Suspend = false // resumed
	res, err = e.Run(context.Background(), plan, st)
	if err != nil || res.Phase != PhaseFailed || names(res) != "a x" {
		t.Fatalf("after resume: %+v (%v), started %q, want a x", res, err, names(res))
	}
	// A finished workflow runs nothing, and still says what ran.
	res, err = e.Run(context.Background(), plan, st)
	if err != nil || names(res) != "a x" {
		t.Fatalf("finished: %+v (%v), started %q, want a x", res, err, names(res))
	}
	st.Finished, st.Terminated = false, true
	if res, _ = e.Run(context.Background(), plan, st); names(res) != "a x" {
		t.Fatalf("terminated: %+v, started %q, want a x", res, names(res))
	}
}

// suspender suspends the workflow (#Suspend) until it is resumed.
type suspender struct{ resumed bool }

func (s *suspender) Execute(_ context.Context, _ v1beta1.WorkflowStepBase, in StepInput) (Outcome, error) {
	if in.Resumed {
		s.resumed = true
		return Outcome{Done: true}, nil
	}
	return Outcome{Suspend: true, Message: "approve me"}, nil
}

// A step that suspends the workflow runs again, resumed, once the
// workflow is resumed.
func TestStepSuspends(t *testing.T) {
	plan := Plan{[]v1beta1.WorkflowStep{step("gate", "t")}, v1beta1.WorkflowExecuteMode{Steps: v1beta1.WorkflowModeStep}}
	st := &v1beta1.WorkflowStatus{}
	Init(st, plan, "v1", time.Unix(0, 0))
	ex := &suspender{}
	e := Engine{Exec: ex}
	res, _ := e.Run(context.Background(), plan, st)
	if res.Phase != PhaseSuspending || !st.Suspend || st.Message != "approve me" || st.Steps[0].Phase != v1beta1.WorkflowStepSuspending {
		t.Fatalf("first run: %+v, steps %+v", res, st.Steps)
	}
	if res, _ = e.Run(context.Background(), plan, st); res.Phase != PhaseSuspending || ex.resumed {
		t.Fatalf("still suspended: %+v", res)
	}
	st.Suspend = false
	if res, _ = e.Run(context.Background(), plan, st); res.Phase != PhaseSucceeded || !ex.resumed {
		t.Fatalf("after resume: %+v, resumed %v", res, ex.resumed)
	}
}
