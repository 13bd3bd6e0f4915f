package render_test

import (
	"context"
	"testing"

	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
)

const appHeader = `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: shop
spec:
`

// TestBadInput asserts the exact error text for inputs users get wrong.
func TestBadInput(t *testing.T) {
	builtins, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		app  string
		defs string // an extra .cue definition, optional
		want string
	}{
		{
			name: "unknown component type",
			app: `  components:
    - name: web
      type: webserver
      properties: {image: nginx}
`,
			want: `render component "web": unknown component type "webserver": no ComponentDefinition with that name`,
		},
		{
			name: "unknown trait",
			app: `  components:
    - name: web
      type: webservice
      properties: {image: nginx}
      traits:
        - type: autoscale
`,
			want: `render component "web": trait "autoscale": unknown trait type "autoscale": no TraitDefinition with that name`,
		},
		{
			name: "missing required parameter",
			app: `  components:
    - name: web
      type: webservice
      properties: {cpu: "1"}
`,
			want: `render component "web": invalid properties for component "webservice": property "image" is required (string)`,
		},
		{
			name: "missing required nested parameter",
			app: `  components:
    - name: web
      type: webservice
      properties:
        image: nginx
        ports: [{expose: true}]
`,
			want: `render component "web": invalid properties for component "webservice": property "ports[0].port" is required (int)`,
		},
		{
			name: "wrong parameter type",
			app: `  components:
    - name: web
      type: webservice
      properties: {image: nginx, ports: [{port: "80"}]}
`,
			want: `render component "web": invalid properties for component "webservice": property "ports[0].port": expected int, got "80" (string)`,
		},
		{
			name: "value outside an enum",
			app: `  components:
    - name: web
      type: webservice
      properties: {image: nginx, exposeType: Internal}
`,
			want: `render component "web": invalid properties for component "webservice": property "exposeType": must be one of "ClusterIP", "NodePort", "LoadBalancer", got "Internal" (string)`,
		},
		{
			name: "wrong trait parameter type",
			app: `  components:
    - name: web
      type: webservice
      properties: {image: nginx}
      traits:
        - type: scaler
          properties: {replicas: many}
`,
			want: `render component "web": trait "scaler": invalid properties for trait "scaler": property "replicas": expected int, got "many" (string)`,
		},
		{
			name: "trait not applicable to the workload",
			app: `  components:
    - name: job
      type: task
      properties: {image: busybox}
      traits:
        - type: scaler
          properties: {replicas: 2}
`,
			want: `render component "job": trait "scaler" does not apply to component type "task" (workload jobs.batch); it applies to: deployments.apps, statefulsets.apps`,
		},
		{
			name: "conflicting traits",
			app: `  components:
    - name: web
      type: webservice
      properties: {image: nginx}
      traits:
        - type: hpa
        - type: cpuscaler
`,
			want: `render component "web": trait "hpa" conflicts with trait "cpuscaler": remove one of them`,
		},
		{
			name: "gateway to a port the component does not expose",
			app: `  components:
    - name: web
      type: webservice
      properties:
        image: nginx
        ports: [{port: 80}, {port: 443}]
      traits:
        - type: gateway
          properties: {domain: shop.example.com, http: {"/": 8080}}
`,
			want: `render component "web": trait "gateway": trait "gateway" reports: gateway routes to port 8080, which component web does not expose (its ports: 80, 443); add the port to the component or route to one of those`,
		},
		{
			name: "invalid CUE in a user definition",
			app: `  components:
    - name: web
      type: broken
`,
			defs: `"broken": {
	type: "component"
}
template: {
	output: {
		apiVersion: "v1"
		kind: "ConfigMap"
		data: parameter.x +
	}
	parameter: x: string
}
`,
			want: `load definitions: parse testdata/bad/broken.cue: testdata/bad/broken.cue:9:2: expected operand, found '}'; testdata/bad/broken.cue:11:3: expected '}', found 'EOF'`,
		},
		{
			name: "template references a missing field",
			app: `  components:
    - name: web
      type: typo
      properties: {image: nginx}
`,
			defs: `"typo": {
	type: "component"
}
template: {
	output: {
		apiVersion: "v1"
		kind:       "ConfigMap"
		metadata: name: context.name
		data: image: parameter.imagee
	}
	parameter: image: string
}
`,
			want: `render component "web": evaluate output: output.data.image: undefined field: imagee`,
		},
		{
			name: "template reports errs",
			app: `  components:
    - name: web
      type: webservice
      properties: {image: nginx}
      traits:
        - type: cpuscaler
          properties: {min: 5, max: 2}
`,
			want: `render component "web": trait "cpuscaler": trait "cpuscaler" reports: min (5) must not exceed max (2)`,
		},
		{
			name: "container-image names a container the workload lacks",
			app: `  components:
    - name: web
      type: webservice
      properties: {image: nginx}
      traits:
        - type: container-image
          properties:
            containers:
              - {containerName: web, image: nginx:2}
              - {containerName: proxy, image: envoy:2}
`,
			want: `render component "web": trait "container-image": trait "container-image" reports: container proxy not found`,
		},
		{
			name: "container-image list entry without containerName",
			app: `  components:
    - name: web
      type: webservice
      properties: {image: nginx}
      traits:
        - type: container-image
          properties:
            containers: [{image: nginx:2}]
`,
			want: `render component "web": trait "container-image": trait "container-image" reports: containerName must be set for containers`,
		},
		{
			name: "container-ports names a container the workload lacks",
			app: `  components:
    - name: web
      type: webservice
      properties: {image: nginx}
      traits:
        - type: container-ports
          properties: {containerName: proxy, ports: [{containerPort: 80, hostPort: 80}]}
`,
			want: `render component "web": trait "container-ports": trait "container-ports" reports: container proxy not found`,
		},
		{
			name: "securitycontext list entry without containerName",
			app: `  components:
    - name: web
      type: webservice
      properties: {image: nginx}
      traits:
        - type: securitycontext
          properties:
            containers: [{privileged: true}]
`,
			want: `render component "web": trait "securitycontext": trait "securitycontext" reports: containerName must be set for containers`,
		},
		{
			name: "resource-update policy with an unknown op",
			app: `  components:
    - name: web
      type: webservice
      properties: {image: nginx}
  policies:
    - type: resource-update
      properties:
        rules: [{selector: {resourceTypes: [Deployment]}, strategy: {op: merge}}]
`,
			want: `render application "shop": spec.policies[0] (resource-update): invalid properties for policy "resource-update": property "rules[0].strategy.op": must be one of "patch", "replace", got "merge" (string)`,
		},
		{
			name: "resource memory is not a quantity",
			app: `  components:
    - name: web
      type: webservice
      properties: {image: nginx}
      traits:
        - type: resource
          properties: {cpu: 1, memory: lots}
`,
			want: `render component "web": trait "resource": invalid properties for trait "resource": property "memory": matches none of the allowed values: conflicting values "2048Mi" and "lots"; invalid value "lots" (out of bound =~"^([1-9][0-9]{0,63})(E|P|T|G|M|K|Ei|Pi|Ti|Gi|Mi|Ki)$")`,
		},
		{
			name: "env names a container the workload lacks",
			app: `  components:
    - name: web
      type: webservice
      properties: {image: nginx}
      traits:
        - type: env
          properties:
            containers: [{containerName: proxy, env: {A: "1"}}]
`,
			want: `render component "web": trait "env": trait "env" reports: container proxy not found`,
		},
		{
			name: "env containers with env beside them",
			app: `  components:
    - name: web
      type: webservice
      properties: {image: nginx}
      traits:
        - type: env
          properties:
            env: {B: "2"}
            containers: [{containerName: web, env: {A: "1"}}]
`,
			want: `render component "web": trait "env": trait "env" reports: containers cannot be combined with containerName, replace, env or unset`,
		},
		{
			name: "properties are not an object",
			app: `  components:
    - name: web
      type: webservice
      properties: [nginx]
`,
			want: `render application "shop": component "web": properties must be an object, got a list`,
		},
		{
			name: "duplicate component names",
			app: `  components:
    - name: web
      type: webservice
    - name: web
      type: worker
`,
			want: `render application "shop": component name "web" is used twice`,
		},
		{
			name: "unknown policy type",
			app: `  components:
    - name: web
      type: webservice
      properties: {image: nginx}
  policies:
    - name: p
      type: spread
`,
			want: `render application "shop": policy "p": unknown policy type "spread": no PolicyDefinition with that name`,
		},
		{
			name: "unknown workflow step type",
			app: `  components:
    - name: web
      type: webservice
      properties: {image: nginx}
  workflow:
    steps:
      - name: notify
        type: slack
`,
			want: `render application "shop": workflow step "notify": unknown workflow-step type "slack": no WorkflowStepDefinition with that name`,
		},
		{
			name: "unknown definition revision",
			app: `  components:
    - name: web
      type: webservice@v3
      properties: {image: nginx}
`,
			want: `render component "web": unknown component type "webservice@v3": no ComponentDefinition with that name`,
		},
		{
			name: "bad definition reference",
			app: `  components:
    - name: web
      type: webservice@latest
`,
			want: `render component "web": invalid definition reference "webservice@latest": want NAME or NAME@vN`,
		},
	}
	r := render.NewRenderer()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := renderString(t, r, builtins, appHeader+tc.app, tc.defs)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

