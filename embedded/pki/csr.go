package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net"

	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/fileutil"
)

// Request is what a CA signs for a node: the identity comes from the
// server (the request only contributes its public key).
type Request struct {
	// CA is ClientCA or ServerCA.
	CA     string
	CN     string
	Orgs   []string
	Server bool
	IPs    []net.IP
	DNS    []string
}

// NodeRequests are the certificates an agent's node needs: the kubelet's
// client and serving certificates and kube-proxy's client certificate,
// keyed by the names they get in the agent's TLS folder.
func NodeRequests(node string, ips []net.IP) map[string]Request {
	servingIPs := []net.IP{net.ParseIP("127.0.0.1")}
	servingIPs = append(servingIPs, ips...)
	return map[string]Request{
		KubeletClientCertNode: {CA: ClientCA, CN: "system:node:" + node, Orgs: []string{"system:nodes"}},
		KubeletServingCert:    {CA: ServerCA, CN: node, Server: true, IPs: servingIPs, DNS: []string{node, "localhost"}},
		KubeProxyCert:         {CA: ClientCA, CN: "system:kube-proxy"},
		PodNetworkCert:        {CA: ClientCA, CN: PodNetworkUser},
	}
}

// SignCSR checks the certificate request csrPEM (PEM, self-signed by its
// key) and returns a certificate for its key with req's identity, signed
// by req.CA from the TLS folder.
func (s Spec) SignCSR(csrPEM []byte, req Request) ([]byte, error) {
	block, _ := pem.Decode(csrPEM)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("no PEM certificate request found")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse certificate request: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("certificate request signature: %w", err)
	}
	if req.CA != ClientCA && req.CA != ServerCA {
		return nil, fmt.Errorf("no CA %q signs node certificates", req.CA)
	}
	ca, err := loadKeyPair(s.CertFile(req.CA), s.KeyFile(req.CA))
	if err != nil {
		return nil, fmt.Errorf("load CA %s: %w", req.CA, err)
	}
	tmpl := s.leafTemplate(req)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, csr.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate for %s: %w", req.CN, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// NewCSR makes a key and a certificate request for it; the key stays on
// the node.
func NewCSR(cn string) (csrPEM, keyPEM []byte, err error) {
	key, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, key)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate request: %w", err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), keyPEM, nil
}

// WriteSigned stores a certificate the server signed with its key under
// name (key first, as writePair does); it checks that they match.
func (s Spec) WriteSigned(name string, certPEM, keyPEM []byte) error {
	cert, err := parseCert(certPEM)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		return fmt.Errorf("%s: the signed certificate is not for this node's key", name)
	}
	if err := fileutil.MkdirAll(s.Dir, config.PrivateDirMode); err != nil {
		return err
	}
	if err := fileutil.WriteAtomic(s.KeyFile(name), keyPEM, config.SecretFileMode); err != nil {
		return err
	}
	return fileutil.WriteAtomic(s.CertFile(name), certPEM, config.PublicFileMode)
}

// WriteCA stores a CA certificate (no key) under name.
func (s Spec) WriteCA(name string, certPEM []byte) error {
	if _, err := parseCert(certPEM); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := fileutil.MkdirAll(s.Dir, config.PrivateDirMode); err != nil {
		return err
	}
	return fileutil.WriteAtomic(s.CertFile(name), certPEM, config.PublicFileMode)
}
