package pki

import (
	"crypto/x509"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func newSpec(t *testing.T) Spec {
	t.Helper()
	return Spec{
		Dir:           t.TempDir() + "/tls",
		APIServerIPs:  []net.IP{net.ParseIP("10.43.0.1"), net.ParseIP("192.0.2.10")},
		APIServerDNS:  []string{"velad.example.test"},
		ClusterDomain: "cluster.local",
	}
}

func mustEnsure(t *testing.T, s Spec) Result {
	t.Helper()
	res, err := Ensure(s)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	return res
}

func load(t *testing.T, s Spec, name string) *x509.Certificate {
	t.Helper()
	kp, err := loadKeyPair(s.CertFile(name), s.KeyFile(name))
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return kp.cert
}

func TestChainsVerify(t *testing.T) {
	s := newSpec(t)
	mustEnsure(t, s)
	cases := []struct {
		leaf, ca string
		usage    x509.ExtKeyUsage
		cn       string
		org      string
	}{
		{AdminCert, ClientCA, x509.ExtKeyUsageClientAuth, "system:admin", "system:masters"},
		{ControllerManagerCert, ClientCA, x509.ExtKeyUsageClientAuth, "system:kube-controller-manager", ""},
		{SchedulerCert, ClientCA, x509.ExtKeyUsageClientAuth, "system:kube-scheduler", ""},
		{KubeletClientCert, ClientCA, x509.ExtKeyUsageClientAuth, "system:apiserver", "system:masters"},
		{AuthProxyCert, RequestHeaderCA, x509.ExtKeyUsageClientAuth, "system:auth-proxy", ""},
		{APIServerServingCert, ServerCA, x509.ExtKeyUsageServerAuth, "kube-apiserver", ""},
	}
	for _, tc := range cases {
		t.Run(tc.leaf, func(t *testing.T) {
			pool := x509.NewCertPool()
			pool.AddCert(load(t, s, tc.ca))
			c := load(t, s, tc.leaf)
			if _, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{tc.usage}}); err != nil {
				t.Fatalf("%s does not verify against %s: %v", tc.leaf, tc.ca, err)
			}
			if c.Subject.CommonName != tc.cn {
				t.Errorf("CN = %q, want %q", c.Subject.CommonName, tc.cn)
			}
			if tc.org != "" && !slices.Contains(c.Subject.Organization, tc.org) {
				t.Errorf("O = %v, want %q", c.Subject.Organization, tc.org)
			}
			// Each leaf is signed by exactly its own CA.
			for _, other := range []string{ClientCA, ServerCA, RequestHeaderCA} {
				if other != tc.ca && c.CheckSignatureFrom(load(t, s, other)) == nil {
					t.Errorf("%s also verifies against %s", tc.leaf, other)
				}
			}
		})
	}
}

func TestNodeCertificates(t *testing.T) {
	s := newSpec(t)
	s.Node = &Node{Name: "edge-1", IPs: []net.IP{net.ParseIP("192.0.2.7")}}
	mustEnsure(t, s)
	client := load(t, s, KubeletClientCertNode)
	if client.Subject.CommonName != "system:node:edge-1" || !slices.Equal(client.Subject.Organization, []string{"system:nodes"}) {
		t.Errorf("kubelet client subject %v", client.Subject)
	}
	serving := load(t, s, KubeletServingCert)
	for _, name := range []string{"edge-1", "localhost", "127.0.0.1", "192.0.2.7"} {
		if err := serving.VerifyHostname(name); err != nil {
			t.Errorf("kubelet serving cert: %v", err)
		}
	}
	if load(t, s, KubeProxyCert).Subject.CommonName != "system:kube-proxy" {
		t.Error("kube-proxy CN")
	}
	// Renaming the node reissues its certificates only.
	s.Node.Name = "edge-2"
	res := mustEnsure(t, s)
	if !slices.Equal(res.Renewed, []string{KubeletClientCertNode, KubeletServingCert}) {
		t.Errorf("renamed node renewed %v", res.Renewed)
	}
}

func TestServingCertSANs(t *testing.T) {
	s := newSpec(t)
	mustEnsure(t, s)
	c := load(t, s, APIServerServingCert)
	for _, name := range []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost", "velad.example.test"} {
		if err := c.VerifyHostname(name); err != nil {
			t.Errorf("serving cert does not cover %s: %v", name, err)
		}
	}
	for _, ip := range []string{"127.0.0.1", "10.43.0.1", "192.0.2.10"} {
		if err := c.VerifyHostname(ip); err != nil {
			t.Errorf("serving cert does not cover %s: %v", ip, err)
		}
	}
	if err := c.VerifyHostname("203.0.113.9"); err == nil {
		t.Error("serving cert covers an address it was not asked for")
	}
}

