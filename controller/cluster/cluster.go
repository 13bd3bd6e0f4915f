// Package cluster is the registry of the clusters applications are
// delivered to: this velad ("local") and the clusters joined to it, each
// stored as KubeVela stores them (an Opaque Secret in vela-system named
// after the cluster, labelled cluster.core.oam.dev/cluster-credential-type,
// with the endpoint and credentials in its data and the user's labels on
// it), so KubeVela users' tooling reads them. It hands out a client per
// cluster, cached and rebuilt when the cluster's Secret changes.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// KubeVela's names.
const (
	// Local is the cluster velad itself runs.
	Local = "local"
	// Namespace holds the cluster Secrets.
	Namespace = "vela-system"
	// LabelCredentialType marks a Secret as a cluster; its value is one of
	// the Credential* types.
	LabelCredentialType = "cluster.core.oam.dev/cluster-credential-type"
	CredentialX509      = "X509Certificate"
	CredentialToken     = "ServiceAccountToken"
	// ReservedPrefix is the label prefix users cannot set on a cluster.
	ReservedPrefix = "cluster.core.oam.dev"
	// AnnotationVersion records the cluster's Kubernetes version at join.
	AnnotationVersion = "cluster.core.oam.dev/kubernetes-version"
	// LabelAppCluster is the label KubeVela puts on the objects it
	// delivers to a cluster other than local: the cluster's name.
	LabelAppCluster = "app.oam.dev/cluster"
)

// Secret data keys.
const (
	keyEndpoint = "endpoint"
	keyCA       = "ca.crt"
	keyCert     = "tls.crt"
	keyKey      = "tls.key"
	keyToken    = "token"
	keyProxy    = "proxy-url"
)

// RequestTimeout bounds every request to a joined cluster, so that one
// that does not answer fails its own delivery soon.
const RequestTimeout = 10 * time.Second

// Cluster is one cluster of the registry.
type Cluster struct {
	Name string
	// Endpoint is the API server's URL ("" for local).
	Endpoint       string
	CredentialType string
	// Labels are the user's labels (what a topology's
	// clusterLabelSelector matches).
	Labels map[string]string
	// Version is the Kubernetes version recorded at join.
	Version string

	secret *corev1.Secret
}

// IsLocal reports whether name is the local cluster ("" counts).
func IsLocal(name string) bool { return name == "" || name == Local }

// FromSecret reads a cluster Secret.
func FromSecret(s *corev1.Secret) (Cluster, error) {
	typ := s.Labels[LabelCredentialType]
	c := Cluster{Name: s.Name, Endpoint: string(s.Data[keyEndpoint]), CredentialType: typ,
		Labels: UserLabels(s.Labels), Version: s.Annotations[AnnotationVersion], secret: s}
	switch {
	case typ != CredentialX509 && typ != CredentialToken:
		return c, fmt.Errorf("cluster %q: credential type %q is not supported (%s or %s)", s.Name, typ, CredentialX509, CredentialToken)
	case c.Endpoint == "":
		return c, fmt.Errorf("cluster %q: its Secret has no endpoint", s.Name)
	case typ == CredentialX509 && (len(s.Data[keyCert]) == 0 || len(s.Data[keyKey]) == 0):
		return c, fmt.Errorf("cluster %q: its Secret has no %s and %s", s.Name, keyCert, keyKey)
	case typ == CredentialToken && len(s.Data[keyToken]) == 0:
		return c, fmt.Errorf("cluster %q: its Secret has no %s", s.Name, keyToken)
	}
	return c, nil
}

// UserLabels are the labels of a cluster Secret a user set.
func UserLabels(l map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range l {
		if !strings.HasPrefix(k, ReservedPrefix) {
			out[k] = v
		}
	}
	return out
}

