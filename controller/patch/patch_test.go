package patch_test

import (
	"encoding/json"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"

	"github.com/velad-dev/velad/controller/patch"
)

const deployment = `{
  "spec": {
    "replicas": 1,
    "template": {"spec": {
      "containers": [
        {"name": "web", "image": "nginx", "env": [{"name": "A", "value": "1"}]},
        {"name": "proxy", "image": "envoy"}
      ],
      "tolerations": [{"key": "a"}, {"key": "b"}]
    }}
  }
}`

func TestApply(t *testing.T) {
	cases := []struct {
		name  string
		patch string // CUE source of a file whose `patch` field is applied
		want  string // JSON of the result; "" when an error is expected
		err   string
	}{
		{
			name:  "default merges structs",
			patch: `patch: spec: template: metadata: labels: app: "web"`,
			want:  `{"spec":{"replicas":1,"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"env":[{"name":"A","value":"1"}],"image":"nginx","name":"web"},{"image":"envoy","name":"proxy"}],"tolerations":[{"key":"a"},{"key":"b"}]}}}}`,
		},
		{
			name:  "equal scalar is kept",
			patch: `patch: spec: replicas: 1`,
			want:  `{"spec":{"replicas":1,"template":{"spec":{"containers":[{"env":[{"name":"A","value":"1"}],"image":"nginx","name":"web"},{"image":"envoy","name":"proxy"}],"tolerations":[{"key":"a"},{"key":"b"}]}}}}`,
		},
		{
			name:  "conflicting scalar without strategy",
			patch: `patch: spec: replicas: 3`,
			err:   `patch spec.replicas: conflicting values 1 and 3: mark the field with // +patchStrategy=retainKeys to overwrite it`,
		},
		{
			name: "retainKeys overwrites a scalar",
			patch: `patch: spec: {
	// +patchStrategy=retainKeys
	replicas: 3
}`,
			want: `{"spec":{"replicas":3,"template":{"spec":{"containers":[{"env":[{"name":"A","value":"1"}],"image":"nginx","name":"web"},{"image":"envoy","name":"proxy"}],"tolerations":[{"key":"a"},{"key":"b"}]}}}}`,
		},
		{
			name: "retainKeys overwrites a struct",
			patch: `patch: spec: {
	// +patchStrategy=retainKeys
	template: {
		spec: containers: [{name: "only", image: "busybox"}]
	}
}`,
			want: `{"spec":{"replicas":1,"template":{"spec":{"containers":[{"image":"busybox","name":"only"}]}}}}`,
		},
		{
			name: "patchKey merges list items by key and appends new ones",
			patch: `patch: spec: template: spec: {
	// +patchKey=name
	containers: [{name: "proxy", args: ["-v"]}, {name: "sidecar", image: "busybox"}]
}`,
			want: `{"spec":{"replicas":1,"template":{"spec":{"containers":[{"env":[{"name":"A","value":"1"}],"image":"nginx","name":"web"},{"args":["-v"],"image":"envoy","name":"proxy"},{"image":"busybox","name":"sidecar"}],"tolerations":[{"key":"a"},{"key":"b"}]}}}}`,
		},
		{
			name: "keyed merge conflict names the item",
			patch: `patch: spec: template: spec: {
	// +patchKey=name
	containers: [{name: "web", image: "httpd"}]
}`,
			err: `patch spec.template.spec.containers.web.image: conflicting values "nginx" and "httpd": mark the field with // +patchStrategy=retainKeys to overwrite it`,
		},
		{
			name: "patchKey is inherited by nested lists",
			patch: `patch: spec: template: spec: {
	// +patchKey=name
	containers: [{name: "web", env: [{name: "B", value: "2"}]}]
}`,
			want: `{"spec":{"replicas":1,"template":{"spec":{"containers":[{"env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],"image":"nginx","name":"web"},{"image":"envoy","name":"proxy"}],"tolerations":[{"key":"a"},{"key":"b"}]}}}}`,
		},
		{
			name: "patchKey with retainKeys replaces matched items",
			patch: `patch: spec: template: spec: {
	// +patchKey=name
	// +patchStrategy=retainKeys
	containers: [{name: "web", image: "nginx:2"}]
}`,
			want: `{"spec":{"replicas":1,"template":{"spec":{"containers":[{"image":"nginx:2","name":"web"},{"image":"envoy","name":"proxy"}],"tolerations":[{"key":"a"},{"key":"b"}]}}}}`,
		},
		{
			name: "replace replaces a list",
			patch: `patch: spec: template: spec: {
	// +patchStrategy=replace
	tolerations: [{key: "c"}]
}`,
			want: `{"spec":{"replicas":1,"template":{"spec":{"containers":[{"env":[{"name":"A","value":"1"}],"image":"nginx","name":"web"},{"image":"envoy","name":"proxy"}],"tolerations":[{"key":"c"}]}}}}`,
		},
		{
			name:  "lists of different length without a key",
			patch: `patch: spec: template: spec: tolerations: [{key: "c"}]`,
			err:   `patch spec.template.spec.tolerations: cannot merge a list of 1 items into a list of 2 items: mark the field with // +patchKey=<field> to merge by key, or // +patchStrategy=replace`,
		},
		{
			name:  "open list constraint applies to every item",
			patch: `patch: spec: template: spec: containers: [...{imagePullPolicy: "Always"}]`,
			want:  `{"spec":{"replicas":1,"template":{"spec":{"containers":[{"env":[{"name":"A","value":"1"}],"image":"nginx","imagePullPolicy":"Always","name":"web"},{"image":"envoy","imagePullPolicy":"Always","name":"proxy"}],"tolerations":[{"key":"a"},{"key":"b"}]}}}}`,
		},
		{
			name: "jsonMergePatch merges and deletes with null",
			patch: `// +patchStrategy=jsonMergePatch
patch: {spec: {replicas: 4, template: null}, metadata: name: "x"}`,
			want: `{"metadata":{"name":"x"},"spec":{"replicas":4}}`,
		},
		{
			name: "jsonPatch applies operations",
			patch: `// +patchStrategy=jsonPatch
patch: operations: [
	{op: "replace", path: "/spec/replicas", value: 2},
	{op: "remove", path: "/spec/template/spec/tolerations"},
	{op: "add", path: "/spec/template/spec/containers/1/args", value: ["-v"]},
]`,
			want: `{"spec":{"replicas":2,"template":{"spec":{"containers":[{"env":[{"name":"A","value":"1"}],"image":"nginx","name":"web"},{"args":["-v"],"image":"envoy","name":"proxy"}]}}}}`,
		},
		{
			name: "jsonPatch with a failing operation",
			patch: `// +patchStrategy=jsonPatch
patch: operations: [{op: "remove", path: "/spec/nothing"}]`,
			err: `patch: apply json patch: error in remove for path: '/spec/nothing': unable to remove nonexistent key: nothing: missing value`,
		},
		{
			name: "unknown strategy",
			patch: `patch: spec: {
	// +patchStrategy=strategic
	replicas: 3
}`,
			err: `patch spec.replicas: unknown patchStrategy "strategic": want retainKeys, replace, jsonMergePatch or jsonPatch`,
		},
		{
			name:  "struct onto a scalar",
			patch: `patch: spec: replicas: max: 3`,
			err:   `patch spec.replicas: cannot patch 1 with a struct`,
		},
		{
			name:  "constraint satisfied by the base",
			patch: `patch: spec: replicas: int & >0`,
			want:  `{"spec":{"replicas":1,"template":{"spec":{"containers":[{"env":[{"name":"A","value":"1"}],"image":"nginx","name":"web"},{"image":"envoy","name":"proxy"}],"tolerations":[{"key":"a"},{"key":"b"}]}}}}`,
		},
		{
			name:  "incomplete value for a new field",
			patch: `patch: spec: paused: bool`,
			err:   `patch spec.paused: patch is not concrete: patch.spec.paused: incomplete value bool`,
		},
	}
	ctx := cuecontext.New()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var base map[string]any
			if err := json.Unmarshal([]byte(deployment), &base); err != nil {
				t.Fatal(err)
			}
			before, _ := json.Marshal(base)
			v := ctx.CompileString(tc.patch)
			if v.Err() != nil {
				t.Fatal(v.Err())
			}
			got, err := patch.Apply(base, v.LookupPath(cue.ParsePath("patch")))
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error\n got: %v\nwant: %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(got)
			if string(b) != tc.want {
				t.Errorf("result\n got: %s\nwant: %s", b, tc.want)
			}
			if after, _ := json.Marshal(base); string(after) != string(before) {
				t.Errorf("Apply modified its base: %s", after)
			}
		})
	}
}

func TestApplyNumericPatchKey(t *testing.T) {
	base, err := patch.DecodeJSON([]byte(`{"spec":{"ports":[{"port":80,"name":"http","targetPort":8080}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	v := cuecontext.New().CompileString(`patch: spec: {
	// +patchKey=port
	ports: [{port: 80}, {port: 443, name: "https"}]
}`)
	got, err := patch.Apply(base.(map[string]any), v.LookupPath(cue.ParsePath("patch")))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	want := `{"spec":{"ports":[{"name":"http","port":80,"targetPort":8080},{"name":"https","port":443}]}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}
