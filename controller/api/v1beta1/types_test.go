package v1beta1_test

import (
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// TestApplicationYAML decodes an Application as KubeVela users write it
// and checks the fields land where the contract says.
func TestApplicationYAML(t *testing.T) {
	const in = `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: shop
spec:
  components:
    - name: web
      type: webservice@v2
      properties: {image: nginx, ports: [{port: 80}]}
      dependsOn: [db]
      inputs: [{from: dbhost, parameterKey: "env[0].value"}]
      outputs: [{name: url, valueFrom: output.metadata.name}]
      traits:
        - type: scaler
          properties: {replicas: 2}
  policies:
    - name: t
      type: topology
      properties: {clusters: [local]}
  workflow:
    mode: {steps: DAG, subSteps: StepByStep}
    steps:
      - name: g
        type: step-group
        subSteps:
          - name: a
            type: apply-component
            properties: {component: web}
            meta: {alias: apply web}
            if: status.x.succeeded
            timeout: 5m
status:
  status: running
  observedGeneration: 3
  latestRevision: {name: shop-v2, revision: 2, revisionHash: abc}
  services:
    - name: web
      healthy: true
      traits: [{type: scaler, healthy: true}]
  workflow:
    status: succeeded
    suspend: false
    terminated: false
    finished: true
    steps:
      - name: g
        phase: succeeded
        subSteps: [{name: a, phase: succeeded}]
  appliedResources:
    - {cluster: local, apiVersion: apps/v1, kind: Deployment, name: web}
`
	var app v1beta1.Application
	if err := yaml.UnmarshalStrict([]byte(in), &app); err != nil {
		t.Fatal(err)
	}
	c := app.Spec.Components[0]
	var props map[string]any
	if err := json.Unmarshal(c.Properties.Raw, &props); err != nil || props["image"] != "nginx" {
		t.Errorf("properties = %s (%v)", c.Properties.Raw, err)
	}
	if c.Type != "webservice@v2" || c.DependsOn[0] != "db" || c.Inputs[0].ParameterKey != "env[0].value" || c.Outputs[0].ValueFrom != "output.metadata.name" || c.Traits[0].Type != "scaler" {
		t.Errorf("component = %+v", c)
	}
	w := app.Spec.Workflow
	if w.Mode.Steps != v1beta1.WorkflowModeDAG || w.Steps[0].SubSteps[0].Meta.Alias != "apply web" || w.Steps[0].SubSteps[0].If != "status.x.succeeded" {
		t.Errorf("workflow = %+v", w)
	}
	st := app.Status
	if st.Phase != v1beta1.ApplicationRunning || st.ObservedGeneration != 3 || st.LatestRevision.Revision != 2 ||
		!st.Services[0].Traits[0].Healthy || st.Workflow.Steps[0].SubStepsStatus[0].Phase != v1beta1.WorkflowStepSucceeded ||
		st.AppliedResources[0].Kind != "Deployment" || st.AppliedResources[0].Cluster != "local" {
		t.Errorf("status = %+v", st)
	}
	out, err := yaml.Marshal(&app)
	if err != nil {
		t.Fatal(err)
	}
	var back v1beta1.Application
	if err := yaml.UnmarshalStrict(out, &back); err != nil {
		t.Fatalf("round trip: %v\n%s", err, out)
	}
}

func TestScheme(t *testing.T) {
	s := runtime.NewScheme()
	if err := v1beta1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"Application", "ComponentDefinition", "TraitDefinition", "PolicyDefinition", "WorkflowStepDefinition", "ApplicationRevision", "DefinitionRevision", "ResourceTracker"} {
		if !s.Recognizes(v1beta1.GroupVersion.WithKind(kind)) {
			t.Errorf("scheme does not know %s", kind)
		}
		if !s.Recognizes(v1beta1.GroupVersion.WithKind(kind + "List")) {
			t.Errorf("scheme does not know %sList", kind)
		}
	}
	obj, err := s.New(v1beta1.GroupVersion.WithKind("ResourceTracker"))
	if err != nil {
		t.Fatal(err)
	}
	if obj.DeepCopyObject() == obj {
		t.Error("DeepCopyObject returned the same pointer")
	}
}
