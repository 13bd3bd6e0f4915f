package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/webhook"
)

// webhookLabel marks the namespaces whose Applications the test's webhook
// validates; the other tests create invalid apps on purpose and must see
// them reach the controller.
const webhookLabel = "velad.test/webhook"

// testWebhook is the controller's admission webhook served on loopback
// with a certificate made for the test, registered with the API server by
// URL (there is no Service without a node).
type testWebhook struct {
	port    int
	certDir string
	ca      []byte
}

func newTestWebhook(dir string) (*testWebhook, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "velad-test-webhook"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	certDir := filepath.Join(dir, "webhook")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(certDir, "tls.crt"), certPEM, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(certDir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	return &testWebhook{port: port, certDir: certDir, ca: certPEM}, nil
}

// register is the chart's ValidatingWebhookConfiguration (applications
// and definitions), pointed at
// loopback and limited to labelled namespaces.
func (w *testWebhook) register(ctx context.Context, c client.Client) error {
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "velad-controller-test"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "validate.applications.core.oam.dev",
			AdmissionReviewVersions: []string{"v1"},
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			TimeoutSeconds:          ptr.To(int32(10)),
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{webhookLabel: "on"}},
			ClientConfig: admissionregistrationv1.WebhookClientConfig{
				URL:      ptr.To(fmt.Sprintf("https://127.0.0.1:%d%s", w.port, webhook.ApplicationPath)),
				CABundle: w.ca,
			},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
				Rule: admissionregistrationv1.Rule{APIGroups: []string{"core.oam.dev"}, APIVersions: []string{"v1beta1"},
					Resources: []string{"applications"}, Scope: ptr.To(admissionregistrationv1.NamespacedScope)},
			}},
		}, {
			Name:                    "validate.definitions.core.oam.dev",
			AdmissionReviewVersions: []string{"v1"},
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			TimeoutSeconds:          ptr.To(int32(10)),
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{webhookLabel: "on"}},
			ClientConfig: admissionregistrationv1.WebhookClientConfig{
				URL:      ptr.To(fmt.Sprintf("https://127.0.0.1:%d%s", w.port, webhook.DefinitionPath)),
				CABundle: w.ca,
			},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
				Rule: admissionregistrationv1.Rule{APIGroups: []string{"core.oam.dev"}, APIVersions: []string{"v1beta1"},
					Resources: []string{"componentdefinitions", "traitdefinitions", "policydefinitions", "workflowstepdefinitions"},
					Scope:     ptr.To(admissionregistrationv1.NamespacedScope)},
			}},
		}},
	}
	return c.Create(ctx, cfg)
}

