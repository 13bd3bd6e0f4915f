package pki

import (
	"crypto/x509"
	"net"
	"slices"
	"testing"
)

func TestSignCSRUsesTheServersIdentityNotTheRequests(t *testing.T) {
	s := Spec{Dir: t.TempDir()}
	if _, err := Ensure(s); err != nil {
		t.Fatal(err)
	}
	csr, key, err := NewCSR("system:masters-wannabe")
	if err != nil {
		t.Fatal(err)
	}
	reqs := NodeRequests("edge-1", []net.IP{net.ParseIP("198.18.0.5")})
	certPEM, err := s.SignCSR(csr, reqs[KubeletClientCertNode])
	if err != nil {
		t.Fatal(err)
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "system:node:edge-1" || !slices.Equal(cert.Subject.Organization, []string{"system:nodes"}) {
		t.Errorf("subject %v, want system:node:edge-1 in system:nodes", cert.Subject)
	}
	ca, _ := loadKeyPair(s.CertFile(ClientCA), s.KeyFile(ClientCA))
	if err := cert.CheckSignatureFrom(ca.cert); err != nil {
		t.Errorf("not signed by the client CA: %v", err)
	}
	if !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Errorf("ext key usage %v, want client auth", cert.ExtKeyUsage)
	}
	agent := Spec{Dir: t.TempDir()}
	if err := agent.WriteSigned(KubeletClientCertNode, certPEM, key); err != nil {
		t.Fatalf("the signed certificate does not match the node's key: %v", err)
	}
	_, otherKey, _ := NewCSR("x")
	if err := agent.WriteSigned(KubeletClientCertNode, certPEM, otherKey); err == nil {
		t.Error("a certificate for another key was stored")
	}

	serving, err := s.SignCSR(csr, reqs[KubeletServingCert])
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := parseCert(serving)
	if !slices.ContainsFunc(sc.IPAddresses, net.ParseIP("198.18.0.5").Equal) || !slices.Contains(sc.DNSNames, "edge-1") {
		t.Errorf("serving certificate names %v %v lack the node", sc.IPAddresses, sc.DNSNames)
	}
	if _, err := s.SignCSR([]byte("not a csr"), reqs[KubeProxyCert]); err == nil {
		t.Error("garbage was signed")
	}
	if _, err := s.SignCSR(csr, Request{CA: RequestHeaderCA, CN: "x"}); err == nil {
		t.Error("the request-header CA signed a node certificate")
	}
}