func TestEnsureIsIdempotent(t *testing.T) {
	s := newSpec(t)
	first := mustEnsure(t, s)
	if len(first.Created) != 10 {
		t.Fatalf("first Ensure created %v, want 3 CAs + SA key + 6 leaves", first.Created)
	}
	before := snapshot(t, s.Dir)
	second := mustEnsure(t, s)
	if len(second.Created)+len(second.Renewed) != 0 {
		t.Fatalf("second Ensure wrote %+v, want nothing", second)
	}
	if after := snapshot(t, s.Dir); !mapsEqual(before, after) {
		t.Fatal("second Ensure changed files on disk")
	}
}

func TestFileModes(t *testing.T) {
	s := newSpec(t)
	mustEnsure(t, s)
	fi, err := os.Stat(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("PKI dir mode %o, want 700", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(s.Dir)
	for _, e := range entries {
		info, _ := e.Info()
		want := os.FileMode(0o644)
		if strings.HasSuffix(e.Name(), ".key") {
			want = 0o600
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s mode %o, want %o", e.Name(), info.Mode().Perm(), want)
		}
	}
}

func TestRenewal(t *testing.T) {
	cases := []struct {
		name        string
		change      func(s *Spec)
		wantRenewed []string
	}{
		{
			name:        "nothing changed",
			change:      func(s *Spec) {},
			wantRenewed: nil,
		},
		{
			name:        "new SAN renews only the serving cert",
			change:      func(s *Spec) { s.APIServerDNS = append(s.APIServerDNS, "extra.example.test") },
			wantRenewed: []string{APIServerServingCert},
		},
		{
			name: "within 90 days of expiry renews every leaf",
			change: func(s *Spec) {
				s.Now = func() time.Time { return time.Now().Add(LeafValidity - 89*24*time.Hour) }
			},
			wantRenewed: []string{AdminCert, ControllerManagerCert, SchedulerCert, KubeletClientCert, AuthProxyCert, APIServerServingCert},
		},
		{
			name: "91 days before expiry keeps them",
			change: func(s *Spec) {
				s.Now = func() time.Time { return time.Now().Add(LeafValidity - 91*24*time.Hour) }
			},
			wantRenewed: nil,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSpec(t)
			mustEnsure(t, s)
			caBefore, _ := s.ReadCert(ClientCA)
			tc.change(&s)
			res := mustEnsure(t, s)
			if !slices.Equal(res.Renewed, tc.wantRenewed) {
				t.Fatalf("renewed %v, want %v", res.Renewed, tc.wantRenewed)
			}
			if caAfter, _ := s.ReadCert(ClientCA); string(caAfter) != string(caBefore) {
				t.Fatal("a CA was replaced")
			}
		})
	}
}

func TestCorruptFiles(t *testing.T) {
	cases := []struct {
		name    string
		file    func(s Spec) string
		wantErr string // empty: Ensure repairs it
	}{
		{"corrupt CA cert", func(s Spec) string { return s.CertFile(ClientCA) }, "CA client-ca is unreadable"},
		{"corrupt CA key", func(s Spec) string { return s.KeyFile(ServerCA) }, "CA server-ca is unreadable"},
		{"corrupt SA key", func(s Spec) string { return s.KeyFile(ServiceAccountKey) }, "service-account key"},
		{"corrupt leaf cert", func(s Spec) string { return s.CertFile(AdminCert) }, ""},
		{"corrupt leaf key", func(s Spec) string { return s.KeyFile(APIServerServingCert) }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSpec(t)
			mustEnsure(t, s)
			if err := os.WriteFile(tc.file(s), []byte("garbage"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Ensure(s)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Ensure should repair a leaf, got %v", err)
				}
				// A repaired leaf still chains to its CA.
				for _, l := range s.leaves() {
					pool := x509.NewCertPool()
					pool.AddCert(load(t, s, l.ca))
					if _, err := load(t, s, l.name).Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
						t.Errorf("%s: %v", l.name, err)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
			if got, _ := os.ReadFile(tc.file(s)); string(got) != "garbage" {
				t.Fatal("Ensure overwrote a file it could not read")
			}
		})
	}
}

func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, _ := os.ReadFile(dir + "/" + e.Name())
		out[e.Name()] = string(data)
	}
	return out
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
