package render

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// The labels every rendered object carries.

// Labels set on every rendered object besides the app.oam.dev ones.
const (
	LabelWorkloadType = "workload.oam.dev/type"
	LabelTraitType    = "trait.oam.dev/type"
	LabelTraitOutput  = "trait.oam.dev/resource"
	LabelReplicaKey   = "app.oam.dev/replicaKey"
)

// stamp labels every object of the component.
func stamp(app *v1beta1.Application, rc *RenderedComponent) {
	ns := app.Namespace
	if ns == "" {
		ns = "default"
	}
	common := map[string]string{
		v1beta1.LabelAppName:      app.Name,
		v1beta1.LabelAppComponent: rc.Name,
		v1beta1.LabelAppNamespace: ns,
	}
	if rc.ReplicaKey != "" {
		common[LabelReplicaKey] = rc.ReplicaKey
	}
	if rc.Workload != nil {
		setLabels(rc.Workload, common, map[string]string{LabelWorkloadType: rc.Definition.Name})
	}
	for _, a := range rc.Auxiliaries {
		extra := map[string]string{}
		if a.Trait != "" {
			extra[LabelTraitType] = a.Trait
			extra[LabelTraitOutput] = a.Name
		}
		setLabels(a.Object, common, extra)
	}
}

func setLabels(u *unstructured.Unstructured, sets ...map[string]string) {
	meta, ok := u.Object["metadata"].(map[string]any)
	if !ok {
		meta = map[string]any{}
		u.Object["metadata"] = meta
	}
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
