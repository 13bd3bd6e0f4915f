// Package definition models X-Definitions (component, trait, policy and
// workflow step types) independently of where they come from: the CRD
// objects in a cluster, Kubernetes YAML files, or `.cue` definition files.
// It parses and formats both file forms and resolves `type` and
// `type@vN` references through a Source.
package definition

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// Kind is the type of a definition.
type Kind string

// Definition kinds, spelled as in the `type:` field of a `.cue` file.
const (
	KindComponent    Kind = "component"
	KindTrait        Kind = "trait"
	KindPolicy       Kind = "policy"
	KindWorkflowStep Kind = "workflow-step"
)

// Kinds lists every definition kind in display order.
var Kinds = []Kind{KindComponent, KindTrait, KindPolicy, KindWorkflowStep}

// CRDKind is the Kubernetes kind of the definition's object.
func (k Kind) CRDKind() string {
	switch k {
	case KindComponent:
		return v1beta1.ComponentDefinitionKind
	case KindTrait:
		return v1beta1.TraitDefinitionKind
	case KindPolicy:
		return v1beta1.PolicyDefinitionKind
	case KindWorkflowStep:
		return v1beta1.WorkflowStepDefinitionKind
	}
	return ""
}

// ParseKind accepts "component", "trait", "policy", "workflow-step" (and
// "workflowstep").
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(s) {
	case "component":
		return KindComponent, nil
	case "trait":
		return KindTrait, nil
	case "policy":
		return KindPolicy, nil
	case "workflow-step", "workflowstep":
		return KindWorkflowStep, nil
	}
	return "", fmt.Errorf("unknown definition type %q: want component, trait, policy or workflow-step", s)
}

// Well-known annotations on definition objects.
const (
	AnnotationDescription = "definition.oam.dev/description"
	// DefaultNamespace is where definitions shared by every app live.
	DefaultNamespace = "vela-system"
)

// Definition is one X-Definition: its identity, template and the typed
// CRD object it came from (or renders to).
type Definition struct {
	Kind Kind
	Name string
	// Revision is the definition revision number; 0 when unknown.
	Revision int64
	// Object is a *v1beta1.ComponentDefinition, *TraitDefinition,
	// *PolicyDefinition or *WorkflowStepDefinition.
	Object client.Object
	// Source says where the definition was loaded from (a file name,
	// "built-in", "cluster"); it prefixes errors.
	Source string
}

// Template is the CUE template of the definition ("" when it has none).
func (d *Definition) Template() string {
	if s := d.schematic(); s != nil && s.CUE != nil {
		return s.CUE.Template
	}
	return ""
}

// Description is the human description of the definition.
func (d *Definition) Description() string {
	return d.Object.GetAnnotations()[AnnotationDescription]
}

func (d *Definition) schematic() *v1beta1.Schematic {
	switch o := d.Object.(type) {
	case *v1beta1.ComponentDefinition:
		return o.Spec.Schematic
	case *v1beta1.TraitDefinition:
		return o.Spec.Schematic
	case *v1beta1.PolicyDefinition:
		return o.Spec.Schematic
	case *v1beta1.WorkflowStepDefinition:
		return o.Spec.Schematic
	}
	return nil
}

// Status is the health/status policy of a component or trait; nil for
// other kinds or when none is set.
func (d *Definition) Status() *v1beta1.Status {
	switch o := d.Object.(type) {
	case *v1beta1.ComponentDefinition:
		return o.Spec.Status
	case *v1beta1.TraitDefinition:
		return o.Spec.Status
	}
	return nil
}

// Component returns the ComponentDefinition, or nil for other kinds.
func (d *Definition) Component() *v1beta1.ComponentDefinition {
	o, _ := d.Object.(*v1beta1.ComponentDefinition)
	return o
}

// Trait returns the TraitDefinition, or nil for other kinds.
func (d *Definition) Trait() *v1beta1.TraitDefinition {
	o, _ := d.Object.(*v1beta1.TraitDefinition)
	return o
}

// newObject creates the empty typed object for a kind.
func newObject(k Kind, name, namespace string) client.Object {
	meta := metav1.ObjectMeta{Name: name, Namespace: namespace}
	tm := metav1.TypeMeta{APIVersion: v1beta1.GroupVersion.String(), Kind: k.CRDKind()}
	switch k {
	case KindComponent:
		return &v1beta1.ComponentDefinition{TypeMeta: tm, ObjectMeta: meta}
	case KindTrait:
		return &v1beta1.TraitDefinition{TypeMeta: tm, ObjectMeta: meta}
	case KindPolicy:
		return &v1beta1.PolicyDefinition{TypeMeta: tm, ObjectMeta: meta}
	case KindWorkflowStep:
		return &v1beta1.WorkflowStepDefinition{TypeMeta: tm, ObjectMeta: meta}
	}
	return nil
}

// FromObject wraps a typed definition object.
func FromObject(obj client.Object, source string) (*Definition, error) {
	var k Kind
	switch obj.(type) {
	case *v1beta1.ComponentDefinition:
		k = KindComponent
	case *v1beta1.TraitDefinition:
		k = KindTrait
	case *v1beta1.PolicyDefinition:
		k = KindPolicy
	case *v1beta1.WorkflowStepDefinition:
		k = KindWorkflowStep
	default:
		return nil, fmt.Errorf("%T is not a definition", obj)
	}
	d := &Definition{Kind: k, Name: obj.GetName(), Object: obj, Source: source}
	if d.Name == "" {
		return nil, fmt.Errorf("%s: %s has no metadata.name", source, k.CRDKind())
	}
	if d.schematic() == nil || d.schematic().CUE == nil {
		return nil, fmt.Errorf("%s: %s %q has no spec.schematic.cue.template: only CUE definitions are supported", source, k.CRDKind(), d.Name)
	}
	return d, nil
}

// SplitRef splits "webservice@v2" into ("webservice", 2). A reference
// without "@" has revision 0 (latest).
func SplitRef(ref string) (name string, revision int64, err error) {
	name, rev, ok := strings.Cut(ref, "@")
	if !ok {
		return ref, 0, nil
	}
	n, perr := strconv.ParseInt(strings.TrimPrefix(rev, "v"), 10, 64)
	if perr != nil || n <= 0 || !strings.HasPrefix(rev, "v") {
		return "", 0, fmt.Errorf("invalid definition reference %q: want NAME or NAME@vN", ref)
	}
	return name, n, nil
}

// SortByName sorts definitions by kind (in Kinds order) and then name.
func SortByName(defs []*Definition) {
	order := map[Kind]int{}
	for i, k := range Kinds {
		order[k] = i
	}
	sort.SliceStable(defs, func(i, j int) bool {
		if defs[i].Kind != defs[j].Kind {
			return order[defs[i].Kind] < order[defs[j].Kind]
		}
		return defs[i].Name < defs[j].Name
	})
}
