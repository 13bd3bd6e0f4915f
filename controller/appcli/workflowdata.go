package appcli

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/workflow"
)

// WorkflowContext returns the context of app's current workflow run
// (outputs, variables, step logs); an empty one when there is none.
func WorkflowContext(ctx context.Context, c client.Client, app *v1beta1.Application) (*workflow.Context, error) {
	key := workflow.RunKey(app.Status.Workflow)
	cm := &corev1.ConfigMap{}
	err := c.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: workflow.ContextName(app.Name)}, cm)
	if apierrors.IsNotFound(err) {
		return workflow.NewContext(key), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the workflow context of %s/%s: %w", app.Namespace, app.Name, err)
	}
	wc, err := workflow.Decode(cm)
	if err != nil {
		return nil, err
	}
	if wc.Revision != key {
		return workflow.NewContext(key), nil
	}
	return wc, nil
}

// StepIO is what a step (or a component) takes and gives.
type StepIO struct {
	// Step is the step's name, or "component NAME".
	Step string
	// Inputs and Outputs as name = value (JSON, or a mask for sensitive
	// values), in declaration order.
	Inputs, Outputs []NameValue
}

// NameValue is one input or output.
type NameValue struct{ Name, Value string }

// WorkflowIO lists the inputs and outputs of app's steps and components
// with their values in wc.
func WorkflowIO(app *v1beta1.Application, wc *workflow.Context) []StepIO {
	var out []StepIO
	add := func(name string, ins []v1beta1.InputItem, outs []v1beta1.OutputItem) {
		if len(ins) == 0 && len(outs) == 0 {
			return
		}
		s := StepIO{Step: name}
		for _, in := range ins {
			s.Inputs = append(s.Inputs, NameValue{in.From, wc.Show(in.From)})
		}
		for _, o := range outs {
			s.Outputs = append(s.Outputs, NameValue{o.Name, wc.Show(o.Name)})
		}
		out = append(out, s)
	}
	for _, c := range app.Spec.Components {
		add("component "+c.Name, c.Inputs, c.Outputs)
	}
	if wf := app.Spec.Workflow; wf != nil {
		for _, s := range wf.Steps {
			add(s.Name, s.Inputs, s.Outputs)
			for _, sub := range s.SubSteps {
				add(sub.Name, sub.Inputs, sub.Outputs)
			}
		}
	}
	return out
}

// StepLogs returns the log lines of step (every step's when step is
// ""), by step name; an unknown step is an error naming the steps.
func StepLogs(app *v1beta1.Application, wc *workflow.Context, step string) (map[string][]string, error) {
	if step == "" {
		return wc.Logs, nil
	}
	known := false
	if wf := app.Status.Workflow; wf != nil {
		forSteps(wf, func(s *v1beta1.StepStatus) { known = known || s.Name == step })
	}
	if !known {
		return nil, fmt.Errorf("application %s/%s has no workflow step %q (velad status %s lists them)", app.Namespace, app.Name, step, app.Name)
	}
	return map[string][]string{step: wc.Logs[step]}, nil
}
