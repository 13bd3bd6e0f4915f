package render_test

import (
	"context"
	"testing"

	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
)

// versionedPDB chooses the API of a PodDisruptionBudget by
// context.clusterVersion.minor, as KubeVela's definitions choose theirs,
// and records the other fields of the version.
const versionedPDB = `
"versioned-pdb": {
	type: "component"
	attributes: workload: type: "autodetects.core.oam.dev"
}
template: {
	output: {
		if context.clusterVersion.minor < 21 {
			apiVersion: "policy/v1beta1"
		}
		if context.clusterVersion.minor >= 21 {
			apiVersion: "policy/v1"
		}
		kind: "PodDisruptionBudget"
		metadata: {
			name: context.name
			annotations: {
				major:      context.clusterVersion.major
				gitVersion: context.clusterVersion.gitVersion
				platform:   context.clusterVersion.platform
			}
		}
		spec: maxUnavailable: 1
	}
	parameter: {}
}
`

// renderVersioned renders an app with one versioned-pdb component on r
// and returns its object's apiVersion and annotations.
func renderVersioned(t *testing.T, r *render.Renderer) (string, map[string]string) {
	t.Helper()
	d, err := definition.ParseCUE("versioned-pdb.cue", []byte(versionedPDB))
	if err != nil {
		t.Fatal(err)
	}
	app, err := render.ParseApplication([]byte(`apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: v, namespace: demo}
spec:
  components:
    - {name: budget, type: versioned-pdb}
`))
	if err != nil {
		t.Fatal(err)
	}
	comps, err := r.RenderApp(context.Background(), app, definition.NewSet(d), render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := comps[0].Workload
	return w.GetAPIVersion(), w.GetAnnotations()
}

// TestClusterVersionChoosesAPI: a definition that branches on
// context.clusterVersion follows the version the renderer is given (the
// controller gives the cluster's), minor "20+" as 20.
func TestClusterVersionChoosesAPI(t *testing.T) {
	r := render.NewRenderer()
	api, ann := renderVersioned(t, r)
	emb := render.EmbeddedClusterVersion()
	if api != "policy/v1" || ann["gitVersion"] != emb.GitVersion || ann["major"] != emb.Major {
		t.Errorf("embedded %+v: %s %v, want policy/v1 and its gitVersion", emb, api, ann)
	}
	r.SetClusterVersion(render.ClusterVersion{Major: "1", Minor: "20+", GitVersion: "v1.20.15-eks-1a2b3c", Platform: "linux/arm64"})
	api, ann = renderVersioned(t, r)
	if api != "policy/v1beta1" || ann["gitVersion"] != "v1.20.15-eks-1a2b3c" || ann["platform"] != "linux/arm64" || ann["major"] != "1" {
		t.Errorf("1.20: %s %v, want policy/v1beta1 and the version's fields", api, ann)
	}
}
