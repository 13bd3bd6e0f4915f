package app_test

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// reportTrait is a PostDispatch trait: it reads the live workload's
// status, which only exists once the Deployment was applied.
const reportTrait = `
apiVersion: core.oam.dev/v1beta1
kind: TraitDefinition
metadata: {name: replica-report}
spec:
  stage: PostDispatch
  appliesToWorkloads: [deployments.apps]
  schematic:
    cue:
      template: |
        outputs: report: {
          apiVersion: "v1"
          kind:       "ConfigMap"
          metadata: name: context.name + "-report"
          data: observedGeneration: "\(context.output.status.observedGeneration)"
        }
        parameter: {}
`

// A PostDispatch trait is rendered after its component is healthy, from
// the live workload's status; its objects are applied, tracked and
// deleted with the app.
func TestPostDispatchTrait(t *testing.T) {
	c, ns := start(t)
	def := &v1beta1.TraitDefinition{}
	if err := yaml.UnmarshalStrict([]byte(reportTrait), def); err != nil {
		t.Fatal(err)
	}
	def.Namespace = ns
	if err := c.Create(ctx, def); err != nil {
		t.Fatal(err)
	}
	up(t, c, parseApp(t, ns, `
metadata: {name: post}
spec:
  components:
  - name: web
    type: webservice
    properties: {image: nginx:1.0}
    traits:
    - {type: scaler, properties: {replicas: 0}}
    - {type: replica-report}
`))
	app := waitPhase(t, c, ns, "post", v1beta1.ApplicationRunning)
	cm := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web-report"}, cm); err != nil {
		t.Fatalf("the PostDispatch trait's ConfigMap: %v (app %s)", err, describe(app))
	}
	d := deployment(t, c, ns, "web")
	if want := fmt.Sprint(d.Status.ObservedGeneration); cm.Data["observedGeneration"] != want || want == "0" {
		t.Errorf("report = %q, want the live workload's observedGeneration %s", cm.Data["observedGeneration"], want)
	}
	traits := ""
	for _, s := range app.Status.Services {
		for _, tr := range s.Traits {
			traits += tr.Type + " "
		}
	}
	if traits != "scaler replica-report " {
		t.Errorf("trait health in status: %q, want scaler and replica-report", traits)
	}
	var rts v1beta1.ResourceTrackerList
	if err := c.List(ctx, &rts, client.MatchingLabels{v1beta1.LabelAppName: "post", v1beta1.LabelAppNamespace: ns}); err != nil {
		t.Fatal(err)
	}
	tracked := false
	for _, rt := range rts.Items {
		for _, m := range rt.Spec.ManagedResources {
			tracked = tracked || (m.Kind == "ConfigMap" && m.Name == "web-report" && m.Trait == "replica-report")
		}
	}
	if !tracked {
		t.Error("the PostDispatch ConfigMap is not in the resource tracker")
	}
	if err := c.Delete(ctx, getApp(t, c, ns, "post")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the report deleted with the app", func() (bool, string) {
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web-report"}, &corev1.ConfigMap{})
		return client.IgnoreNotFound(err) == nil && err != nil, fmt.Sprint(err)
	})
}
