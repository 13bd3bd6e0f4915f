package source

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"helm.sh/helm/v3/pkg/registry"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// MaxDownloadSize bounds an index.yaml or chart archive fetched from a
// repository.
const MaxDownloadSize = 64 << 20

// Credentials are what a HelmRepository's Secrets say about how to reach
// it: basic auth and TLS.
type Credentials struct {
	Username, Password string
	TLS                *tls.Config // nil: the system roots
}

// AuthError is a Secret that is missing or unusable (Flux's reason
// AuthenticationFailed).
type AuthError struct{ Err error }

func (e *AuthError) Error() string { return e.Err.Error() }
func (e *AuthError) Unwrap() error { return e.Err }

// LoadCredentials reads spec.secretRef (username/password; for oci also a
// dockerconfigjson; the deprecated certFile/keyFile/caFile) and
// spec.certSecretRef (tls.crt, tls.key, ca.crt).
func LoadCredentials(ctx context.Context, r client.Reader, repo *sourcev1.HelmRepository) (*Credentials, error) {
	creds := &Credentials{}
	var certPEM, keyPEM, caPEM []byte
	if ref := repo.Spec.SecretRef; ref != nil {
		sec, err := getSecret(ctx, r, repo.Namespace, ref.Name)
		if err != nil {
			return nil, err
		}
		if err := basicAuth(sec, repo.Spec.URL, creds); err != nil {
			return nil, &AuthError{err}
		}
		certPEM, keyPEM, caPEM = sec.Data["certFile"], sec.Data["keyFile"], sec.Data["caFile"]
	}
	if ref := repo.Spec.CertSecretRef; ref != nil {
		sec, err := getSecret(ctx, r, repo.Namespace, ref.Name)
		if err != nil {
			return nil, err
		}
		certPEM, keyPEM, caPEM = sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey], sec.Data["ca.crt"]
	}
	if len(certPEM)+len(keyPEM)+len(caPEM) > 0 {
		cfg, err := tlsConfig(certPEM, keyPEM, caPEM)
		if err != nil {
			return nil, &AuthError{err}
		}
		creds.TLS = cfg
	}
	return creds, nil
}

func getSecret(ctx context.Context, r client.Reader, ns, name string) (*corev1.Secret, error) {
	var sec corev1.Secret
	if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &sec); err != nil {
		return nil, &AuthError{fmt.Errorf("failed to get secret '%s/%s': %w", ns, name, err)}
	}
	return &sec, nil
}

func basicAuth(sec *corev1.Secret, repoURL string, creds *Credentials) error {
	user, pass := string(sec.Data["username"]), string(sec.Data["password"])
	if user == "" && pass == "" && sec.Type == corev1.SecretTypeDockerConfigJson {
		var err error
		if user, pass, err = dockerConfigAuth(sec.Data[corev1.DockerConfigJsonKey], repoURL); err != nil {
			return fmt.Errorf("secret '%s/%s': %w", sec.Namespace, sec.Name, err)
		}
	}
	if (user == "") != (pass == "") {
		return fmt.Errorf("secret '%s/%s' must hold both 'username' and 'password', or neither", sec.Namespace, sec.Name)
	}
	creds.Username, creds.Password = user, pass
	return nil
}

