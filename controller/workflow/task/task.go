// Package task runs one workflow step written in CUE: its template,
// compiled with the vela/* packages (cuepkg) and filled with context and
// parameter, is walked field by field in order; each action it meets
// (a value with `#provider` and `#do`) is run by its provider and its
// result filled back ($returns, or the action's own fields for vela/op)
// before the walk goes on, so later fields see it. The step waits at a
// #ConditionalWait whose continue is false, fails at #Fail, suspends at
// #Suspend and ends early at #Break; once walked through it succeeds and
// its outputs are evaluated over the final value.
package task

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/workflow"
	"github.com/velad-dev/velad/controller/workflow/cuepkg"
)

// Limits of one execution of a step. A template that would run more
// actions than MaxActions (it loops, or generates actions without end)
// fails with a message saying so.
const (
	MaxActions = 200
	// maxFields bounds the fields walked in search of actions.
	maxFields = 20000
	// maxDepth bounds how deep the walk goes into plain structs.
	maxDepth = 16
	// WaitPoll is how soon a waiting step is evaluated again at first;
	// the longer it waits, the longer between evaluations, up to
	// MaxWaitPoll.
	WaitPoll    = 2 * time.Second
	MaxWaitPoll = 30 * time.Second
)

// Step is one execution of a step template.
type Step struct {
	// Name of the step (for messages and logs).
	Name string
	// Template is the definition's CUE template (imports included).
	Template string
	// Context is the template's `context`.
	Context map[string]any
	// Parameter is the step's properties (inputs already set).
	Parameter map[string]any
	// Outputs are evaluated over the template once the step is done.
	Outputs []v1beta1.OutputItem
	// Resumed: a #Suspend of this step was resumed.
	Resumed bool
	// Started is when the step first ran (for #Suspend durations).
	Started time.Time
}

// Run executes s once against env. An error is transient (the API
// server could not be reached): the engine runs the step again later.
// Everything CUE evaluates for the step happens inside Run: a time or
// memory budget for step templates belongs here.
func Run(ctx context.Context, s Step, env *Env) (out workflow.Outcome, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = fail("InternalError", "step %q: internal error evaluating its template: %v", s.Name, p), nil
		}
	}()
	r := &runner{step: s, env: env, cue: cuecontext.New(), now: time.Now()}
	if env.Now != nil {
		r.now = env.Now()
	}
	if o, ok := r.compile(); !ok {
		return o, nil
	}
	if err := r.walk(ctx, nil, 0); err != nil {
		return workflow.Outcome{}, err
	}
	return r.finish(), nil
}

type runner struct {
	step Step
	env  *Env
	cue  *cue.Context
	now  time.Time
	root cue.Value
	// done are the paths of actions run.
	done    map[string]bool
	actions int
	fields  int
	// stop ends the walk with outcome.
	stop    bool
	outcome workflow.Outcome
	message string
	logs    []string
	// secrets are values read from Secrets: masked in messages, logs,
	// and outputs made from them are sensitive.
	secrets []string
}

func fail(reason, format string, args ...any) workflow.Outcome {
	return workflow.Outcome{Failed: true, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// compile builds the template with its imports and fills context and
// parameter.
func (r *runner) compile() (workflow.Outcome, bool) {
	src := r.step.Template
	f, err := parser.ParseFile(r.step.Name+".cue", src, parser.ParseComments)
	if err != nil {
		return fail("CompileFailed", "step %q: template: %s", r.step.Name, definition.ErrorDetails(err)), false
	}
	var extra []string
	if !declares(f, "context") {
		extra = append(extra, "context: _")
	}
	if !declares(f, "parameter") {
		extra = append(extra, "parameter: _")
	}
	if len(extra) > 0 {
		if f, err = parser.ParseFile(r.step.Name+".cue", src+"\n"+strings.Join(extra, "\n")+"\n", parser.ParseComments); err != nil {
			return fail("CompileFailed", "step %q: template: %s", r.step.Name, definition.ErrorDetails(err)), false
		}
	}
	v, err := cuepkg.Build(r.cue, f)
	if err == nil {
		// Incomplete values are fine: results are filled in later.
		err = v.Validate()
	}
	if err != nil {
		msg := definition.ErrorDetails(err)
		if msg == "" {
			msg = err.Error()
		}
		return fail("CompileFailed", "step %q: template: %s", r.step.Name, msg), false
	}
	cv, err := r.value(r.step.Context)
	if err != nil {
		return fail("InternalError", "step %q: context: %v", r.step.Name, err), false
	}
	params := r.step.Parameter
	if params == nil {
		params = map[string]any{}
	}
	pv, err := r.value(params)
	if err != nil {
		return fail("InvalidProperties", "step %q: properties: %v", r.step.Name, err), false
	}
	v = v.FillPath(cue.ParsePath("context"), cv).FillPath(cue.ParsePath("parameter"), pv)
	if err := v.LookupPath(cue.ParsePath("parameter")).Validate(cue.Concrete(true)); err != nil {
		return fail("InvalidProperties", "step %q: properties do not match the parameters of its definition: %s", r.step.Name, r.redact(definition.ErrorDetails(err))), false
	}
	r.root = v
	r.done = map[string]bool{}
	return workflow.Outcome{}, true
}

func declares(f *ast.File, name string) bool {
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.Field); ok {
			if n, _, _ := ast.LabelName(fd.Label); n == name {
				return true
			}
		}
	}
	return false
}

