package render

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/davecgh/go-spew/spew"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// The contract every rendered object keeps, as KubeVela's: a name, the
// application's namespace, the application's labels and annotations, and
// the OAM labels saying which application, component and definition it
// comes from.

// Labels set on every rendered object besides the app.oam.dev ones.
const (
	LabelWorkloadType = "workload.oam.dev/type"
	LabelTraitType    = "trait.oam.dev/type"
	LabelTraitOutput  = "trait.oam.dev/resource"
	LabelReplicaKey   = "app.oam.dev/replicaKey"
	// LabelResourceType is WORKLOAD on a component's `output` and TRAIT
	// on every other object.
	LabelResourceType = "app.oam.dev/resourceType"
)

// Values of the labels above.
const (
	ResourceTypeWorkload = "WORKLOAD"
	ResourceTypeTrait    = "TRAIT"
	// AuxiliaryWorkload is the trait type of a component's own `outputs`.
	AuxiliaryWorkload = "AuxiliaryWorkload"
)

// Application annotations that choose which of the application's labels
// and annotations its objects do not get (comma-separated keys).
const (
	AnnotationFilterLabelKeys      = "filter.oam.dev/label-keys"
	AnnotationFilterAnnotationKeys = "filter.oam.dev/annotation-keys"
)

// notPassedOn are application annotations its objects never get.
var notPassedOn = []string{
	"app.oam.dev/inplace-upgrade",
	AnnotationFilterLabelKeys,
	AnnotationFilterAnnotationKeys,
	"kubectl.kubernetes.io/last-applied-configuration",
}

// stamp gives every object of the component its name, namespace, labels
// and annotations.
func stamp(app *v1beta1.Application, rc *RenderedComponent) {
	ns := appNamespace(app)
	rev, _ := rc.Context["appRevision"].(string)
	// What an object's generated name is computed from (KubeVela leaves the
	// revision out, so that names stay across revisions).
	own := map[string]string{
		v1beta1.LabelAppName:      app.Name,
		v1beta1.LabelAppComponent: rc.Name,
	}
	if rc.ReplicaKey != "" {
		own[LabelReplicaKey] = rc.ReplicaKey
	}
	common := appLabels(app)
	for k, v := range own {
		common[k] = v
	}
	common[v1beta1.LabelAppNamespace] = ns
	common[v1beta1.LabelAppRevision] = rev
	annotations := appAnnotations(app)

	if w := rc.Workload; w != nil {
		if w.GetName() == "" {
			w.SetName(rc.Name)
		}
		setLabels(w, own, map[string]string{LabelWorkloadType: rc.Type})
		setLabels(w, map[string]string{LabelResourceType: ResourceTypeWorkload}, common)
		finish(w, ns, annotations)
	}
	for _, a := range rc.Auxiliaries {
		typ := a.Trait
		if typ == "" {
			typ = AuxiliaryWorkload
		}
		setLabels(a.Object, own, map[string]string{LabelTraitType: typ, LabelTraitOutput: a.Name})
		if a.Object.GetName() == "" {
			a.Object.SetName(traitObjectName(rc.Name, typ, a.Object))
		}
		setLabels(a.Object, map[string]string{LabelResourceType: ResourceTypeTrait}, common)
		finish(a.Object, ns, annotations)
	}
}

func appNamespace(app *v1beta1.Application) string {
	if app.Namespace == "" {
		return "default"
	}
	return app.Namespace
}

// appLabels are the application's labels its objects get.
func appLabels(app *v1beta1.Application) map[string]string {
	out := make(map[string]string, len(app.Labels)+6)
	for k, v := range app.Labels {
		out[k] = v
	}
	for _, k := range filterKeys(app, AnnotationFilterLabelKeys) {
		delete(out, k)
	}
	return out
}

// appAnnotations are the application's annotations its objects get.
func appAnnotations(app *v1beta1.Application) map[string]string {
	out := make(map[string]string, len(app.Annotations))
	for k, v := range app.Annotations {
		out[k] = v
	}
	for _, k := range notPassedOn {
		delete(out, k)
	}
	for _, k := range filterKeys(app, AnnotationFilterAnnotationKeys) {
		delete(out, k)
	}
	return out
}

func filterKeys(app *v1beta1.Application, annotation string) []string {
	v, ok := app.Annotations[annotation]
	if !ok {
		return nil
	}
	keys := strings.Split(v, ",")
	for i := range keys {
		keys[i] = strings.TrimSpace(keys[i])
	}
	return keys
}

// finish sets the namespace (objects that say none are in the
// application's; a Namespace has none) and the annotations.
func finish(u *unstructured.Unstructured, ns string, annotations map[string]string) {
	if u.GetNamespace() == "" && !(u.GetKind() == "Namespace" && u.GetAPIVersion() == "v1") {
		u.SetNamespace(ns)
	}
	if len(annotations) == 0 {
		return
	}
	meta := metadata(u)
	a, ok := meta["annotations"].(map[string]any)
	if !ok {
		a = map[string]any{}
		meta["annotations"] = a
	}
	for k, v := range annotations {
		a[k] = v
	}
}

// traitObjectName names an object a definition left unnamed:
// <component>-<type>-<hash of the object>, the hash as KubeVela computes
// it (FNV-32a of the object printed by spew), so that the names are the
// same as KubeVela gives.
func traitObjectName(component, typ string, u *unstructured.Unstructured) string {
	h := fnv.New32a()
	printer := spew.ConfigState{Indent: " ", SortKeys: true, DisableMethods: true, SpewKeys: true}
	printer.Fprintf(h, "%#v", *u)
	return fmt.Sprintf("%s-%s-%s", component, strings.ToLower(typ), rand.SafeEncodeString(fmt.Sprint(h.Sum32())))
}

func metadata(u *unstructured.Unstructured) map[string]any {
	meta, ok := u.Object["metadata"].(map[string]any)
	if !ok {
		meta = map[string]any{}
		u.Object["metadata"] = meta
	}
	return meta
}

// setLabels adds labels to u; later sets win.
func setLabels(u *unstructured.Unstructured, sets ...map[string]string) {
	meta := metadata(u)
	labels, ok := meta["labels"].(map[string]any)
	if !ok {
		labels = map[string]any{}
		meta["labels"] = labels
	}
	for _, s := range sets {
		for k, v := range s {
			labels[k] = v
		}
	}
}
