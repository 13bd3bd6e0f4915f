package controller_test

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

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/velad-dev/velad/operators/rollout/api/v1alpha1"
	"github.com/velad-dev/velad/operators/rollout/api/v1beta1"
	"github.com/velad-dev/velad/operators/rollout/manager"
)

// TestV1alpha1 writes Rollouts as v1alpha1 through the API server, which
// converts them with the controller's /convert (served on loopback; the
// CRD's Service reference becomes a URL, its caBundle is set by the
// controller as it starts): stored as v1beta1, read back in both
// versions, a step driven and approved in v1alpha1; bad steps refused.
func TestV1alpha1(t *testing.T) {
	certDir := webhookCerts(t)
	port := freePort(t)
	c := setup(t, func(o *manager.Options, crd *apiextensionsv1.CustomResourceDefinition) {
		o.WebhookPort, o.CertDir = port, certDir
		if crd.Name == manager.CRDName {
			cc := crd.Spec.Conversion.Webhook.ClientConfig
			cc.Service = nil
			cc.URL = ptr.To(fmt.Sprintf("https://127.0.0.1:%d/convert", port))
		}
	})
	ctx := context.Background()
	a := newApp(t, c, "alpha", []v1beta1.CanaryStep{step("10%", nil)}, 600)
	must(t, c.Delete(ctx, &v1beta1.Rollout{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "alpha"}}))
	eventually(t, "the v1beta1 Rollout gone", func() (bool, string) {
		err := c.Get(ctx, types.NamespacedName{Namespace: "alpha", Name: "web"}, &v1beta1.Rollout{})
		return err != nil, "still there"
	})

	alpha := &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "alpha"},
		Spec: v1alpha1.RolloutSpec{
			ObjectRef: v1alpha1.ObjectRef{WorkloadRef: &v1alpha1.WorkloadRef{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}},
			Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
				Steps: []v1alpha1.CanaryStep{{Weight: ptr.To[int32](20)}, {Weight: ptr.To[int32](100), Pause: v1alpha1.RolloutPause{Duration: ptr.To[int32](0)}}},
				TrafficRoutings: []v1alpha1.TrafficRoutingRef{{
					Service: "web", GracePeriodSeconds: 1,
					Gateway: &v1alpha1.GatewayTrafficRouting{HTTPRouteName: ptr.To("web")},
				}},
			}},
		},
	}
	// The first v1alpha1 request may come before the CA is in the CRD.
	eventually(t, "v1alpha1 Rollout created", func() (bool, string) {
		err := c.Create(ctx, alpha.DeepCopy())
		return err == nil, fmt.Sprint(err)
	})
	beta := a.waitPhase(v1beta1.PhaseHealthy, "")
	if got := fmt.Sprintf("%s %s %s", beta.Spec.WorkloadRef.Name, *beta.Spec.Strategy.Canary.Steps[0].Traffic, *beta.Spec.Strategy.Canary.Steps[1].Traffic); got != "web 20% 100%" {
		t.Errorf("as v1beta1: %q, want \"web 20%% 100%%\"", got)
	}
	if !beta.Spec.Strategy.Canary.EnableExtraWorkloadForCanary {
		t.Error("as v1beta1: enableExtraWorkloadForCanary false")
	}

	a.setImage("docker.io/velad/hello:v2")
	eventually(t, "step 1 paused, read as v1alpha1", func() (bool, string) {
		got := &v1alpha1.Rollout{}
		must(t, c.Get(ctx, types.NamespacedName{Namespace: "alpha", Name: "web"}, got))
		cs := got.Status.CanaryStatus
		if cs == nil {
			return false, "no canaryStatus"
		}
		if _, found := got.Annotations[v1alpha1.AnnotationV1beta1]; !found {
			return false, "no v1beta1 annotation (currentTraffic)"
		}
		return cs.CurrentStepIndex == 1 && cs.CurrentStepState == v1beta1.StepPaused && *got.Spec.Strategy.Canary.Steps[0].Weight == 20,
			fmt.Sprintf("%d/%s", cs.CurrentStepIndex, cs.CurrentStepState)
	})
	a.wantWeights(map[string]int64{"web": 80, "web-canary": 20})
	// Approve as kubectl-kruise does, in v1alpha1.
	got := &v1alpha1.Rollout{}
	must(t, c.Get(ctx, types.NamespacedName{Namespace: "alpha", Name: "web"}, got))
	got.Status.CanaryStatus.CurrentStepState = v1beta1.StepReady
	must(t, c.Status().Update(ctx, got))
	beta = a.waitPhase(v1beta1.PhaseHealthy, "completed")
	if beta.Annotations[v1alpha1.AnnotationV1beta1] != "" {
		t.Errorf("the v1beta1 annotation reached storage: %v", beta.Annotations)
	}

	for _, tc := range []struct {
		name    string
		weights []int32
		want    string
	}{
		{"over 100", []int32{120}, "less than or equal to 100"},
		{"out of order", []int32{50, 20}, "steps are out of order"},
	} {
		bad := alpha.DeepCopy()
		bad.Name = "bad"
		bad.Spec.Strategy.Canary.Steps = nil
		for _, w := range tc.weights {
			bad.Spec.Strategy.Canary.Steps = append(bad.Spec.Strategy.Canary.Steps, v1alpha1.CanaryStep{Weight: ptr.To(w)})
		}
		err := c.Create(ctx, bad)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: create = %v, want refused with %q", tc.name, err, tc.want)
		}
	}
}

// webhookCerts writes a CA and a serving certificate for 127.0.0.1 (as
// the chart makes them for the Service) into a temporary directory.
func webhookCerts(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	for name, block := range map[string]*pem.Block{
		"ca.crt":  {Type: "CERTIFICATE", Bytes: caDER},
		"tls.crt": {Type: "CERTIFICATE", Bytes: der},
		"tls.key": {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
