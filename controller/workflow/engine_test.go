package workflow

import (
	"context"
	"testing"
	"time"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// fakeExec completes the steps named in done; others wait.
type fakeExec struct {
	done map[string]bool
	ran  []string
}

func (f *fakeExec) Execute(_ context.Context, s v1beta1.WorkflowStepBase) (Outcome, error) {
	f.ran = append(f.ran, s.Name)
	if s.Name == "bad" {
		return Outcome{Failed: true, Message: "boom"}, nil
	}
	return Outcome{Done: f.done[s.Name]}, nil
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
