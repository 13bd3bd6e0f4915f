package ingress_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
	"github.com/velad-dev/velad/internal/golden"
)

// defs are the addon's definitions over the built-ins.
func defs(t *testing.T) definition.Source {
	t.Helper()
	builtins, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	own, err := definition.LoadFS(os.DirFS("definitions"), "addon ingress")
	if err != nil {
		t.Fatal(err)
	}
	return definition.Chain{definition.NewSet(own...), builtins}
}

func renderApp(t *testing.T, data []byte) (string, error) {
	t.Helper()
	app, err := render.ParseApplication(data)
	if err != nil {
		t.Fatal(err)
	}
	comps, err := render.NewRenderer().RenderApp(context.Background(), app, defs(t), render.Options{})
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	if err := render.WriteYAML(&out, app, comps); err != nil {
		t.Fatal(err)
	}
	return out.String(), nil
}

// Every testdata/NAME.yaml app renders to testdata/NAME.golden.yaml.
func TestDefinitionsRender(t *testing.T) {
	apps, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range apps {
		if strings.HasSuffix(in, ".golden.yaml") {
			continue
		}
		n++
		t.Run(strings.TrimSuffix(filepath.Base(in), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := renderApp(t, data)
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, strings.TrimSuffix(in, ".yaml")+".golden.yaml", []byte(got))
		})
	}
	if n == 0 {
		t.Fatal("no app in testdata/")
	}
}

func TestHTTPRouteRefusesAPortTheComponentDoesNotExpose(t *testing.T) {
	_, err := renderApp(t, []byte(`apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: shop}
spec:
  components:
    - name: web
      type: webservice
      properties: {image: nginx, ports: [{port: 80}]}
      traits:
        - type: http-route
          properties: {rules: [{port: 8080}]}
`))
	want := `render component "web": trait "http-route": trait "http-route" reports: http-route routes to port 8080, which component web does not expose (its ports: 80); add the port to the component or route to one of those`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}

// The http-route trait reports whether its Gateway accepted the route.
func TestHTTPRouteStatus(t *testing.T) {
	def, err := defs(t).Lookup(context.Background(), "trait", "http-route", 0)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]any{"domains": []any{"hello.local"}, "gatewayName": "traefik-gateway",
		"gatewayNamespace": "vela-system", "listenerName": "web"}
	route := func(status, message string) *unstructured.Unstructured {
		o := map[string]any{"kind": "HTTPRoute"}
		if status != "" {
			o["status"] = map[string]any{"parents": []any{map[string]any{"conditions": []any{
				map[string]any{"type": "Accepted", "status": status, "message": message}}}}}
		}
		return &unstructured.Unstructured{Object: o}
	}
	for _, tc := range []struct {
		name    string
		outputs map[string]*unstructured.Unstructured
		healthy bool
		message string
	}{
		{"accepted", map[string]*unstructured.Unstructured{"httpRoute": route("True", "")}, true,
			"Visiting URL: http://hello.local (Gateway vela-system/traefik-gateway, listener web)"},
		{"refused", map[string]*unstructured.Unstructured{"httpRoute": route("False", "no listener web")}, true,
			"Gateway vela-system/traefik-gateway refused the route: no listener web"},
		{"no controller", map[string]*unstructured.Unstructured{"httpRoute": route("", "")}, true,
			"Not yet accepted by Gateway vela-system/traefik-gateway; is the ingress addon enabled? (velad addon enable ingress)"},
		{"not applied", nil, false,
			"Not yet accepted by Gateway vela-system/traefik-gateway; is the ingress addon enabled? (velad addon enable ingress)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := render.NewRenderer().EvalStatus(def, params, map[string]any{"name": "hello"}, render.LiveObjects{Outputs: tc.outputs})
			if err != nil {
				t.Fatal(err)
			}
			if h.Healthy != tc.healthy || h.Message != tc.message {
				t.Errorf("got %+v, want healthy=%v %q", h, tc.healthy, tc.message)
			}
		})
	}
}
