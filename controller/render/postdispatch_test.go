package render_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
)

// PostDispatch traits for the tests below: each outputs a ConfigMap from
// the live workload; post-patch patches post-count's.
const postTraits = `
"post-count": {
	type: "trait"
	attributes: stage: "PostDispatch"
}
template: {
	outputs: count: {
		apiVersion: "v1"
		kind:       "ConfigMap"
		metadata: name: context.name + "-count-" + parameter.suffix
		data: {
			outputs: "\(len(context.outputs))"
			image:   context.output.spec.template.spec.containers[0].image
		}
	}
	parameter: suffix: *"a" | string
}
`

const postReady = `
"post-ready": {
	type: "trait"
	attributes: stage: "PostDispatch"
}
template: {
	outputs: ready: {
		apiVersion: "v1"
		kind:       "ConfigMap"
		metadata: name: context.name + "-ready"
		data: ready: "\(context.status.readyReplicas)"
	}
}
`

const postPatch = `
"post-patch": {
	type: "trait"
	attributes: stage: "PostDispatch"
}
template: {
	patch: spec: replicas: 9
	patchOutputs: count: data: patched: "yes"
}
`

const extraOutput = `
"extra-output": {
	type: "trait"
}
template: {
	outputs: extra: {
		apiVersion: "v1"
		kind:       "ConfigMap"
		metadata: name: context.name + "-extra"
	}
}
`

const postApp = `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: post
spec:
  components:
    - name: web
      type: webservice
      properties:
        image: nginx:1.27
        ports: [{port: 80, expose: true}]
      traits:
`

// RenderPostDispatch renders what a whole render with live workloads
// renders for the PostDispatch traits (the controller's path before it
// had RenderPostDispatch), and leaves the component as it was.
func TestRenderPostDispatch(t *testing.T) {
	defs, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	src := definition.Chain{definition.NewSet(loadCUE(t, "post-count.cue", postTraits), loadCUE(t, "post-ready.cue", postReady),
		loadCUE(t, "post-patch.cue", postPatch), loadCUE(t, "extra-output.cue", extraOutput)), defs}
	deployment := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web"},
		"spec":     map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"image": "nginx:live"}}}}},
		"status":   map[string]any{"readyReplicas": int64(2)},
	}}
	cases := []struct {
		name     string
		traits   string   // of component web
		extra    string   // after the component
		policies []string // of the deploy step rendered
		live     *unstructured.Unstructured
		// want maps each rendered object to its data
		want map[string]map[string]string
	}{
		{"after the other traits", `
        - {type: scaler, properties: {replicas: 1}}
        - {type: extra-output}
        - {type: post-ready}
        - {type: post-count}
`, "", nil, deployment, map[string]map[string]string{
			"web-ready":   {"ready": "2"},
			"web-count-a": {"outputs": "3", "image": "nginx:live"}, // webserviceExpose, extra, ready
		}},
		{"before another trait", `
        - {type: post-count}
        - {type: extra-output}
`, "", nil, deployment, map[string]map[string]string{
			"web-count-a": {"outputs": "1", "image": "nginx:live"},
		}},
		{"patched by a later PostDispatch trait", `
        - {type: post-count}
        - {type: post-patch}
`, "", nil, deployment, map[string]map[string]string{
			"web-count-a": {"outputs": "1", "image": "nginx:live", "patched": "yes"},
		}},
		{"without a live workload", `
        - {type: post-count}
`, "", nil, nil, map[string]map[string]string{
			"web-count-a": {"outputs": "1", "image": "nginx:1.27"},
		}},
		{"overridden", `
        - {type: post-count}
`, `  policies:
    - name: prod
      type: override
      properties:
        components:
          - name: web
            traits:
              - {type: post-count, properties: {suffix: b}}
`, []string{"prod"}, deployment, map[string]map[string]string{
			"web-count-b": {"outputs": "1", "image": "nginx:live"},
		}},
	}
	ctx := context.Background()
	r := render.NewRenderer()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app, err := render.ParseApplication([]byte(postApp + tc.traits + tc.extra))
			if err != nil {
				t.Fatal(err)
			}
			comps, err := r.RenderApp(ctx, app, src, render.Options{Policies: tc.policies})
			if err != nil {
				t.Fatal(err)
			}
			whole, err := r.RenderApp(ctx, app, src, render.Options{Policies: tc.policies, Live: func(string, string) *unstructured.Unstructured { return tc.live }})
			if err != nil {
				t.Fatal(err)
			}
			rc := &comps[0]
			before := yamlOf(t, app, rc)
			traits, objects, err := r.RenderPostDispatch(ctx, app, src, rc, tc.live)
			if err != nil {
				t.Fatal(err)
			}
			if after := yamlOf(t, app, rc); after != before {
				t.Errorf("the component changed:\n%s\nwant\n%s", after, before)
			}
			got := map[string]map[string]string{}
			for _, a := range objects {
				data, _, _ := unstructured.NestedStringMap(a.Object.Object, "data")
				got[a.Object.GetName()] = data
				if l := a.Object.GetLabels(); l["app.oam.dev/component"] != "web" || l["trait.oam.dev/type"] != a.Trait {
					t.Errorf("labels of %s: %v", a.Object.GetName(), l)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("objects: %v, want %v", got, tc.want)
			}
			// The same as rendering the whole app with the live workload.
			var wantObjects []render.Auxiliary
			for _, a := range whole[0].Auxiliaries {
				if strings.HasPrefix(a.Trait, "post-") {
					wantObjects = append(wantObjects, a)
				}
			}
			if !reflect.DeepEqual(objects, wantObjects) {
				t.Errorf("objects differ from a whole render:\n%v\nwant\n%v", objects, wantObjects)
			}
			if len(traits) != len(whole[0].Traits) {
				t.Fatalf("traits: %+v, want %+v", traits, whole[0].Traits)
			}
			for i, tr := range traits {
				w := whole[0].Traits[i]
				if tr.Type != w.Type || tr.Skipped || tr.Stage != w.Stage || !reflect.DeepEqual(tr.Properties, w.Properties) {
					t.Errorf("trait %d: %s %s skipped=%v %v, want %s %s %v", i, tr.Type, tr.Stage, tr.Skipped, tr.Properties, w.Type, w.Stage, w.Properties)
				}
			}
		})
	}
}