// value turns plain Go data into a CUE value through JSON, so numbers
// that are whole stay ints.
func (r *runner) value(x any) (cue.Value, error) {
	b, err := json.Marshal(x)
	if err != nil {
		return cue.Value{}, err
	}
	v := r.cue.CompileBytes(b)
	return v, v.Err()
}

// walk visits the regular fields of the struct at path in order; fields
// appearing after an action's result is filled in are visited too.
func (r *runner) walk(ctx context.Context, path []cue.Selector, depth int) error {
	visited := map[string]bool{}
	for !r.stop {
		// The value is looked up again after each action: its result may
		// add fields (comprehensions) or errors. A struct holding an error
		// is still walked.
		v := r.root.LookupPath(cue.MakePath(path...))
		if !v.Exists() {
			return nil
		}
		it, err := v.Fields()
		if err != nil {
			return nil // not a struct
		}
		var next cue.Selector
		found := false
		for it.Next() {
			sel := it.Selector()
			key := sel.String()
			if visited[key] || (depth == 0 && (key == "parameter" || key == "context")) {
				continue
			}
			next, found = sel, true
			break
		}
		if !found {
			return nil
		}
		visited[next.String()] = true
		if r.fields++; r.fields > maxFields {
			r.end(fail("TooLarge", "step %q: its template has more than %d fields to look through for actions", r.step.Name, maxFields))
			return nil
		}
		child := append(append([]cue.Selector{}, path...), next)
		cv := r.root.LookupPath(cue.MakePath(child...))
		if isAction(cv) {
			if err := r.do(ctx, child, cv); err != nil {
				return err
			}
			continue
		}
		// A struct may hold an error (a field that refers to a result not
		// there yet) and still hold actions: walk it anyway.
		if depth < maxDepth && cv.IncompleteKind()&(cue.StructKind|cue.BottomKind) != 0 {
			if err := r.walk(ctx, child, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func isAction(v cue.Value) bool {
	return v.LookupPath(cue.MakePath(cue.Def("#do"))).Exists() && v.LookupPath(cue.MakePath(cue.Def("#provider"))).Exists()
}

// action is one action met by the walk.
type action struct {
	path     []cue.Selector
	provider string
	do       string
	// legacy: a vela/op action, whose parameters and results are its
	// own fields.
	legacy bool
	params cue.Value
}

func (a *action) name() string { return cue.MakePath(a.path...).String() }

// do runs one action and fills its result in.
func (r *runner) do(ctx context.Context, path []cue.Selector, v cue.Value) error {
	key := cue.MakePath(path...).String()
	if r.done[key] {
		return nil
	}
	r.done[key] = true
	if r.actions++; r.actions > MaxActions {
		r.end(fail("TooManyActions", "step %q runs more than %d actions: does its template loop?", r.step.Name, MaxActions))
		return nil
	}
	a := &action{path: path}
	a.provider, _ = v.LookupPath(cue.MakePath(cue.Def("#provider"))).String()
	a.do, _ = v.LookupPath(cue.MakePath(cue.Def("#do"))).String()
	a.legacy = a.provider == "op"
	a.params = v
	if !a.legacy {
		a.params = v.LookupPath(cue.ParsePath("$params"))
	}
	fn, ok := r.provider(a)
	if !ok {
		r.end(fail("UnsupportedAction", "step %q: %s: action %s.%s is not supported by velad", r.step.Name, a.name(), a.provider, a.do))
		return nil
	}
	ret, err := fn(ctx, a)
	if err != nil {
		var pe *permanent
		if asPermanent(err, &pe) {
			r.end(fail(pe.reason, "step %q: %s: %s", r.step.Name, a.name(), r.redact(pe.msg)))
			return nil
		}
		return fmt.Errorf("step %q: %s: %s", r.step.Name, a.name(), r.redact(err.Error()))
	}
	if ret == nil || r.stop {
		return nil
	}
	if a.legacy && a.provider == "op" && a.do == "do" {
		ret = map[string]any{"response": ret}
	}
	rv, err := r.value(ret)
	if err != nil {
		r.end(fail("InternalError", "step %q: %s: result: %v", r.step.Name, a.name(), err))
		return nil
	}
	at := append([]cue.Selector{}, path...)
	if !a.legacy {
		at = append(at, cue.Str("$returns"))
	}
	root := r.root.FillPath(cue.MakePath(at...), rv)
	if err := root.LookupPath(cue.MakePath(at...)).Err(); err != nil {
		r.end(fail("InvalidResult", "step %q: %s: its result does not fit the template: %s", r.step.Name, a.name(), r.redact(definition.ErrorDetails(err))))
		return nil
	}
	r.root = root
	return nil
}

// end stops the walk with o.
func (r *runner) end(o workflow.Outcome) {
	r.stop = true
	r.outcome = o
}

// decode reads a's parameters into out; an incomplete parameter is a
// permanent error naming it.
func (a *action) decode(out any) error {
	if err := a.params.Validate(cue.Concrete(true)); err != nil {
		return permanentf("IncompleteAction", "parameters are not complete: %s", definition.ErrorDetails(err))
	}
	if err := a.params.Decode(out); err != nil {
		return permanentf("InvalidAction", "parameters: %s", definition.ErrorDetails(err))
	}
	return nil
}

// finish turns the end of the walk into the step's outcome.
func (r *runner) finish() workflow.Outcome {
	out := r.outcome
	if !r.stop || (out.Done && !out.Failed) {
		out = workflow.Outcome{Done: true, Message: r.message}
		vals, sensitive, failed := r.outputs()
		if failed != nil {
			out = *failed
		} else {
			out.Outputs, out.Sensitive = vals, sensitive
		}
	}
	out.Message = r.redact(out.Message)
	for _, l := range r.logs {
		out.Logs = append(out.Logs, r.redact(l))
	}
	return out
}

// outputs evaluates the step's outputs over the final value.
func (r *runner) outputs() (map[string]any, map[string]bool, *workflow.Outcome) {
	if len(r.step.Outputs) == 0 {
		return nil, nil, nil
	}
	vals, sensitive := map[string]any{}, map[string]bool{}
	for _, o := range r.step.Outputs {
		v := r.cue.CompileString(o.ValueFrom, cue.Scope(r.root), cue.InferBuiltins(true))
		var x any
		err := v.Err()
		if err == nil {
			err = v.Validate(cue.Concrete(true))
		}
		if err == nil {
			err = v.Decode(&x)
		}
		if err != nil {
			f := fail("OutputFailed", "step %q: output %q: valueFrom %q: %s", r.step.Name, o.Name, o.ValueFrom, r.redact(definition.ErrorDetails(err)))
			return nil, nil, &f
		}
		b, _ := json.Marshal(x)
		_ = json.Unmarshal(b, &x)
		vals[o.Name] = x
		if r.redact(string(b)) != string(b) {
			sensitive[o.Name] = true
		}
	}
	return vals, sensitive, nil
}

func (r *runner) redact(s string) string { return workflow.Redact(s, r.secrets) }

// secret records values read from a Secret.
func (r *runner) secret(vals ...string) {
	for _, v := range vals {
		if len(v) >= 3 {
			r.secrets = append(r.secrets, v)
		}
	}
}
