package helmrelease

import (
	"bytes"
	"fmt"
	"strings"
	"sync"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kube gives Helm the cluster: one rest config, and discovery and a REST
// mapper shared by every release (discovery is the slow part of a Helm
// action; Helm invalidates it itself after it installs CRDs).
type kube struct {
	config *rest.Config

	once      sync.Once
	discovery discovery.CachedDiscoveryInterface
	mapper    meta.RESTMapper
	err       error
}

func newKube(cfg *rest.Config) *kube { return &kube{config: rest.CopyConfig(cfg)} }

func (k *kube) init() error {
	k.once.Do(func() {
		dc, err := discovery.NewDiscoveryClientForConfig(k.config)
		if err != nil {
			k.err = err
			return
		}
		k.discovery = memory.NewMemCacheClient(dc)
		k.mapper = restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(k.discovery), k.discovery, nil)
	})
	return k.err
}

// getter is Helm's RESTClientGetter for one namespace (and, with
// spec.serviceAccountName, one impersonated service account).
type getter struct {
	k         *kube
	namespace string
	config    *rest.Config
}

func (k *kube) getter(namespace, impersonate string) (*getter, error) {
	if err := k.init(); err != nil {
		return nil, fmt.Errorf("discover the API server: %w", err)
	}
	cfg := rest.CopyConfig(k.config)
	if impersonate != "" {
		cfg.Impersonate = rest.ImpersonationConfig{UserName: impersonate}
	}
	return &getter{k: k, namespace: namespace, config: cfg}, nil
}

func (g *getter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.config), nil }
func (g *getter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.k.discovery, nil
}
func (g *getter) ToRESTMapper() (meta.RESTMapper, error) { return g.k.mapper, nil }
func (g *getter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientConfig{g}
}

// clientConfig answers Helm's questions about "the kubeconfig": the rest
// config and the namespace of the release.
type clientConfig struct{ g *getter }

func (c clientConfig) RawConfig() (clientcmdapi.Config, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Contexts["in-cluster"] = &clientcmdapi.Context{Namespace: c.g.namespace}
	cfg.CurrentContext = "in-cluster"
	return *cfg, nil
}
func (c clientConfig) ClientConfig() (*rest.Config, error)  { return c.g.ToRESTConfig() }
func (c clientConfig) Namespace() (string, bool, error)     { return c.g.namespace, true, nil }
func (c clientConfig) ConfigAccess() clientcmd.ConfigAccess { return nil }

// logBuffer keeps Helm's last log lines for a failure message.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuffer) log(format string, v ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, fmt.Sprintf(format, v...))
	if len(b.lines) > 10 {
		b.lines = b.lines[len(b.lines)-10:]
	}
}

// actionConfig is Helm's configuration for a release whose history is
// kept as Secrets in storageNamespace and whose objects go to namespace.
func (k *kube) actionConfig(hr *helmv2.HelmRelease, storageNamespace string, logs *logBuffer) (*action.Configuration, error) {
	impersonate := ""
	if sa := hr.Spec.ServiceAccountName; sa != "" {
		impersonate = "system:serviceaccount:" + hr.Namespace + ":" + sa
	}
	g, err := k.getter(hr.GetReleaseNamespace(), impersonate)
	if err != nil {
		return nil, err
	}
	cfg := new(action.Configuration)
	if err := cfg.Init(g, storageNamespace, "secret", logs.log); err != nil {
		return nil, fmt.Errorf("initialise Helm: %w", err)
	}
	return cfg, nil
}

// applyCRDs installs the chart's crds/ (policy Create: what is missing;
// CreateReplace: also replace what exists), for the upgrades Helm never
// touches CRDs in and for installs with CreateReplace.
func applyCRDs(cfg *action.Configuration, ch *chart.Chart, policy helmv2.CRDsPolicy) error {
	for _, crd := range ch.CRDObjects() {
		res, err := cfg.KubeClient.Build(bytes.NewReader(crd.File.Data), false)
		if err != nil {
			return fmt.Errorf("read CRD %s: %w", crd.Filename, err)
		}
		if policy == helmv2.CreateReplace {
			if _, err := cfg.KubeClient.Update(res, res, true); err != nil {
				return fmt.Errorf("replace CRD %s: %w", crd.Filename, err)
			}
			continue
		}
		if _, err := cfg.KubeClient.Create(res); err != nil && !apierrors.IsAlreadyExists(err) &&
			!strings.Contains(err.Error(), "already exists") {
			return fmt.Errorf("create CRD %s: %w", crd.Filename, err)
		}
	}
	if len(ch.CRDObjects()) > 0 {
		if dc, err := cfg.RESTClientGetter.ToDiscoveryClient(); err == nil {
			dc.Invalidate()
		}
	}
	return nil
}
