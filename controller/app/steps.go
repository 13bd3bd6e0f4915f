package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/apply"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
	"github.com/velad-dev/velad/controller/tracker"
	"github.com/velad-dev/velad/controller/workflow"
	"github.com/velad-dev/velad/controller/workflow/task"
)

// Steps written in CUE (WorkflowStepDefinitions with vela/* actions),
// the workflow's context kept in the cluster, and the inputs and
// outputs of components.

func (r *Reconciler) contexts() *workflow.Store {
	return &workflow.Store{Client: r.Client, Reader: r.APIReader}
}

// loadContext reads the workflow context of the run in the status, when
// the status is of the revision being run.
func (run *appRun) loadContext(ctx context.Context) error {
	st := run.app.Status.Workflow
	if st == nil || st.AppRevision != run.rev.Name || !needsContext(run.spec) || st.Finished && !componentsHaveInputs(run.spec) {
		return nil
	}
	c, err := run.r.contexts().Load(ctx, run.app, workflow.RunKey(st))
	if err != nil {
		return err
	}
	run.wfctx = c
	return nil
}

// needsContext reports whether app's workflow passes values around or
// runs CUE steps (which may log or keep variables): only then is its
// context read.
func needsContext(app *v1beta1.Application) bool {
	for _, c := range app.Spec.Components {
		if len(c.Inputs) > 0 || len(c.Outputs) > 0 {
			return true
		}
	}
	if app.Spec.Workflow == nil {
		return false
	}
	check := func(s v1beta1.WorkflowStepBase) bool {
		if len(s.Inputs) > 0 || len(s.Outputs) > 0 {
			return true
		}
		switch s.Type {
		case workflow.TypeApplyComponent, workflow.TypeDeploy, workflow.TypeApplyObject, workflow.TypeSuspend, workflow.TypeStepGroup:
			return false
		}
		return true
	}
	for _, s := range app.Spec.Workflow.Steps {
		if check(s.WorkflowStepBase) {
			return true
		}
		for _, sub := range s.SubSteps {
			if check(sub) {
				return true
			}
		}
	}
	return false
}

func componentsHaveInputs(app *v1beta1.Application) bool {
	for _, c := range app.Spec.Components {
		if len(c.Inputs) > 0 {
			return true
		}
	}
	return false
}

// withInputs returns the application to render: its components' inputs
// set from the context; a component whose inputs are not there yet is
// left out (its step waits for them) and recorded in run.pending.
func (run *appRun) withInputs(app *v1beta1.Application) (*v1beta1.Application, error) {
	run.pending = map[string]string{}
	if !componentsHaveInputs(app) {
		return app, nil
	}
	out := app.DeepCopy()
	out.Spec.Components = nil
	for _, c := range app.Spec.Components {
		if len(c.Inputs) == 0 {
			out.Spec.Components = append(out.Spec.Components, c)
			continue
		}
		props, err := workflow.Properties(v1beta1.WorkflowStepBase{Properties: c.Properties})
		if err != nil {
			return nil, fmt.Errorf("component %q: properties: %w", c.Name, err)
		}
		missing := ""
		for _, in := range c.Inputs {
			v, ok := run.wfctx.Value(in.From)
			if !ok {
				missing = in.From
				break
			}
			if in.ParameterKey == "" {
				continue
			}
			if err := workflow.SetPath(props, in.ParameterKey, v); err != nil {
				return nil, fmt.Errorf("component %q: input %q: %w", c.Name, in.From, err)
			}
		}
		if missing != "" {
			run.pending[c.Name] = missing
			continue
		}
		c = *c.DeepCopy()
		b, _ := json.Marshal(props)
		c.Properties.Raw = b
		out.Spec.Components = append(out.Spec.Components, c)
	}
	return out, nil
}

