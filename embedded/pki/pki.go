// Package pki creates and renews the certificates of the embedded control
// plane: three CAs, the service-account key, client certificates for the
// admin and every component, and the API server's serving certificate.
//
// Ensure is idempotent: it keeps what is valid, renews leaf certificates
// that are missing, unreadable, close to expiry or issued for other names,
// and refuses to touch a CA it cannot read (every other file hangs off it).
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/fileutil"
)

// Names of the CAs, keys and certificates in the TLS folder. A name maps
// to <name>.crt and <name>.key.
const (
	ClientCA        = "client-ca"
	ServerCA        = "server-ca"
	RequestHeaderCA = "request-header-ca"

	ServiceAccountKey = "service"

	AdminCert             = "client-admin"
	ControllerManagerCert = "client-controller-manager"
	SchedulerCert         = "client-scheduler"
	KubeletClientCert     = "client-kube-apiserver"
	AuthProxyCert         = "client-auth-proxy"
	APIServerServingCert  = "serving-kube-apiserver"

	// Node certificates, issued when Spec.Node is set.
	KubeletClientCertNode = "client-kubelet"
	KubeletServingCert    = "serving-kubelet"
	KubeProxyCert         = "client-kube-proxy"
	// PodNetworkCert is the pod network's client certificate (it reads
	// every Node, which a kubelet may not).
	PodNetworkCert = "client-pod-network"
	// PodNetworkUser is that certificate's user, bound to a ClusterRole
	// by the server.
	PodNetworkUser = "velad:pod-network"
)

// Node names the node whose kubelet and kube-proxy certificates are issued.
type Node struct {
	Name string
	IPs  []net.IP
}

// Validity and renewal windows.
const (
	CAValidity   = 10 * 365 * 24 * time.Hour
	LeafValidity = 365 * 24 * time.Hour
	// RenewBefore: leaf certificates expiring within this window are
	// renewed at start.
	RenewBefore = 90 * 24 * time.Hour
)