// RESTConfig is the client configuration of a joined cluster.
func (c Cluster) RESTConfig() (*rest.Config, error) {
	if c.secret == nil {
		return nil, fmt.Errorf("cluster %q has no credentials (local?)", c.Name)
	}
	d := c.secret.Data
	cfg := &rest.Config{Host: c.Endpoint, Timeout: RequestTimeout, QPS: 50, Burst: 100}
	if ca := d[keyCA]; len(ca) > 0 {
		cfg.CAData = ca
	} else {
		cfg.Insecure = true
	}
	switch c.CredentialType {
	case CredentialX509:
		cfg.CertData, cfg.KeyData = d[keyCert], d[keyKey]
	case CredentialToken:
		cfg.BearerToken = string(d[keyToken])
	}
	if p := string(d[keyProxy]); p != "" {
		u, err := url.Parse(p)
		if err != nil {
			return nil, fmt.Errorf("cluster %q: proxy-url: %w", c.Name, err)
		}
		cfg.Proxy = func(*http.Request) (*url.URL, error) { return u, nil }
	}
	return cfg, nil
}

// Secret makes the Secret that stores a cluster joined with cfg (its
// credentials inline: rest.LoadTLSFiles first).
func Secret(name string, cfg *rest.Config, labels map[string]string, version string) (*corev1.Secret, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	if err := CheckLabels(labels); err != nil {
		return nil, err
	}
	s := &corev1.Secret{Type: corev1.SecretTypeOpaque, Data: map[string][]byte{keyEndpoint: []byte(cfg.Host)}}
	s.Name, s.Namespace = name, Namespace
	s.Labels = map[string]string{}
	for k, v := range labels {
		s.Labels[k] = v
	}
	if version != "" {
		s.Annotations = map[string]string{AnnotationVersion: version}
	}
	if len(cfg.CAData) > 0 {
		s.Data[keyCA] = cfg.CAData
	}
	switch {
	case len(cfg.CertData) > 0 && len(cfg.KeyData) > 0:
		s.Labels[LabelCredentialType] = CredentialX509
		s.Data[keyCert], s.Data[keyKey] = cfg.CertData, cfg.KeyData
	case cfg.BearerToken != "":
		s.Labels[LabelCredentialType] = CredentialToken
		s.Data[keyToken] = []byte(cfg.BearerToken)
	default:
		return nil, errors.New("the kubeconfig has neither a client certificate and key nor a token (exec and auth-provider plugins are not supported): use a kubeconfig with inline credentials, e.g. 'velad kubeconfig --external' of the other velad")
	}
	return s, nil
}

// CheckName checks a cluster name: a DNS label, not "local".
func CheckName(name string) error {
	if IsLocal(name) {
		return fmt.Errorf("cluster name %q is reserved for this velad: pick another with --name", name)
	}
	if len(name) > 63 || !dnsLabel(name) {
		return fmt.Errorf("cluster name %q is not a DNS label (lower-case letters, digits and '-', at most 63)", name)
	}
	return nil
}

func dnsLabel(s string) bool {
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' && i > 0 && i < len(s)-1
		if !ok {
			return false
		}
	}
	return s != ""
}

// CheckLabels refuses labels users cannot set.
func CheckLabels(labels map[string]string) error {
	for k := range labels {
		if strings.HasPrefix(k, ReservedPrefix) {
			return fmt.Errorf("label %q: labels prefixed %s are the registry's own", k, ReservedPrefix)
		}
	}
	return nil
}

// CheckEndpoint refuses a server address only this machine reaches: a
// loopback address, or a name that resolves only to loopback addresses.
// The controller runs in a pod, and the cluster's loopback is its own.
func CheckEndpoint(server string, lookup func(string) ([]string, error)) error {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return fmt.Errorf("server %q is not a URL", server)
	}
	host := u.Hostname()
	hint := "on the other velad, start the server with --bind-ip <its address> and join the kubeconfig of 'velad kubeconfig --external'"
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsLoopback() || ip.IsUnspecified() {
			return fmt.Errorf("server %s is a loopback address only this machine reaches (the controller's pod cannot): %s", server, hint)
		}
		return nil
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return fmt.Errorf("server %s names this machine (the controller's pod cannot reach it): %s", server, hint)
	}
	if lookup == nil {
		lookup = net.LookupHost
	}
	addrs, err := lookup(host)
	if err != nil {
		return fmt.Errorf("server %s: %s does not resolve (%v): use an address the controller's pod can reach; %s", server, host, err, hint)
	}
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip == nil || !ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("server %s: %s resolves only to loopback addresses on this machine: %s", server, host, hint)
}

