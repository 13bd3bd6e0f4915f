package app

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/definition"
)

// clusterSource resolves definitions stored in one namespace of the
// cluster (through the manager's cache).
type clusterSource struct {
	c  client.Reader
	ns string
}

var _ definition.Source = clusterSource{}

func emptyObject(k definition.Kind) (client.Object, client.ObjectList) {
	switch k {
	case definition.KindComponent:
		return &v1beta1.ComponentDefinition{}, &v1beta1.ComponentDefinitionList{}
	case definition.KindTrait:
		return &v1beta1.TraitDefinition{}, &v1beta1.TraitDefinitionList{}
	case definition.KindPolicy:
		return &v1beta1.PolicyDefinition{}, &v1beta1.PolicyDefinitionList{}
	case definition.KindWorkflowStep:
		return &v1beta1.WorkflowStepDefinition{}, &v1beta1.WorkflowStepDefinitionList{}
	}
	return nil, nil
}

// Lookup implements definition.Source.
func (s clusterSource) Lookup(ctx context.Context, kind definition.Kind, name string, revision int64) (*definition.Definition, error) {
	source := "namespace " + s.ns
	if revision > 0 {
		rev := &v1beta1.DefinitionRevision{}
		rname := fmt.Sprintf("%s-v%d", name, revision)
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: rname}, rev); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("%s %q revision v%d in %s: %w", kind, name, revision, source, definition.ErrNotFound)
			}
			return nil, fmt.Errorf("get DefinitionRevision %s/%s: %w", s.ns, rname, err)
		}
		var obj client.Object
		switch {
		case rev.Spec.ComponentDefinition != nil && kind == definition.KindComponent:
			obj = rev.Spec.ComponentDefinition
		case rev.Spec.TraitDefinition != nil && kind == definition.KindTrait:
			obj = rev.Spec.TraitDefinition
		case rev.Spec.PolicyDefinition != nil && kind == definition.KindPolicy:
			obj = rev.Spec.PolicyDefinition
		case rev.Spec.WorkflowStepDefinition != nil && kind == definition.KindWorkflowStep:
			obj = rev.Spec.WorkflowStepDefinition
		default:
			return nil, fmt.Errorf("%s %q revision v%d in %s: %w", kind, name, revision, source, definition.ErrNotFound)
		}
		d, err := definition.FromObject(obj, source)
		if err != nil {
			return nil, err
		}
		d.Revision = revision
		return d, nil
	}
	obj, _ := emptyObject(kind)
	if obj == nil {
		return nil, fmt.Errorf("unknown definition kind %q", kind)
	}
	if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: name}, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%s %q in %s: %w", kind, name, source, definition.ErrNotFound)
		}
		return nil, fmt.Errorf("get %s %s/%s: %w", kind.CRDKind(), s.ns, name, err)
	}
	return definition.FromObject(obj, source)
}

// List implements definition.Source.
func (s clusterSource) List(ctx context.Context) ([]*definition.Definition, error) {
	var out []*definition.Definition
	for _, k := range definition.Kinds {
		_, list := emptyObject(k)
		if err := s.c.List(ctx, list, client.InNamespace(s.ns)); err != nil {
			return nil, fmt.Errorf("list %ss in %s: %w", k.CRDKind(), s.ns, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if d, err := definition.FromObject(it.(client.Object), "namespace "+s.ns); err == nil {
				out = append(out, d)
			}
		}
	}
	definition.SortByName(out)
	return out, nil
}

// sourceFor is where the definitions of an app in ns come from: its own
// namespace first, then vela-system, then the built-ins compiled in.
func (r *Reconciler) sourceFor(ns string) definition.Source {
	chain := definition.Chain{}
	if ns != definition.DefaultNamespace {
		chain = append(chain, clusterSource{c: r.Client, ns: ns})
	}
	chain = append(chain, clusterSource{c: r.Client, ns: definition.DefaultNamespace})
	if r.Builtins != nil {
		chain = append(chain, r.Builtins)
	}
	return chain
}

// usedDefinitions looks up every definition app refers to. missing is
// true when one is not found (render reports which).
func usedDefinitions(ctx context.Context, app *v1beta1.Application, src definition.Source) (defs []*definition.Definition, missing bool, err error) {
	seen := map[string]bool{}
	add := func(kind definition.Kind, ref string) error {
		key := string(kind) + "/" + ref
		if ref == "" || seen[key] {
			return nil
		}
		seen[key] = true
		name, rev, err := definition.SplitRef(ref)
		if err != nil {
			missing = true
			return nil
		}
		d, err := src.Lookup(ctx, kind, name, rev)
		switch {
		case err == nil:
			defs = append(defs, d)
		case errors.Is(err, definition.ErrNotFound):
			missing = true
		default:
			return err
		}
		return nil
	}
	for _, c := range app.Spec.Components {
		if err := add(definition.KindComponent, c.Type); err != nil {
			return nil, false, err
		}
		for _, t := range c.Traits {
			if err := add(definition.KindTrait, t.Type); err != nil {
				return nil, false, err
			}
		}
	}
	for _, p := range app.Spec.Policies {
		if err := add(definition.KindPolicy, p.Type); err != nil {
			return nil, false, err
		}
	}
	if wf := app.Spec.Workflow; wf != nil {
		for _, s := range wf.Steps {
			if err := add(definition.KindWorkflowStep, s.Type); err != nil {
				return nil, false, err
			}
			for _, sub := range s.SubSteps {
				if err := add(definition.KindWorkflowStep, sub.Type); err != nil {
					return nil, false, err
				}
			}
		}
	}
	return defs, missing, nil
}
