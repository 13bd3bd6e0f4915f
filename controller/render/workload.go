package render

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/velad-dev/velad/controller/definition"
)

// autodetect is the workload type of definitions whose kind is whatever
// their template outputs.
const autodetect = "autodetects.core.oam.dev"

// Workload identifies what a component renders, for appliesToWorkloads.
type Workload struct {
	// Definition is the component definition name ("webservice").
	Definition string
	// GVK of the workload; empty when unknown.
	GVK schema.GroupVersionKind
	// Type is the declared workload type ("deployments.apps"), if any.
	Type string
}

// Resource is the workload as "resources.group" ("deployments.apps").
func (w Workload) Resource() string {
	if w.Type != "" && w.Type != autodetect {
		return w.Type
	}
	if w.GVK.Kind == "" {
		return "unknown"
	}
	r := plural(strings.ToLower(w.GVK.Kind))
	if w.GVK.Group != "" {
		r += "." + w.GVK.Group
	}
	return r
}

func plural(s string) string {
	switch {
	case strings.HasSuffix(s, "s"), strings.HasSuffix(s, "x"), strings.HasSuffix(s, "ch"):
		return s + "es"
	case strings.HasSuffix(s, "y") && !strings.HasSuffix(s, "ay") && !strings.HasSuffix(s, "ey"):
		return s[:len(s)-1] + "ies"
	}
	return s + "s"
}

func workloadOf(d *definition.Definition, out *unstructured.Unstructured) Workload {
	w := Workload{Definition: d.Name}
	if cd := d.Component(); cd != nil {
		w.Type = cd.Spec.Workload.Type
		if gv, err := schema.ParseGroupVersion(cd.Spec.Workload.Definition.APIVersion); err == nil && cd.Spec.Workload.Definition.Kind != "" {
			w.GVK = gv.WithKind(cd.Spec.Workload.Definition.Kind)
		}
	}
	if out != nil && (w.GVK.Kind == "" || w.Type == autodetect) {
		w.GVK = out.GroupVersionKind()
		if w.Type == autodetect {
			w.Type = ""
		}
	}
	return w
}

// Applies reports whether a trait with the given appliesToWorkloads fits
// workload w. Entries may be "*", a component definition name, a
// resource ("deployments.apps"), a group wildcard ("*.apps"), a kind
// ("Deployment"), "Kind.group" ("Deployment.apps") or "apiVersion.Kind"
// ("apps/v1.Deployment"). An empty list fits every workload.
func Applies(appliesTo []string, w Workload) bool {
	if len(appliesTo) == 0 {
		return true
	}
	res := w.Resource()
	for _, a := range appliesTo {
		switch {
		case a == "*", a == w.Definition, a == res, w.Type != "" && a == w.Type:
			return true
		case w.GVK.Kind != "" && (a == w.GVK.Kind || a == w.GVK.GroupVersion().String()+"."+w.GVK.Kind):
			return true
		case w.GVK.Kind != "" && w.GVK.Group != "" && a == w.GVK.Kind+"."+w.GVK.Group:
			return true
		case strings.HasPrefix(a, "*.") && w.GVK.Kind != "" && a[2:] == w.GVK.Group:
			return true
		}
	}
	return false
}

// Conflicts reports whether a trait declaring conflictsWith cannot be used
// together with the trait type other ("*" conflicts with every other
// trait).
func Conflicts(conflictsWith []string, other string) bool {
	for _, c := range conflictsWith {
		if c == "*" || c == other {
			return true
		}
	}
	return false
}