// Spec says where the PKI lives and what the API server must be reachable as.
type Spec struct {
	Dir string
	// APIServerIPs and APIServerDNS are added to the API server's serving
	// certificate beside the defaults (localhost, 127.0.0.1, kubernetes…).
	APIServerIPs  []net.IP
	APIServerDNS  []string
	ClusterDomain string
	// Node, when set, adds the kubelet's and kube-proxy's certificates.
	Node *Node
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// CertFile returns the certificate path of name.
func (s Spec) CertFile(name string) string { return filepath.Join(s.Dir, name+".crt") }

// KeyFile returns the private key path of name.
func (s Spec) KeyFile(name string) string { return filepath.Join(s.Dir, name+".key") }

func (s Spec) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Result lists what Ensure wrote.
type Result struct {
	Created []string
	Renewed []string
}

// leaf describes one certificate signed by one of the CAs.
type leaf struct {
	name   string
	ca     string
	cn     string
	orgs   []string
	server bool
	ips    []net.IP
	dns    []string
}

// request is the identity l asks its CA for.
func (l leaf) request() Request {
	return Request{CA: l.ca, CN: l.cn, Orgs: l.orgs, Server: l.server, IPs: l.ips, DNS: l.dns}
}

// leafTemplate is the certificate every leaf is issued from: r's
// identity, valid from an hour ago for LeafValidity, for client or (with
// r.Server) server authentication.
func (s Spec) leafTemplate(r Request) *x509.Certificate {
	now := s.now()
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(),
		Subject:      pkix.Name{CommonName: r.CN, Organization: r.Orgs},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(LeafValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		IPAddresses:  r.IPs,
		DNSNames:     r.DNS,
	}
	if r.Server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	return tmpl
}

func (s Spec) leaves() []leaf {
	domain := s.ClusterDomain
	if domain == "" {
		domain = config.DefaultClusterDomain
	}
	dns := []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc." + domain}
	ips := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
	for _, ip := range s.APIServerIPs {
		if !slices.ContainsFunc(ips, ip.Equal) {
			ips = append(ips, ip)
		}
	}
	for _, name := range s.APIServerDNS {
		if !slices.Contains(dns, name) {
			dns = append(dns, name)
		}
	}
	leaves := []leaf{
		{name: AdminCert, ca: ClientCA, cn: "system:admin", orgs: []string{"system:masters"}},
		{name: ControllerManagerCert, ca: ClientCA, cn: "system:kube-controller-manager"},
		{name: SchedulerCert, ca: ClientCA, cn: "system:kube-scheduler"},
		{name: KubeletClientCert, ca: ClientCA, cn: "system:apiserver", orgs: []string{"system:masters"}},
		{name: AuthProxyCert, ca: RequestHeaderCA, cn: "system:auth-proxy"},
		{name: APIServerServingCert, ca: ServerCA, cn: "kube-apiserver", server: true, ips: ips, dns: dns},
	}
	if n := s.Node; n != nil {
		nodeIPs := []net.IP{net.ParseIP("127.0.0.1")}
		for _, ip := range n.IPs {
			if !slices.ContainsFunc(nodeIPs, ip.Equal) {
				nodeIPs = append(nodeIPs, ip)
			}
		}
		leaves = append(leaves,
			leaf{name: KubeletClientCertNode, ca: ClientCA, cn: "system:node:" + n.Name, orgs: []string{"system:nodes"}},
			leaf{name: KubeletServingCert, ca: ServerCA, cn: n.Name, server: true, ips: nodeIPs, dns: []string{n.Name, "localhost"}},
			leaf{name: KubeProxyCert, ca: ClientCA, cn: "system:kube-proxy"},
			leaf{name: PodNetworkCert, ca: ClientCA, cn: PodNetworkUser},
		)
	}
	return leaves
}

// Ensure creates what is missing and renews what is due.
func Ensure(s Spec) (Result, error) {
	var res Result
	if err := fileutil.MkdirAll(s.Dir, config.PrivateDirMode); err != nil {
		return res, fmt.Errorf("create PKI folder: %w", err)
	}
	cas := map[string]*keyPair{}
	for _, name := range []string{ClientCA, ServerCA, RequestHeaderCA} {
		ca, created, err := s.ensureCA(name)
		if err != nil {
			return res, err
		}
		if created {
			res.Created = append(res.Created, name)
		}
		cas[name] = ca
	}
	created, err := s.ensureServiceAccountKey()
	if err != nil {
		return res, err
	}
	if created {
		res.Created = append(res.Created, ServiceAccountKey)
	}
	for _, l := range s.leaves() {
		state, err := s.ensureLeaf(l, cas[l.ca])
		if err != nil {
			return res, err
		}
		switch state {
		case leafCreated:
			res.Created = append(res.Created, l.name)
		case leafRenewed:
			res.Renewed = append(res.Renewed, l.name)
		}
	}
	return res, nil
}

type keyPair struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
}

// ensureCA loads the CA name or creates it if neither file exists. A CA
// that exists but cannot be read is an error: regenerating it would
// invalidate every certificate and kubeconfig handed out.
func (s Spec) ensureCA(name string) (*keyPair, bool, error) {
	certPath, keyPath := s.CertFile(name), s.KeyFile(name)
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	if errors.Is(certErr, os.ErrNotExist) && errors.Is(keyErr, os.ErrNotExist) {
		kp, err := s.createCA(name)
		return kp, true, err
	}
	kp, err := loadKeyPair(certPath, keyPath)
	if err != nil {
		return nil, false, fmt.Errorf("CA %s is unreadable (%v); restore %s and %s from a backup, or remove %s to start a new cluster identity (all kubeconfigs must then be fetched again)", name, err, certPath, keyPath, s.Dir)
	}
	if !kp.cert.IsCA {
		return nil, false, fmt.Errorf("CA %s: %s is not a CA certificate; restore it from a backup", name, certPath)
	}
	return kp, false, nil
}

func (s Spec) createCA(name string) (*keyPair, error) {
	key, err := newKey()
	if err != nil {
		return nil, fmt.Errorf("create CA %s: %w", name, err)
	}
	now := s.now()
	tmpl := &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{CommonName: fmt.Sprintf("velad-%s@%d", name, now.Unix())},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create CA %s: %w", name, err)
	}
	return s.writePair(name, der, key)
}