// Each replica's PostDispatch traits see that replica's live workload.
func TestRenderPostDispatchReplicas(t *testing.T) {
	src := definition.Chain{definition.NewSet(loadCUE(t, "post-count.cue", postTraits)), mustBuiltins(t)}
	app, err := render.ParseApplication([]byte(postApp + `        - {type: post-count}
  policies:
    - name: pools
      type: replication
      properties: {keys: [east, west], selector: [web]}
`))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := render.NewRenderer()
	comps, err := r.RenderApp(ctx, app, src, render.Options{Policies: []string{"pools"}})
	if err != nil || len(comps) != 2 {
		t.Fatalf("render: %d components, %v", len(comps), err)
	}
	for i := range comps {
		rc := &comps[i]
		live := rc.Workload.DeepCopy()
		_ = unstructured.SetNestedSlice(live.Object, []any{map[string]any{"image": "img-" + rc.ReplicaKey}}, "spec", "template", "spec", "containers")
		_, objects, err := r.RenderPostDispatch(ctx, app, src, rc, live)
		if err != nil {
			t.Fatal(err)
		}
		if len(objects) != 1 {
			t.Fatalf("replica %s: objects %v", rc.ReplicaKey, objects)
		}
		o := objects[0].Object
		if img, _, _ := unstructured.NestedString(o.Object, "data", "image"); img != "img-"+rc.ReplicaKey || o.GetLabels()["app.oam.dev/replicaKey"] != rc.ReplicaKey {
			t.Errorf("replica %s: image %q, labels %v", rc.ReplicaKey, img, o.GetLabels())
		}
	}
}

