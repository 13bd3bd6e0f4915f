package render

import (
	"errors"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/definition"
)

// What a render takes besides the application and its definitions, and
// what it gives: components with their objects and traits.

// DefaultCluster is context.cluster for the local cluster.
const DefaultCluster = "local"

// ErrInternal wraps a panic recovered while rendering (a bug in velad or
// CUE, not in the user's input).
var ErrInternal = errors.New("internal error evaluating CUE")

// Options carries what the context of a render needs besides the app.
type Options struct {
	// Revision is context.appRevision; default "<app>-v<RevisionNum>".
	Revision string
	// RevisionNum is context.appRevisionNum; default 1.
	RevisionNum int64
	// Cluster is context.cluster; default "local".
	Cluster string
	// Policies names the policies of the deploy step rendered, in its
	// order: its override policies change the components, its
	// replication policies replicate them (DeploySteps lists the steps).
	// Nil renders the components as the application declares them, as an
	// apply-component step applies them.
	Policies []string
	// Offline renders as KubeVela's offline dry-run does: the application
	// has no revision yet (context.appRevision and context.revision are
	// "", context.appRevisionNum 0) and its workflow steps are not looked
	// up (they do not run: only the components render).
	Offline bool
	// Live returns the live workload of a component (nil if not applied
	// yet). When set, PostDispatch traits are rendered with its status as
	// context.status; when nil they are skipped.
	Live func(component, replicaKey string) *unstructured.Unstructured
	// ReadObjects reads the objects ref-objects components deliver (nil:
	// there is no cluster to read from, and such a component fails).
	ReadObjects ReadObjects
}

// RenderedComponent is one component rendered with its traits.
type RenderedComponent struct {
	Name       string
	Type       string
	ReplicaKey string
	DependsOn  []string
	Definition *definition.Definition
	// Properties are the component's parameters after defaults.
	Properties map[string]any
	// Workload is the object from the template's `output`.
	Workload *unstructured.Unstructured
	// Auxiliaries are the objects of `outputs`, the component's first and
	// then each trait's.
	Auxiliaries []Auxiliary
	Traits      []RenderedTrait
	// Context is the CUE context the component was rendered with (to
	// evaluate health against live objects later).
	Context map[string]any
	// Policies are the policies it was rendered after (Options.Policies).
	Policies []string
	// Cluster is the cluster it was rendered for (Options.Cluster; ""
	// is local).
	Cluster string
}

// Auxiliary is an object from an `outputs.<Name>` field.
type Auxiliary struct {
	Name string
	// Trait is the trait type that produced it; "" for the component.
	Trait  string
	Object *unstructured.Unstructured
}

// RenderedTrait records a trait applied to a component.
type RenderedTrait struct {
	Type       string
	Definition *definition.Definition
	Properties map[string]any
	Stage      string
	// Skipped is true for a PostDispatch trait rendered without a live
	// workload.
	Skipped bool
}

// Objects returns the workload followed by the auxiliary objects.
func (c *RenderedComponent) Objects() []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, 0, 1+len(c.Auxiliaries))
	if c.Workload != nil {
		out = append(out, c.Workload)
	}
	for _, a := range c.Auxiliaries {
		out = append(out, a.Object)
	}
	return out
}