func (s Spec) ensureServiceAccountKey() (bool, error) {
	path := s.KeyFile(ServiceAccountKey)
	data, err := os.ReadFile(path)
	if err == nil {
		if _, err := parseKey(data); err != nil {
			return false, fmt.Errorf("service-account key %s is unreadable (%v); restore it from a backup, or remove it to issue a new one (existing service-account tokens then stop working)", path, err)
		}
		return false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("read service-account key: %w", err)
	}
	key, err := newKey()
	if err != nil {
		return false, fmt.Errorf("create service-account key: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return false, fmt.Errorf("create service-account key: %w", err)
	}
	if err := fileutil.WriteAtomic(path, keyPEM, config.SecretFileMode); err != nil {
		return false, fmt.Errorf("create service-account key: %w", err)
	}
	return true, nil
}

type leafState int

const (
	leafKept leafState = iota
	leafCreated
	leafRenewed
)

func (s Spec) ensureLeaf(l leaf, ca *keyPair) (leafState, error) {
	kp, err := loadKeyPair(s.CertFile(l.name), s.KeyFile(l.name))
	state := leafCreated
	if err == nil {
		if s.leafCurrent(l, kp, ca) {
			return leafKept, nil
		}
		state = leafRenewed
	} else if !errors.Is(err, os.ErrNotExist) {
		// Unreadable leaf: it hangs off a CA we have, so issue it anew.
		state = leafRenewed
	}
	key, err := newKey()
	if err != nil {
		return state, fmt.Errorf("create certificate %s: %w", l.name, err)
	}
	tmpl := s.leafTemplate(l.request())
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return state, fmt.Errorf("create certificate %s: %w", l.name, err)
	}
	if _, err := s.writePair(l.name, der, key); err != nil {
		return state, err
	}
	return state, nil
}

// leafCurrent reports whether kp is still the certificate l describes:
// signed by ca, not due for renewal, same subject and names.
func (s Spec) leafCurrent(l leaf, kp *keyPair, ca *keyPair) bool {
	c := kp.cert
	if c.CheckSignatureFrom(ca.cert) != nil {
		return false
	}
	if s.now().Add(RenewBefore).After(c.NotAfter) {
		return false
	}
	if c.Subject.CommonName != l.cn || !slices.Equal(c.Subject.Organization, l.orgs) {
		return false
	}
	if !slices.Equal(c.DNSNames, l.dns) || len(c.IPAddresses) != len(l.ips) {
		return false
	}
	for i := range l.ips {
		if !c.IPAddresses[i].Equal(l.ips[i]) {
			return false
		}
	}
	return true
}

// writePair writes the key first and the certificate last, each
// atomically, so a crash in between leaves a pair that fails the key
// match and is issued again.
func (s Spec) writePair(name string, der []byte, key crypto.Signer) (*keyPair, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", name, err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", name, err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := fileutil.WriteAtomic(s.KeyFile(name), keyPEM, config.SecretFileMode); err != nil {
		return nil, err
	}
	if err := fileutil.WriteAtomic(s.CertFile(name), certPEM, config.PublicFileMode); err != nil {
		return nil, err
	}
	return &keyPair{cert: cert, key: key, certPEM: certPEM}, nil
}

func loadKeyPair(certPath, keyPath string) (*keyPair, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certPath, err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%s does not belong to %s", keyPath, certPath)
	}
	return &keyPair{cert: cert, key: key, certPEM: certPEM}, nil
}

func parseCert(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate found")
	}
	return x509.ParseCertificate(block.Bytes)
}

func parseKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM private key found")
	}
	switch block.Type {
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		signer, ok := k.(crypto.Signer)
		if !ok {
			return nil, errors.New("unsupported private key type")
		}
		return signer, nil
	}
	return nil, fmt.Errorf("unexpected PEM block %q", block.Type)
}

func newKey() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

func encodeKey(key crypto.Signer) ([]byte, error) {
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("unsupported private key type")
	}
	der, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

func newSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		// crypto/rand never fails on Linux; a fixed serial is still valid.
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

// ReadCert returns the PEM bytes of the certificate name.
func (s Spec) ReadCert(name string) ([]byte, error) { return os.ReadFile(s.CertFile(name)) }

// ReadKey returns the PEM bytes of the key name.
func (s Spec) ReadKey(name string) ([]byte, error) { return os.ReadFile(s.KeyFile(name)) }
