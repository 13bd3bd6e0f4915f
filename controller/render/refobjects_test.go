package render_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/render"
)

// TestRefObjectsErrors: what a ref-objects component gets wrong, and a
// render without a cluster, fail with a message that says what to do;
// nothing is written.
func TestRefObjectsErrors(t *testing.T) {
	defs, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	read := render.ObjectsReader(t, "testdata/objects/ref-objects.yaml")
	cases := []struct {
		name, objects string
		noCluster     bool
		want          string
	}{
		{"object not found", `[{resource: deployment, name: api}]`, false,
			`render component "web": objects[0]: deployment "api" in namespace "demo" not found`},
		{"selector matches nothing", `[{resource: deployment}, {resource: configmap, labelSelector: {tier: cache}}]`, false,
			`render component "web": objects[1]: no configmap with labels tier=cache in namespace "demo": nothing to deliver (label the objects, or fix the selector)`},
		{"old selector name", `[{resource: configmap, selector: {tier: nope}}]`, false,
			`render component "web": objects[0]: no configmap with labels tier=nope in namespace "demo": nothing to deliver (label the objects, or fix the selector)`},
		{"no type", `[{name: web}]`, false,
			`render component "web": objects[0]: say which objects: set resource (for example deployment or configmap) or apiVersion and kind`},
		{"name and labels", `[{resource: configmap, name: a, labelSelector: {tier: web}}]`, false,
			`render component "web": objects[0]: name and labelSelector cannot both be set: one object by name, or all with the labels`},
		{"unknown field", `[{resource: configmap, labels: {tier: web}}]`, false,
			`render component "web": objects[0]: unknown field "labels" (an entry has apiVersion, cluster, group, kind, labelSelector, name, namespace, resource, selector)`},
		{"empty selector", `[{resource: configmap, labelSelector: {}}]`, false,
			`render component "web": objects[0]: labelSelector is empty: it would select every object of the type; name the labels`},
		{"no objects", `[]`, false,
			`render component "web": a ref-objects component needs "objects": a list of the objects to deliver, each with resource (or apiVersion and kind) and name or labelSelector`},
		{"bad apiVersion", `[{apiVersion: "a/b/c", kind: X}]`, false,
			`render component "web": objects[0]: apiVersion "a/b/c": unexpected GroupVersion string: a/b/c`},
		{"no cluster", `[{resource: deployment}]`, true,
			`render component "web": a ref-objects component delivers objects read from a cluster, and this render has none to read from (an offline dry-run): apply the application to a cluster, or write the objects out in a k8s-objects component`},
	}
	r := render.NewRenderer()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app, err := render.ParseApplication([]byte(`apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: copy, namespace: demo}
spec:
  components:
    - name: web
      type: ref-objects
      properties:
        objects: ` + c.objects + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			rd := read
			if c.noCluster {
				rd = nil
			}
			var out bytes.Buffer
			err = r.DryRunReading(context.Background(), &out, app, defs, rd)
			if err == nil || err.Error() != c.want {
				t.Errorf("error:\n got %v\nwant %s", err, c.want)
			}
			if out.Len() != 0 {
				t.Errorf("wrote %q on error", out.String())
			}
		})
	}
}

// TestRefObjectsLastEntryWins: an object two entries name is delivered
// once, and the cluster's fields (uid, resourceVersion, status, a
// Service's cluster IP) are left out of it.
func TestRefObjectsLastEntryWins(t *testing.T) {
	defs, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	app, err := render.ParseApplication([]byte(`apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: copy, namespace: demo}
spec:
  components:
    - name: web
      type: ref-objects
      properties:
        objects:
          - {resource: configmap, name: web-flags}
          - {resource: configmap, labelSelector: {tier: web}}
          - {resource: services, namespace: shared}
`))
	if err != nil {
		t.Fatal(err)
	}
	comps, err := render.NewRenderer().RenderApp(context.Background(), app, defs, render.Options{ReadObjects: render.ObjectsReader(t, "testdata/objects/ref-objects.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range comps[0].Objects() {
		names = append(names, o.GetKind()+"/"+o.GetName())
		for _, f := range []string{"uid", "resourceVersion", "generation", "creationTimestamp"} {
			if _, ok := o.Object["metadata"].(map[string]any)[f]; ok {
				t.Errorf("%s/%s keeps metadata.%s", o.GetKind(), o.GetName(), f)
			}
		}
		if _, ok := o.Object["status"]; ok {
			t.Errorf("%s/%s keeps its status", o.GetKind(), o.GetName())
		}
		if spec, _ := o.Object["spec"].(map[string]any); spec != nil && (spec["clusterIP"] != nil || spec["clusterIPs"] != nil) {
			t.Errorf("%s/%s keeps its cluster IP", o.GetKind(), o.GetName())
		}
	}
	if got, want := strings.Join(names, " "), "ConfigMap/web-flags ConfigMap/web-settings Service/web"; got != want {
		t.Errorf("objects %s, want %s", got, want)
	}
}