// A PostDispatch trait that fails says which component and trait.
func TestRenderPostDispatchError(t *testing.T) {
	src := definition.Chain{definition.NewSet(loadCUE(t, "post-ready.cue", postReady)), mustBuiltins(t)}
	app, err := render.ParseApplication([]byte(postApp + "        - {type: post-ready}\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := render.NewRenderer()
	comps, err := r.RenderApp(ctx, app, src, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// No live workload: context.status is not there.
	_, _, err = r.RenderPostDispatch(ctx, app, src, &comps[0], nil)
	if err == nil || !strings.HasPrefix(err.Error(), `render component "web": trait "post-ready": `) {
		t.Fatalf("error = %v, want one naming the component and the trait", err)
	}
}

func mustBuiltins(t *testing.T) definition.Source {
	t.Helper()
	defs, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	return defs
}

func yamlOf(t *testing.T, app *v1beta1.Application, rc *render.RenderedComponent) string {
	t.Helper()
	var sb strings.Builder
	if err := render.WriteYAML(&sb, app, []render.RenderedComponent{*rc}); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// postBenchApp has 3 components, each webservice + scaler + gateway +
// env + labels + a PostDispatch trait.
func postBenchApp(b *testing.B) *v1beta1.Application {
	var sb strings.Builder
	sb.WriteString(postApp[:strings.Index(postApp, "    - name: web")])
	for i := range 3 {
		fmt.Fprintf(&sb, `    - name: web-%d
      type: webservice
      properties:
        image: nginx:1.27
        ports: [{port: 80, expose: true}]
        env: [{name: A, value: "1"}]
        cpu: "0.5"
      traits:
        - {type: scaler, properties: {replicas: 3}}
        - {type: gateway, properties: {domain: web%d.example.com, http: {"/": 80}}}
        - {type: env, properties: {env: {B: "2"}}}
        - {type: labels, properties: {team: shop}}
        - {type: post-count}
`, i, i)
	}
	app, err := render.ParseApplication([]byte(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	return app
}

// BenchmarkPostDispatch renders the PostDispatch traits of every
// component of a 3-component app against live workloads, as the
// controller does once per reconcile of such an app.
func BenchmarkPostDispatch(b *testing.B) {
	benchmarkPostDispatch(b, func(ctx context.Context, r *render.Renderer, app *v1beta1.Application, src definition.Source, comps []render.RenderedComponent, live func(string, string) *unstructured.Unstructured) error {
		for i := range comps {
			if _, _, err := r.RenderPostDispatch(ctx, app, src, &comps[i], live(comps[i].Name, comps[i].ReplicaKey)); err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkPostDispatchWholeRender does the same by rendering the whole
// app again with live workloads (what the controller did before it had
// RenderPostDispatch).
func BenchmarkPostDispatchWholeRender(b *testing.B) {
	benchmarkPostDispatch(b, func(ctx context.Context, r *render.Renderer, app *v1beta1.Application, src definition.Source, _ []render.RenderedComponent, live func(string, string) *unstructured.Unstructured) error {
		_, err := r.RenderApp(ctx, app, src, render.Options{Live: live})
		return err
	})
}

func benchmarkPostDispatch(b *testing.B, post func(context.Context, *render.Renderer, *v1beta1.Application, definition.Source, []render.RenderedComponent, func(string, string) *unstructured.Unstructured) error) {
	defs, err := builtins.Load()
	if err != nil {
		b.Fatal(err)
	}
	d, err := definition.ParseCUE("post-count.cue", []byte(postTraits))
	if err != nil {
		b.Fatal(err)
	}
	src := definition.Chain{definition.NewSet(d), defs}
	app := postBenchApp(b)
	ctx := context.Background()
	r := render.NewRenderer()
	comps, err := r.RenderApp(ctx, app, src, render.Options{})
	if err != nil {
		b.Fatal(err)
	}
	lives := map[string]*unstructured.Unstructured{}
	for _, c := range comps {
		l := c.Workload.DeepCopy()
		l.Object["status"] = map[string]any{"readyReplicas": int64(3), "observedGeneration": int64(1)}
		lives[c.Name] = l
	}
	live := func(name, _ string) *unstructured.Unstructured { return lives[name] }
	if err := post(ctx, r, app, src, comps, live); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := post(ctx, r, app, src, comps, live); err != nil {
			b.Fatal(err)
		}
	}
}
