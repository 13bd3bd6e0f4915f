package workflow

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

func TestSetPath(t *testing.T) {
	cases := []struct {
		name string
		in   string
		key  string
		want string
		err  bool
	}{
		{"top level", `{}`, "image", `{"image":"v"}`, false},
		{"nested, made on the way", `{"a":1}`, "spec.x.y", `{"a":1,"spec":{"x":{"y":"v"}}}`, false},
		{"list item field", `{"env":[{"name":"A"}]}`, "env[0].value", `{"env":[{"name":"A","value":"v"}]}`, false},
		{"quoted key", `{}`, `labels["app.oam.dev/x"]`, `{"labels":{"app.oam.dev/x":"v"}}`, false},
		{"index out of range", `{"env":[]}`, "env[2].value", ``, true},
		{"below a string", `{"a":"s"}`, "a.b", ``, true},
		{"empty key", `{}`, " ", ``, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]any{}
			_ = json.Unmarshal([]byte(tc.in), &m)
			err := SetPath(m, tc.key, "v")
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if err != nil {
				return
			}
			got, _ := json.Marshal(m)
			if string(got) != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func withIO(s v1beta1.WorkflowStep, props map[string]any, in []v1beta1.InputItem, out ...string) v1beta1.WorkflowStep {
	if props != nil {
		s.Properties = rawJSON(props)
	}
	s.Inputs = in
	for _, o := range out {
		s.Outputs = append(s.Outputs, v1beta1.OutputItem{Name: o, ValueFrom: "x"})
	}
	return s
}

// Outputs of a step reach later steps as inputs: into their properties
// at parameterKey, into their `if` as inputs.<name>; a step waits for an
// input a running step will give, and fails on one nobody gives.
func TestInputsOutputs(t *testing.T) {
	seq := v1beta1.WorkflowExecuteMode{Steps: v1beta1.WorkflowModeStep, SubSteps: v1beta1.WorkflowModeDAG}
	dag := v1beta1.WorkflowExecuteMode{Steps: v1beta1.WorkflowModeDAG, SubSteps: v1beta1.WorkflowModeDAG}
	in := func(from, key string) []v1beta1.InputItem {
		return []v1beta1.InputItem{{From: from, ParameterKey: key}}
	}
	cases := []struct {
		name      string
		plan      Plan
		done      map[string]bool
		want      Phase
		phase     map[string]v1beta1.WorkflowStepPhase
		wantProps map[string]any // of step "b"
		wantIn    map[string]any // of step "b"
	}{
		{"output into a parameter", Plan{[]v1beta1.WorkflowStep{
			withIO(step("a", "t"), nil, nil, "host"),
			withIO(step("b", "t"), map[string]any{"env": []any{map[string]any{"name": "H"}}}, in("host", "env[0].value")),
		}, seq}, map[string]bool{"a": true, "b": true}, PhaseSucceeded, nil,
			map[string]any{"env": []any{map[string]any{"name": "H", "value": "db.local"}}}, map[string]any{"host": "db.local"}},
		{"if over inputs, true", Plan{[]v1beta1.WorkflowStep{
			withIO(step("a", "t"), nil, nil, "host"),
			withIf(withIO(step("b", "t"), nil, in("host", "")), `inputs.host == "db.local"`),
		}, seq}, map[string]bool{"a": true, "b": true}, PhaseSucceeded,
			map[string]v1beta1.WorkflowStepPhase{"b": v1beta1.WorkflowStepSucceeded}, map[string]any{}, map[string]any{"host": "db.local"}},
		{"if over inputs, false", Plan{[]v1beta1.WorkflowStep{
			withIO(step("a", "t"), nil, nil, "host"),
			withIf(withIO(step("b", "t"), nil, in("host", "")), `inputs.host != "db.local"`),
		}, seq}, map[string]bool{"a": true, "b": true}, PhaseSucceeded,
			map[string]v1beta1.WorkflowStepPhase{"b": v1beta1.WorkflowStepSkipped}, nil, nil},
		{"dag: an input waits for its producer", Plan{[]v1beta1.WorkflowStep{
			withIO(step("b", "t"), nil, in("host", "h")),
			withIO(step("a", "t"), nil, nil, "host"),
		}, dag}, map[string]bool{"b": true}, PhaseExecuting,
			map[string]v1beta1.WorkflowStepPhase{"b": v1beta1.WorkflowStepPending, "a": v1beta1.WorkflowStepRunning}, nil, nil},
		{"dag: the producer done first, in one run", Plan{[]v1beta1.WorkflowStep{
			withIO(step("b", "t"), nil, in("host", "h")),
			withIO(step("a", "t"), nil, nil, "host"),
		}, dag}, map[string]bool{"a": true, "b": true}, PhaseSucceeded, nil,
			map[string]any{"h": "db.local"}, map[string]any{"host": "db.local"}},
		{"an input nobody outputs fails", Plan{[]v1beta1.WorkflowStep{
			withIO(step("b", "t"), nil, in("nope", "h")),
		}, seq}, map[string]bool{"b": true}, PhaseFailed,
			map[string]v1beta1.WorkflowStepPhase{"b": v1beta1.WorkflowStepFailed}, nil, nil},
		{"a bad parameterKey fails", Plan{[]v1beta1.WorkflowStep{
			withIO(step("a", "t"), nil, nil, "host"),
			withIO(step("b", "t"), map[string]any{"env": "x"}, in("host", "env[0]")),
		}, seq}, map[string]bool{"a": true, "b": true}, PhaseFailed,
			map[string]v1beta1.WorkflowStepPhase{"b": v1beta1.WorkflowStepFailed}, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ex := &fakeExec{done: tc.done, outputs: map[string]map[string]any{"a": {"host": "db.local"}}}
			st := &v1beta1.WorkflowStatus{}
			now := time.Unix(1000, 0)
			Init(st, tc.plan, "app-v1", now)
			wc := NewContext("app-v1")
			res, err := (&Engine{Exec: ex, Now: func() time.Time { return now }, Context: wc}).Run(context.Background(), tc.plan, st)
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
			if tc.wantProps != nil && !reflect.DeepEqual(ex.props["b"], tc.wantProps) {
				t.Errorf("b's properties = %v, want %v", ex.props["b"], tc.wantProps)
			}
			if tc.wantIn != nil && !reflect.DeepEqual(ex.inputs["b"], tc.wantIn) {
				t.Errorf("b's inputs = %v, want %v", ex.inputs["b"], tc.wantIn)
			}
			if tc.done["a"] {
				if v, _ := wc.Value("host"); v != "db.local" {
					t.Errorf("context host = %v, want db.local", v)
				}
			}
		})
	}
}
