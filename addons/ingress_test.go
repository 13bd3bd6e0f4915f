package addons_test

import (
	"bytes"
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/render"
)

// renderApp renders an app with every addon's definitions, as `velad
// dry-run` prints it.
func renderApp(t *testing.T, data []byte) (string, error) {
	t.Helper()
	app, err := render.ParseApplication(data)
	if err != nil {
		t.Fatal(err)
	}
	comps, err := render.NewRenderer().RenderApp(context.Background(), app, source(t), render.Options{})
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	if err := render.WriteYAML(&out, app, comps); err != nil {
		t.Fatal(err)
	}
	return out.String(), nil
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
	def, err := source(t).Lookup(context.Background(), "trait", "http-route", 0)
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
