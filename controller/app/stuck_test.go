package app_test

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/appcli"
)

// Apps the webhook would refuse but that got in without it (this
// namespace has no webhook) fail with the webhook's message instead of
// hanging, and can always be deleted: the finalizer gives up on objects
// that cannot exist.
func TestImpossibleAppsFailAndDeleteCleanly(t *testing.T) {
	c, ns := start(t)
	long := strings.Repeat("a", 64)
	tests := []struct{ name, yaml, want string }{
		{"bad-name", `
metadata: {name: bad-name}
spec: {components: [{name: Web_1, type: webservice, properties: {image: nginx}}]}
`, `spec.components[0].name "Web_1": not usable as an object name`},
		{long, `
metadata: {name: ` + long + `}
spec: {components: [{name: web, type: webservice, properties: {image: nginx}}]}
`, `is 64 characters long`},
		{"cycle", `
metadata: {name: cycle}
spec:
  components:
  - {name: a, type: worker, properties: {image: busybox}, dependsOn: [b]}
  - {name: b, type: worker, properties: {image: busybox}, dependsOn: [a]}
`, `component dependsOn cycle: "a" -> "b" -> "a"`},
		{"bad-object", `
metadata: {name: bad-object}
spec:
  components:
  - name: objs
    type: k8s-objects
    properties:
      objects:
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: "No/Such"}, data: {a: b}}
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: fine}, data: {a: b}}
`, `ConfigMap "No/Such": not usable as an object name`},
	}
	for _, tc := range tests {
		if err := c.Create(ctx, parseApp(t, ns, tc.yaml)); err != nil {
			t.Fatalf("create %s: %v", tc.name, err)
		}
	}
	for _, tc := range tests {
		eventually(t, "app "+tc.name+" to fail", func() (bool, string) {
			app := getApp(t, c, ns, tc.name)
			msg := ""
			for _, c := range app.Status.Conditions {
				msg += c.Message + "\n"
			}
			return app.Status.Phase == v1beta1.ApplicationWorkflowFailed && strings.Contains(msg, tc.want), describe(app)
		})
		if err := appcli.Delete(ctx, c, ns, tc.name, true, Wait); err != nil {
			t.Fatalf("delete %s: %v", tc.name, err)
		}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: tc.name}, &v1beta1.Application{}); !apierrors.IsNotFound(err) {
			t.Fatalf("app %s after delete: %v, want gone", tc.name, err)
		}
	}
}
