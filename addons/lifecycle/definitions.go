package lifecycle

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/addons"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/install"
)

// applyDefinitions applies the addon's definitions into vela-system,
// labelled with the addon's name.
func (m *Manager) applyDefinitions(ctx context.Context, a *addons.Addon) error {
	if len(a.Definitions()) == 0 {
		return nil
	}
	ns := &corev1.Namespace{}
	ns.Name = definition.DefaultNamespace
	if err := m.c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", ns.Name, err)
	}
	for _, d := range a.Definitions() {
		u, err := install.Object(d)
		if err != nil {
			return err
		}
		labels := u.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[addons.LabelAddon] = a.Name
		u.SetLabels(labels)
		if err := m.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			return fmt.Errorf("apply %s %q of addon %s: %w", d.Kind, d.Name, a.Name, err)
		}
	}
	return nil
}

// deleteDefinitions deletes the addon's definitions: those it carries and
// any other labelled with its name (left by an older version of it).
func (m *Manager) deleteDefinitions(ctx context.Context, a *addons.Addon) error {
	var errs []error
	for _, kind := range definition.Kinds {
		list := &unstructured.UnstructuredList{}
		list.SetAPIVersion("core.oam.dev/v1beta1")
		list.SetKind(kind.CRDKind() + "List")
		err := m.c.List(ctx, list, client.InNamespace(definition.DefaultNamespace), client.MatchingLabels{addons.LabelAddon: a.Name})
		if err != nil && !meta.IsNoMatchError(err) && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("list %ss of addon %s: %w", kind.CRDKind(), a.Name, err))
			continue
		}
		for i := range list.Items {
			if err := m.c.Delete(ctx, &list.Items[i]); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("delete %s %q of addon %s: %w", kind, list.Items[i].GetName(), a.Name, err))
			}
		}
	}
	for _, d := range a.Definitions() {
		u := definitionRef(d.Kind, d.Name)
		if err := m.c.Delete(ctx, u); err != nil && !apierrors.IsNotFound(err) && !meta.IsNoMatchError(err) {
			errs = append(errs, fmt.Errorf("delete %s %q of addon %s: %w", d.Kind, d.Name, a.Name, err))
		}
	}
	return errors.Join(errs...)
}

// DefinitionState is whether one of an addon's definitions is in the
// cluster.
type DefinitionState struct {
	Kind    definition.Kind `json:"kind"`
	Name    string          `json:"name"`
	Present bool            `json:"present"`
}

// definitionStates looks up each of the addon's definitions in
// vela-system.
func (m *Manager) definitionStates(ctx context.Context, a *addons.Addon) ([]DefinitionState, error) {
	var out []DefinitionState
	for _, d := range a.Definitions() {
		u := definitionRef(d.Kind, d.Name)
		err := m.c.Get(ctx, client.ObjectKeyFromObject(u), u)
		switch {
		case err == nil:
			out = append(out, DefinitionState{Kind: d.Kind, Name: d.Name, Present: true})
		case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
			out = append(out, DefinitionState{Kind: d.Kind, Name: d.Name})
		default:
			return nil, fmt.Errorf("get %s %q: %w", d.Kind, d.Name, err)
		}
	}
	return out, nil
}

func definitionRef(kind definition.Kind, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("core.oam.dev/v1beta1")
	u.SetKind(kind.CRDKind())
	u.SetNamespace(definition.DefaultNamespace)
	u.SetName(name)
	return u
}