// An application that does not render is refused by the webhook with the
// renderer's message, and a refused update leaves the stored app as it was.
func TestWebhookRefusesInvalidApplications(t *testing.T) {
	c, ns := start(t)
	n := &corev1.Namespace{}
	if err := c.Get(ctx, client.ObjectKey{Name: ns}, n); err != nil {
		t.Fatal(err)
	}
	n.Labels = map[string]string{webhookLabel: "on"}
	if err := c.Update(ctx, n); err != nil {
		t.Fatal(err)
	}

	bad := []struct{ name, yaml, want string }{
		{"unknown type", `
metadata: {name: typo}
spec:
  components:
  - {name: web, type: webserver, properties: {image: nginx:1.0}}
`, `unknown component type "webserver"`},
		{"wrong parameter type", `
metadata: {name: mistyped}
spec:
  components:
  - name: web
    type: webservice
    properties: {image: nginx:1.0}
    traits: [{type: scaler, properties: {replicas: many}}]
`, `trait "scaler": invalid properties for trait "scaler": property "replicas": expected int`},
		{"missing parameter", `
metadata: {name: noimage}
spec:
  components:
  - {name: web, type: webservice, properties: {port: 80}}
`, `property "image" is required`},
		{"ref-objects entry without a type", `
metadata: {name: refnotype}
spec:
  components:
  - {name: web, type: ref-objects, properties: {objects: [{name: web}]}}
`, `render component "web": objects[0]: say which objects: set resource (for example deployment or configmap) or apiVersion and kind`},
	}
	for _, tc := range bad {
		var err error
		// The webhook may take a moment to start serving with the manager.
		eventually(t, "webhook answering for "+tc.name, func() (bool, string) {
			err = c.Create(ctx, parseApp(t, ns, tc.yaml))
			return err == nil || !strings.Contains(err.Error(), "failed calling webhook"), fmt.Sprint(err)
		})
		if err == nil {
			t.Fatalf("%s: created, want refused", tc.name)
		}
		if !strings.Contains(err.Error(), "denied the request") || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: error %q, want the webhook's denial with %q", tc.name, err, tc.want)
		}
	}

	// The same trait twice and a dependsOn cycle are refused before
	// rendering, with what is wrong.
	for _, tc := range []struct{ yaml, want string }{
		{`
metadata: {name: twice}
spec:
  components:
  - {name: web, type: webservice, properties: {image: nginx:1.0}, traits: [{type: scaler}, {type: scaler}]}
`, `component "web" has trait "scaler" twice`},
		{`
metadata: {name: cycle}
spec:
  components:
  - {name: a, type: worker, properties: {image: busybox}, dependsOn: [b]}
  - {name: b, type: worker, properties: {image: busybox}, dependsOn: [a]}
`, `component dependsOn cycle: "a" -> "b" -> "a"`},
	} {
		if err := c.Create(ctx, parseApp(t, ns, tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("create: %v, want refused with %q", err, tc.want)
		}
	}

	// A definition whose CUE does not compile is refused with the
	// compiler's message; once fixed it is admitted.
	def := &v1beta1.ComponentDefinition{}
	def.Name, def.Namespace = "broken", ns
	def.Spec.Schematic = &v1beta1.Schematic{CUE: &v1beta1.CUE{Template: "output: {apiVersion: \"v1\", kind: \"ConfigMap\"\n"}}
	if err := c.Create(ctx, def); err == nil || !strings.Contains(err.Error(), `compile component definition "broken"`) || !strings.Contains(err.Error(), "expected '}'") {
		t.Fatalf("create invalid definition: %v, want refused with the compiler's message", err)
	}
	def.Spec.Schematic.CUE.Template = "output: {apiVersion: \"v1\", kind: \"ConfigMap\"}\n"
	if err := c.Create(ctx, def); err != nil {
		t.Fatalf("create valid definition: %v", err)
	}

	// The webhook renders under the same budget: an app that would make
	// a definition explode is refused, naming the definition.
	bomb := &v1beta1.ComponentDefinition{}
	bomb.Name, bomb.Namespace = "bomb", ns
	bomb.Spec.Schematic = &v1beta1.Schematic{CUE: &v1beta1.CUE{Template: bombTemplate}}
	if err := c.Create(ctx, bomb); err != nil {
		t.Fatal(err)
	}
	// The webhook reads definitions from its cache: until the new one is
	// there it answers "unknown component type" (bounded retry).
	var err error
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		err = c.Create(ctx, parseApp(t, ns, `
metadata: {name: boom}
spec: {components: [{name: cm, type: bomb, properties: {count: 2000000000}}]}
`))
		if err == nil || !strings.Contains(err.Error(), `unknown component type "bomb"`) || time.Now().After(deadline) {
			break
		}
	}
	if err == nil || !strings.Contains(err.Error(), `component definition "bomb" is over its render budget`) {
		t.Fatalf("bomb app: %v, want refused over budget", err)
	}

	// A ref-objects app is admitted though its object is not there yet
	// (it may come later: the app waits for it).
	if err := c.Create(ctx, parseApp(t, ns, `
metadata: {name: refslater}
spec:
  components:
  - {name: web, type: ref-objects, properties: {objects: [{resource: configmap, name: later}]}}
`)); err != nil {
		t.Fatalf("ref-objects app refused: %v", err)
	}

	// A valid app is admitted and runs; a bad change to it is refused and
	// the stored spec is untouched.
	if err := c.Create(ctx, parseApp(t, ns, webApp("good", "nginx:1.0", 0))); err != nil {
		t.Fatal(err)
	}
	waitPhase(t, c, ns, "good", v1beta1.ApplicationRunning)
	app := getApp(t, c, ns, "good")
	app.Spec.Components[0].Type = "webserver"
	if err := c.Update(ctx, app); err == nil || !strings.Contains(err.Error(), `unknown component type "webserver"`) {
		t.Fatalf("bad update: err = %v, want refused", err)
	}
	if got := getApp(t, c, ns, "good").Spec.Components[0].Type; got != "webservice" {
		t.Fatalf("stored component type = %q after a refused update", got)
	}
	// Changes that leave the spec alone are not rendered again.
	app = getApp(t, c, ns, "good")
	app.Labels = map[string]string{"team": "shop"}
	if err := c.Update(ctx, app); err != nil {
		t.Fatalf("label change refused: %v", err)
	}
}
