package app_test

import (
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

func gatewayApp(name, domain, path string) string {
	return fmt.Sprintf(`
metadata: {name: %s}
spec:
  components:
  - name: %s
    type: webservice
    properties: {image: docker.io/velad/hello:v1, ports: [{port: 8000}]}
    traits:
    - type: scaler
      properties: {replicas: 0}
    - type: gateway
      properties: {domain: %s, http: {%q: 8000}}
`, name, name, domain, path)
}

// A host and path another application's Ingress routes already is
// refused: the app fails with a message naming the other app, and none of
// its objects is applied. Another path on the same host is fine.
func TestHostClaimedByAnotherApp(t *testing.T) {
	c, ns := start(t)
	domain := ns + ".claimed.test"
	up(t, c, parseApp(t, ns, gatewayApp("first", domain, "/")))
	waitPhase(t, c, ns, "first", v1beta1.ApplicationRunning)

	up(t, c, parseApp(t, ns, gatewayApp("second", domain, "/")))
	app := waitPhase(t, c, ns, "second", v1beta1.ApplicationWorkflowFailed)
	msg := ""
	for _, cond := range app.Status.Conditions {
		if cond.Type == "Rendered" {
			msg = cond.Message
		}
	}
	want := fmt.Sprintf("Ingress %s/second of application %s/second: host %s path / is already routed by Ingress %s/first of application %s/first",
		ns, ns, domain, ns, ns)
	if !strings.Contains(msg, want) {
		t.Fatalf("Rendered condition = %q, want it to say %q", msg, want)
	}
	for _, o := range []client.Object{&appsv1.Deployment{}, &corev1.Service{}, &networkingv1.Ingress{}} {
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "second"}, o); !apierrors.IsNotFound(err) {
			t.Errorf("%T second: err = %v, want not found (nothing applied)", o, err)
		}
	}

	// Where the admission webhook validates apps, the same app is
	// refused when it is applied.
	t.Run("webhook", func(t *testing.T) {
		_, hooked := start(t)
		n := &corev1.Namespace{}
		if err := c.Get(ctx, client.ObjectKey{Name: hooked}, n); err != nil {
			t.Fatal(err)
		}
		n.Labels = map[string]string{webhookLabel: "on"}
		if err := c.Update(ctx, n); err != nil {
			t.Fatal(err)
		}
		var err error
		eventually(t, "the webhook answering", func() (bool, string) {
			err = c.Create(ctx, parseApp(t, hooked, gatewayApp("second", domain, "/")))
			return err == nil || !strings.Contains(err.Error(), "failed calling webhook"), fmt.Sprint(err)
		})
		if err == nil || !strings.Contains(err.Error(), "denied the request") || !strings.Contains(err.Error(), "is already routed by Ingress "+ns+"/first") {
			t.Fatalf("create: err = %v, want the webhook's denial naming Ingress %s/first", err, ns)
		}
	})

	// Another path of the same host is another route.
	up(t, c, parseApp(t, ns, gatewayApp("third", domain, "/api")))
	waitPhase(t, c, ns, "third", v1beta1.ApplicationRunning)
	// The first app, rendered again, still owns its route.
	first := getApp(t, c, ns, "first")
	first.Spec.Components[0].Properties = raw(`{"image": "docker.io/velad/hello:v1", "ports": [{"port": 8000}], "env": [{"name": "A", "value": "1"}]}`)
	if err := c.Update(ctx, first); err != nil {
		t.Fatal(err)
	}
	waitPhase(t, c, ns, "first", v1beta1.ApplicationRunning)
}