// executeCUE runs a step of a WorkflowStepDefinition written in CUE.
func (run *appRun) executeCUE(ctx context.Context, step v1beta1.WorkflowStepBase, props map[string]any, in workflow.StepInput) (workflow.Outcome, error) {
	name, rev, err := definition.SplitRef(step.Type)
	if err != nil {
		return failed("UnsupportedStep", "step %q: %v", step.Name, err), nil
	}
	def, err := run.defs.Lookup(ctx, definition.KindWorkflowStep, name, rev)
	if err != nil {
		if errors.Is(err, definition.ErrNotFound) {
			return failed("UnsupportedStep", "step %q: unknown workflow-step type %q: no WorkflowStepDefinition with that name", step.Name, step.Type), nil
		}
		return workflow.Outcome{}, err
	}
	tmpl := def.Template()
	if tmpl == "" {
		return failed("UnsupportedStep", "step %q: workflow-step type %q has no CUE template", step.Name, step.Type), nil
	}
	sum := sha256.Sum256([]byte(step.Name))
	app := run.app
	stepCtx := map[string]any{
		"name": app.Name, "namespace": app.Namespace, "appName": app.Name,
		"appRevision": run.rev.Name, "appRevisionNum": run.rev.Revision,
		"workflowName": app.Name, "stepName": step.Name, "stepSessionID": hex.EncodeToString(sum[:])[:10],
		"publishVersion": app.Annotations[v1beta1.AnnotationPublishVersion],
		"appLabels":      nonNil(app.Labels), "appAnnotations": nonNil(app.Annotations),
	}
	env := &task.Env{Reader: run.r.APIReader, Client: run.r.Client, Apply: run.applyForStep, IsPermanent: apply.IsPermanent,
		Namespace: app.Namespace, App: run, Context: in.Context, Now: run.r.now, HTTP: run.r.HTTP,
		Clusters: run.clusterNames, Placements: run.placements}
	return task.Run(ctx, task.Step{Name: step.Name, Template: tmpl, Context: stepCtx, Parameter: props,
		Outputs: step.Outputs, Resumed: in.Resumed, Started: in.Started}, env)
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// applyForStep applies an object of a step as the application's: with
// its labels and recorded in its resource tracker.
func (run *appRun) applyForStep(ctx context.Context, u *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	labels := u.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[v1beta1.LabelAppName] = run.app.Name
	labels[v1beta1.LabelAppNamespace] = run.app.Namespace
	u.SetLabels(labels)
	if err := run.r.applier().Default(u, run.app.Namespace); err != nil {
		return nil, err
	}
	e := tracker.Entry{Object: u}
	if !run.book.recordedBefore([]tracker.Entry{e}) {
		if err := run.record(ctx, []tracker.Entry{e}); err != nil {
			return nil, err
		}
	}
	if err := run.finalized(); err != nil {
		return nil, err
	}
	live, err := run.r.applier().Apply(ctx, u, run.app.Namespace)
	if err != nil {
		return nil, err
	}
	run.live[tracker.Key(tracker.Ref(u))] = live
	return live, nil
}

// Components implements task.App: the components as written.
func (run *appRun) Components() map[string]any {
	out := map[string]any{}
	for _, c := range run.spec.Spec.Components {
		b, _ := json.Marshal(c)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		out[c.Name] = m
	}
	return out
}

// ApplyComponent implements task.App.
func (run *appRun) ApplyComponent(ctx context.Context, name string) (workflow.Outcome, map[string]any, map[string]any, error) {
	o, err := run.deployComponents(ctx, []string{name})
	if err != nil || o.Failed || len(run.byName[name]) == 0 {
		return o, nil, nil, err
	}
	output, outputs := run.liveObjects(ctx, run.byName[name][0])
	return o, output, outputs, nil
}

// Deploy implements task.App: every component, as the deploy step.
func (run *appRun) Deploy(ctx context.Context) (workflow.Outcome, error) {
	names := make([]string, 0, len(run.spec.Spec.Components))
	for _, c := range run.spec.Spec.Components {
		names = append(names, c.Name)
	}
	return run.deployWithOutputs(ctx, names, run.wfctx)
}

// liveObjects returns a component's workload and auxiliary objects as
// they are live (as rendered when they cannot be read).
func (run *appRun) liveObjects(ctx context.Context, i int) (map[string]any, map[string]any) {
	rc := &run.comps[i]
	get := func(u *unstructured.Unstructured) map[string]any {
		if l := run.liveObject(ctx, u); l != nil {
			return l.Object
		}
		return u.Object
	}
	var output map[string]any
	if rc.Workload != nil {
		output = get(rc.Workload)
	}
	outputs := map[string]any{}
	for _, a := range rc.Auxiliaries {
		outputs[a.Name] = get(a.Object)
	}
	return output, outputs
}

// componentOutputs records the outputs of component name (healthy now)
// in the context: valueFrom over its live `output` and `outputs`.
func (run *appRun) componentOutputs(ctx context.Context, name string, c *workflow.Context) *workflow.Outcome {
	var spec *v1beta1.ApplicationComponent
	for i := range run.spec.Spec.Components {
		if run.spec.Spec.Components[i].Name == name {
			spec = &run.spec.Spec.Components[i]
		}
	}
	if spec == nil || len(spec.Outputs) == 0 || len(run.byName[name]) == 0 || c == nil {
		return nil
	}
	output, outputs := run.liveObjects(ctx, run.byName[name][0])
	vals, err := evalOutputs(map[string]any{"output": output, "outputs": outputs}, spec.Outputs)
	if err != nil {
		o := failed("OutputFailed", "component %q: %v", name, err)
		return &o
	}
	for k, v := range vals {
		c.SetOutput(k, v, false)
	}
	return nil
}

// evalOutputs evaluates each output's valueFrom (a CUE expression) over
// scope.
func evalOutputs(scope map[string]any, outs []v1beta1.OutputItem) (map[string]any, error) {
	b, err := json.Marshal(scope)
	if err != nil {
		return nil, err
	}
	cc := cuecontext.New()
	sv := cc.CompileBytes(b)
	vals := map[string]any{}
	for _, o := range outs {
		v := cc.CompileString(o.ValueFrom, cue.Scope(sv), cue.InferBuiltins(true))
		err := v.Err()
		if err == nil {
			err = v.Validate(cue.Concrete(true))
		}
		var x any
		if err == nil {
			err = v.Decode(&x)
		}
		if err != nil {
			return nil, fmt.Errorf("output %q: valueFrom %q: %s", o.Name, o.ValueFrom, definition.ErrorDetails(err))
		}
		vals[o.Name] = x
	}
	return vals, nil
}

// clusterNames lists the clusters (vela/multicluster #ListClusters).
func (run *appRun) clusterNames(ctx context.Context) ([]string, error) {
	infos, err := run.r.clusterInfos(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(infos))
	for i, c := range infos {
		out[i] = c.Name
	}
	return out, nil
}

// placements resolves topology policies of the application
// (vela/multicluster #GetPlacementsFromTopologyPolicies).
func (run *appRun) placements(ctx context.Context, policies []string) ([][2]string, error) {
	infos, err := run.r.clusterInfos(ctx)
	if err != nil {
		return nil, err
	}
	ps, err := render.Placements(run.spec, policies, infos)
	if err != nil {
		return nil, err
	}
	out := make([][2]string, len(ps))
	for i, p := range ps {
		out[i] = [2]string{p.Cluster, p.Namespace}
	}
	return out, nil
}
