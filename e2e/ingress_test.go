package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestIngress installs velad with the ingress addon and reaches apps
// from the node's loopback by host name: through the gateway trait's
// Ingress, through an HTTPRoute on the default Gateway (with weighted
// backends, as the rollout addon shifts canary traffic), over TLS with a
// certificate the test makes; disabling the addon removes Traefik and
// keeps the apps' Ingresses, enabling it again serves them.
func TestIngress(t *testing.T) {
	v := installVelad(t)
	bin, dir, dataDir, kubeconfig := v.bin, v.dir, v.dataDir, v.kubeconfig
	cs := nodeClient(t, kubeconfig)
	ctx := context.Background()
	kubectl := func(args ...string) string {
		return runOK(t, time.Minute, bin, append([]string{"kubectl", "--kubeconfig", kubeconfig}, args...)...)
	}
	apply := func(name, yaml string) {
		f := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(f, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		runOK(t, 3*time.Minute, bin, "up", "-f", f, "--kubeconfig", kubeconfig, "--wait", "--timeout", "2m")
	}

	// The ingress addon is on by default.
	if out := runOK(t, time.Minute, bin, "status", "--data-dir", dataDir); !strings.Contains(out, "✓ ingress") || !strings.Contains(out, "✓ addon ingress") {
		t.Fatalf("velad status shows no healthy ingress:\n%s", out)
	}

	// The gateway trait, as KubeVela users write it.
	apply("hello", helloApp("hello", "gateway", "{domain: hello.local, http: {\"/\": 8000}}"))
	assertServed(t, "http://127.0.0.1/", "hello.local", "Hello World from hello-")
	if out := runOK(t, time.Minute, bin, "status", "hello", "--kubeconfig", kubeconfig); !strings.Contains(out, "Visiting URL: http://hello.local") {
		t.Errorf("velad status hello does not show the URL:\n%s", out)
	}
	if out := runOK(t, time.Minute, bin, "addon", "status", "ingress", "--kubeconfig", kubeconfig); !regexp.MustCompile(`Ingress\s+default/hello\s+hello\s+hello\.local`).MatchString(out) {
		t.Errorf("velad addon status ingress does not list the hello route:\n%s", out)
	}

	// TLS from a Secret the Ingress names: the certificate served is ours.
	cert := selfSigned(t, "secure.local")
	if _, err := cs.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "secure-tls"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": cert.crt, "tls.key": cert.key},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	apply("secure", helloApp("secure", "gateway", "{domain: secure.local, secretName: secure-tls, http: {\"/\": 8000}}"))
	assertTLS(t, "secure.local", cert.der, "Hello World from secure-")

	// An HTTPRoute on the default Gateway (the addon's http-route trait).
	apply("routed", helloApp("routed", "http-route", "{domains: [routed.local], rules: [{port: 8000}]}"))
	assertServed(t, "http://127.0.0.1/", "routed.local", "Hello World from routed-")

	// Backend weights of an HTTPRoute decide where requests go: all to
	// one backend, then all to the other.
	weighted := func(helloWeight, routedWeight int) string {
		return fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: split, namespace: default}
spec:
  parentRefs: [{name: traefik-gateway, namespace: vela-system, sectionName: web}]
  hostnames: [split.local]
  rules:
  - backendRefs:
    - {name: hello, port: 8000, weight: %d}
    - {name: routed, port: 8000, weight: %d}
`, helloWeight, routedWeight)
	}
	for _, tc := range []struct {
		hello, routed int
		want          string
	}{{100, 0, "hello-"}, {0, 100, "routed-"}} {
		f := filepath.Join(dir, "split.yaml")
		if err := os.WriteFile(f, []byte(weighted(tc.hello, tc.routed)), 0o644); err != nil {
			t.Fatal(err)
		}
		kubectl("apply", "-f", f)
		assertAllFrom(t, "split.local", "Hello World from "+tc.want, 20)
	}

	// Disabling the addon removes Traefik; the apps' Ingresses stay.
	// --force: apps use the addon's http-route trait.
	runOK(t, 3*time.Minute, bin, "addon", "disable", "ingress", "--force", "--kubeconfig", kubeconfig)
	waitFor(t, 2*time.Minute, "Traefik gone", func() bool {
		_, err := cs.AppsV1().Deployments("vela-system").Get(ctx, "traefik", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	for _, name := range []string{"hello", "secure"} {
		if _, err := cs.NetworkingV1().Ingresses("default").Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Fatalf("Ingress %s after the addon was disabled: %v", name, err)
		}
	}
	waitFor(t, time.Minute, "port 80 no longer served", func() bool {
		_, err := get("http://127.0.0.1/", "hello.local")
		return err != nil
	})
	// Enabled again, it serves the same apps.
	runOK(t, 3*time.Minute, bin, "addon", "enable", "ingress", "--kubeconfig", kubeconfig)
	assertServed(t, "http://127.0.0.1/", "hello.local", "Hello World from hello-")
	assertServed(t, "http://127.0.0.1/", "routed.local", "Hello World from routed-")
}

// helloApp is a webservice on the hello image with one trait.
func helloApp(name, trait, properties string) string {
	return fmt.Sprintf(`apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: %s}
spec:
  components:
  - name: %s
    type: webservice
    properties:
      image: velad/hello:v1
      ports: [{port: 8000, expose: true}]
    traits:
    - type: %s
      properties: %s
`, name, name, trait, properties)
}

// get fetches url with the Host header host.
func get(url, host string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	req.Host = host
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("%s: %s", resp.Status, body)
	}
	return string(body), err
}

// assertServed waits (bounded) until url with Host host answers want.
func assertServed(t *testing.T, url, host, want string) {
	t.Helper()
	var last string
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		body, err := get(url, host)
		if err == nil && strings.Contains(body, want) {
			return
		}
		last = fmt.Sprint(body, err)
		time.Sleep(time.Second)
	}
	t.Fatalf("GET %s (Host: %s): want %q, last: %s", url, host, want, last)
}

// assertAllFrom waits until n requests in a row to host answer want.
func assertAllFrom(t *testing.T, host, want string, n int) {
	t.Helper()
	var last string
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		ok := 0
		for ; ok < n; ok++ {
			body, err := get("http://127.0.0.1/", host)
			if err != nil || !strings.Contains(body, want) {
				last = fmt.Sprint(body, err)
				break
			}
		}
		if ok == n {
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("Host %s: want every answer from %q, last: %s", host, want, last)
}

type testCert struct{ crt, key, der []byte }

// selfSigned makes a certificate for host.
func selfSigned(t *testing.T, host string) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: host},
		DNSNames: []string{host}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return testCert{
		crt: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		der: der,
	}
}

// assertTLS connects to 127.0.0.1:443 as host (curl -k --resolve
// host:443:127.0.0.1): the certificate served must be der, and the app
// must answer want.
func assertTLS(t *testing.T, host string, der []byte, want string) {
	t.Helper()
	var last string
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		var served []byte
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:443")
			},
			TLSClientConfig: &tls.Config{ServerName: host, InsecureSkipVerify: true,
				VerifyConnection: func(cs tls.ConnectionState) error {
					served = cs.PeerCertificates[0].Raw
					return nil
				}},
		}}
		resp, err := c.Get("https://" + host + "/")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(served) == string(der) && strings.Contains(string(body), want) {
				return
			}
			last = fmt.Sprintf("%s, our certificate: %v", body, string(served) == string(der))
		} else {
			last = err.Error()
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("https://%s via 127.0.0.1:443: %s", host, last)
}