// dockerConfigAuth finds the credentials of the repository's host in a
// .dockerconfigjson.
func dockerConfigAuth(data []byte, repoURL string) (string, string, error) {
	var cfg struct {
		Auths map[string]struct {
			Username, Password, Auth string
		} `json:"auths"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return "", "", fmt.Errorf("invalid .dockerconfigjson: %w", err)
	}
	u, err := url.Parse(repoURL)
	if err != nil {
		return "", "", err
	}
	for host, a := range cfg.Auths {
		h := strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://")
		h, _, _ = strings.Cut(h, "/")
		if h != u.Host {
			continue
		}
		if a.Username == "" && a.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(a.Auth)
			if err != nil {
				return "", "", fmt.Errorf("invalid auth of %s in .dockerconfigjson", host)
			}
			a.Username, a.Password, _ = strings.Cut(string(raw), ":")
		}
		return a.Username, a.Password, nil
	}
	return "", "", fmt.Errorf("no credentials for %s in .dockerconfigjson", u.Host)
}

func tlsConfig(certPEM, keyPEM, caPEM []byte) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if (len(certPEM) == 0) != (len(keyPEM) == 0) {
		return nil, errors.New("TLS client authentication needs both a certificate and its key")
	}
	if len(certPEM) > 0 {
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("invalid TLS client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if len(caPEM) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("the CA certificate holds no valid PEM certificate")
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// HTTPClient fetches files of one HTTP(S) chart repository. Basic auth
// goes only to the repository's own host unless passCredentials is set.
type HTTPClient struct {
	base            *url.URL
	creds           *Credentials
	passCredentials bool
	client          *http.Client
}

// NewHTTPClient makes a client for repoURL that gives up after timeout.
func NewHTTPClient(repoURL string, creds *Credentials, passCredentials bool, timeout time.Duration) (*HTTPClient, error) {
	u, err := url.Parse(repoURL)
	if err != nil {
		return nil, err
	}
	if creds == nil {
		creds = &Credentials{}
	}
	transport := &http.Transport{
		// No proxy: charts come from inside the box.
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       creds.TLS,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
	}
	return &HTTPClient{base: u, creds: creds, passCredentials: passCredentials,
		client: &http.Client{Transport: transport, Timeout: timeout}}, nil
}

// IndexURL is the repository's index.yaml.
func (c *HTTPClient) IndexURL() string {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/index.yaml"
	u.RawPath = ""
	return u.String()
}

// Resolve turns a chart URL of the index (often relative) into an absolute one.
func (c *HTTPClient) Resolve(ref string) (string, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("invalid chart URL %q: %w", ref, err)
	}
	if r.IsAbs() {
		return r.String(), nil
	}
	base := *c.base
	base.Path = strings.TrimSuffix(base.Path, "/") + "/"
	return base.ResolveReference(r).String(), nil
}

// Get fetches one file (at most MaxDownloadSize bytes).
func (c *HTTPClient) Get(ctx context.Context, rawURL string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	if c.creds.Username != "" && (c.passCredentials || req.URL.Host == c.base.Host) {
		req.SetBasicAuth(c.creds.Username, c.creds.Password)
	}
	req.Header.Set("User-Agent", "velad-fluxcd-controller")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		err := fmt.Errorf("failed to fetch %s : %s", rawURL, resp.Status)
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return nil, &AuthError{err}
		}
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxDownloadSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", rawURL, err)
	}
	if len(data) > MaxDownloadSize {
		return nil, fmt.Errorf("%s is larger than %d MiB", rawURL, MaxDownloadSize>>20)
	}
	return data, nil
}

// NewRegistryClient makes a Helm OCI registry client for an oci
// HelmRepository: its credentials, its TLS, plain HTTP when insecure.
// The returned cleanup removes the client's temporary credentials file.
func NewRegistryClient(creds *Credentials, insecure bool, timeout time.Duration) (*registry.Client, func(), error) {
	if creds == nil {
		creds = &Credentials{}
	}
	// An empty credentials file of our own: never the user's docker config.
	f, err := os.CreateTemp("", "velad-fluxcd-registry-*.json")
	if err != nil {
		return nil, nil, fmt.Errorf("create registry credentials file: %w", err)
	}
	f.Close()
	cleanup := func() { _ = os.Remove(f.Name()) }
	transport := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSClientConfig:       creds.TLS,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
	opts := []registry.ClientOption{
		registry.ClientOptCredentialsFile(f.Name()),
		registry.ClientOptHTTPClient(&http.Client{Transport: transport, Timeout: timeout}),
		registry.ClientOptWriter(io.Discard),
	}
	if creds.Username != "" {
		opts = append(opts, registry.ClientOptBasicAuth(creds.Username, creds.Password))
	}
	if insecure {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	c, err := registry.NewClient(opts...)
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("create registry client: %w", err)
	}
	return c, cleanup, nil
}