func renderString(t *testing.T, r *render.Renderer, builtins definition.Source, appYAML, defCUE string) error {
	t.Helper()
	app, err := render.ParseApplication([]byte(appYAML))
	if err != nil {
		return err
	}
	src := builtins
	if defCUE != "" {
		defs, err := definition.ParseFile("testdata/bad/broken.cue", []byte(defCUE))
		if err != nil {
			return wrap("load definitions", err)
		}
		src = definition.Chain{definition.NewSet(defs...), builtins}
	}
	_, err = r.RenderApp(context.Background(), app, src, render.Options{})
	return err
}

type wrapped struct {
	msg string
	err error
}

func (w wrapped) Error() string { return w.msg + ": " + w.err.Error() }
func (w wrapped) Unwrap() error { return w.err }

func wrap(msg string, err error) error { return wrapped{msg, err} }

func TestParseApplicationErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"a Deployment", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n",
			`parse application: document 1 is Deployment (apiVersion "apps/v1"), not an Application: want apiVersion: core.oam.dev/v1beta1 and kind: Application`},
		{"no kind", "name: x\n",
			`parse application: document 1 is an object without kind (apiVersion ""), not an Application: want apiVersion: core.oam.dev/v1beta1 and kind: Application`},
		{"empty", "", "parse application: no Application found in the input"},
		{"not YAML", "a: [1, 2\n", "parse application: document 1: invalid YAML: error converting YAML to JSON: yaml: line 1: did not find expected ',' or ']'"},
		{"unknown field", appHeader + "  components: []\n  component: []\n", `parse application "shop": error unmarshaling JSON: while decoding JSON: json: unknown field "component"`},
		{"two apps", appHeader + "  components: []\n---\n" + appHeader + "  components: []\n", "parse application: found 2 Applications, want one"},
		{"old version", "apiVersion: core.oam.dev/v1alpha2\nkind: Application\nmetadata: {name: x}\n", "parse application: apiVersion core.oam.dev/v1alpha2 is not supported: want core.oam.dev/v1beta1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := render.ParseApplication([]byte(tc.in))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n got: %v\nwant: %s", err, tc.want)
			}
		})
	}
}