// Registry lists the clusters and hands out their clients.
type Registry struct {
	// Reader reads the Secrets in vela-system (from the API server).
	Reader client.Reader
	// Local is the client of this velad.
	Local  client.Client
	Scheme *runtime.Scheme

	mu      sync.Mutex
	clients map[string]cached
	// The Secrets as last read, reused for ReadTTL.
	read   []corev1.Secret
	readAt time.Time
}

// ReadTTL is how long the registry reuses the Secrets it read: a
// reconcile asks for a cluster's client many times, and a changed
// Secret is seen this much later at most.
const ReadTTL = 2 * time.Second

// secrets returns the cluster Secrets, read at most every ReadTTL.
func (r *Registry) secrets(ctx context.Context) ([]corev1.Secret, error) {
	r.mu.Lock()
	if r.read != nil && time.Since(r.readAt) < ReadTTL {
		defer r.mu.Unlock()
		return r.read, nil
	}
	r.mu.Unlock()
	var l corev1.SecretList
	if err := r.Reader.List(ctx, &l, client.InNamespace(Namespace), client.HasLabels{LabelCredentialType}); err != nil {
		return nil, fmt.Errorf("list clusters (Secrets in %s): %w", Namespace, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.read, r.readAt = l.Items, time.Now()
	return l.Items, nil
}

type cached struct {
	resourceVersion string
	c               client.Client
}

// ErrNotFound: no cluster of that name is joined.
var ErrNotFound = errors.New("cluster not found")

// List returns local first, then the joined clusters by name. A Secret
// that does not describe a usable cluster is left out.
func (r *Registry) List(ctx context.Context) ([]Cluster, error) {
	items, err := r.secrets(ctx)
	if err != nil {
		return nil, err
	}
	out := []Cluster{{Name: Local, Labels: map[string]string{}}}
	for i := range items {
		c, err := FromSecret(&items[i])
		if err != nil {
			continue
		}
		out = append(out, c)
	}
	sort.Slice(out[1:], func(i, j int) bool { return out[1+i].Name < out[1+j].Name })
	return out, nil
}

// Get returns one cluster.
func (r *Registry) Get(ctx context.Context, name string) (Cluster, error) {
	if IsLocal(name) {
		return Cluster{Name: Local, Labels: map[string]string{}}, nil
	}
	items, err := r.secrets(ctx)
	if err != nil {
		return Cluster{}, err
	}
	for i := range items {
		if items[i].Name == name {
			return FromSecret(&items[i])
		}
	}
	return Cluster{}, fmt.Errorf("cluster %q: %w (join it with 'velad cluster join')", name, ErrNotFound)
}

// Client returns the client of cluster name: Local for local, else one
// made from its Secret, kept until the Secret changes.
func (r *Registry) Client(ctx context.Context, name string) (client.Client, error) {
	if IsLocal(name) {
		return r.Local, nil
	}
	c, err := r.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if k, ok := r.clients[name]; ok && k.resourceVersion == c.secret.ResourceVersion {
		return k.c, nil
	}
	cfg, err := c.RESTConfig()
	if err != nil {
		return nil, err
	}
	cl, err := client.New(cfg, client.Options{Scheme: r.Scheme})
	if err != nil {
		return nil, fmt.Errorf("client of cluster %q: %w", name, err)
	}
	if r.clients == nil {
		r.clients = map[string]cached{}
	}
	r.clients[name] = cached{resourceVersion: c.secret.ResourceVersion, c: cl}
	return cl, nil
}
