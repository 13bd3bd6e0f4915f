package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// What `velad cluster` does, on the hub's client c.

// ProbeTimeout bounds how long a cluster has to answer join or list.
const ProbeTimeout = 10 * time.Second

// JoinOptions are the choices of a join.
type JoinOptions struct {
	Name string
	// Context is the kubeconfig context to use ("": its current one).
	Context string
	Labels  map[string]string
	// Lookup resolves host names (nil: the system's resolver).
	Lookup func(string) ([]string, error)
}

// Join checks that the cluster of kubeconfig answers and stores it.
func Join(ctx context.Context, c client.Client, kubeconfig []byte, o JoinOptions) (Cluster, error) {
	if err := CheckName(o.Name); err != nil {
		return Cluster{}, err
	}
	cfg, err := restConfigOf(kubeconfig, o.Context)
	if err != nil {
		return Cluster{}, err
	}
	if err := CheckEndpoint(cfg.Host, o.Lookup); err != nil {
		return Cluster{}, fmt.Errorf("cluster %q: %w", o.Name, err)
	}
	version, err := Probe(ctx, cfg)
	if err != nil {
		return Cluster{}, fmt.Errorf("cluster %q at %s: %w", o.Name, cfg.Host, err)
	}
	s, err := Secret(o.Name, cfg, o.Labels, version)
	if err != nil {
		return Cluster{}, fmt.Errorf("cluster %q: %w", o.Name, err)
	}
	if err := c.Create(ctx, s); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return Cluster{}, fmt.Errorf("cluster %q is already joined (or Secret %s/%s exists): detach it first, or pick another --name", o.Name, Namespace, o.Name)
		}
		return Cluster{}, fmt.Errorf("store cluster %q: %w", o.Name, err)
	}
	return FromSecret(s)
}

// restConfigOf reads a kubeconfig with its credentials inline.
func restConfigOf(kubeconfig []byte, context string) (*rest.Config, error) {
	raw, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig: %w", err)
	}
	name := context
	if name == "" {
		name = raw.CurrentContext
	}
	kctx, ok := raw.Contexts[name]
	if !ok {
		return nil, fmt.Errorf("kubeconfig: context %q is not in it: pick one with --context", name)
	}
	if u := raw.AuthInfos[kctx.AuthInfo]; u != nil && (u.Exec != nil || u.AuthProvider != nil) {
		return nil, errors.New("kubeconfig: exec and auth-provider credentials are not supported: use a kubeconfig with a client certificate or a token (e.g. 'velad kubeconfig --external' of the other velad)")
	}
	cc := clientcmd.NewNonInteractiveClientConfig(*raw, name, &clientcmd.ConfigOverrides{}, nil)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	if cfg.ExecProvider != nil || cfg.AuthProvider != nil {
		return nil, errors.New("kubeconfig: exec and auth-provider credentials are not supported: use a kubeconfig with a client certificate or a token (e.g. 'velad kubeconfig --external' of the other velad)")
	}
	if err := rest.LoadTLSFiles(cfg); err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	if cfg.BearerTokenFile != "" && cfg.BearerToken == "" {
		return nil, errors.New("kubeconfig: tokenFile is not supported: put the token inline")
	}
	return cfg, nil
}

// Probe asks the cluster for its version.
func Probe(ctx context.Context, cfg *rest.Config) (string, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = ProbeTimeout
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", err
	}
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		if apierrors.IsUnauthorized(err) {
			return "", fmt.Errorf("refuses the kubeconfig's credentials (expired or revoked?): %w", err)
		}
		return "", fmt.Errorf("does not answer: %w", err)
	}
	return v.GitVersion, nil
}

// Status is one row of `velad cluster list`.
type Status struct {
	Cluster
	// Version is what the cluster answered ("" when it did not).
	Version string
	// Err is why it could not be reached.
	Err error
}

// List lists the clusters and probes the joined ones (in parallel).
func List(ctx context.Context, c client.Client) ([]Status, error) {
	r := &Registry{Reader: c, Local: c}
	cs, err := r.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Status, len(cs))
	var wg sync.WaitGroup
	for i, cl := range cs {
		out[i].Cluster = cl
		if IsLocal(cl.Name) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg, err := cl.RESTConfig()
			if err == nil {
				out[i].Version, err = Probe(ctx, cfg)
			}
			out[i].Err = err
		}()
	}
	wg.Wait()
	return out, nil
}

// InUse lists the applications (namespace/name) whose resource trackers
// record objects in cluster name.
func InUse(ctx context.Context, c client.Reader, name string) ([]string, error) {
	var l v1beta1.ResourceTrackerList
	if err := c.List(ctx, &l); err != nil {
		return nil, fmt.Errorf("list resource trackers: %w", err)
	}
	seen := map[string]bool{}
	var apps []string
	for _, rt := range l.Items {
		for _, m := range rt.Spec.ManagedResources {
			if m.Cluster != name {
				continue
			}
			app := rt.Labels[v1beta1.LabelAppNamespace] + "/" + rt.Labels[v1beta1.LabelAppName]
			if !seen[app] {
				seen[app] = true
				apps = append(apps, app)
			}
			break
		}
	}
	sort.Strings(apps)
	return apps, nil
}

// Detach forgets cluster name. While applications deliver to it, it is
// refused unless force: their objects there are then left as they are
// (the controller can no longer reach them).
func Detach(ctx context.Context, c client.Client, name string, force bool) error {
	if IsLocal(name) {
		return errors.New("the local cluster cannot be detached")
	}
	r := &Registry{Reader: c, Local: c}
	cl, err := r.Get(ctx, name)
	if err != nil {
		return err
	}
	apps, err := InUse(ctx, c, name)
	if err != nil {
		return err
	}
	if len(apps) > 0 && !force {
		return fmt.Errorf("cluster %q is in use by applications %s: take it out of their topology policies (or delete them) first, or detach with --force (their objects there are left behind)", name, strings.Join(apps, ", "))
	}
	if err := c.Delete(ctx, cl.secret); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("detach cluster %q: %w", name, err)
	}
	return nil
}

// SetLabels adds (and overwrites) add and removes del on cluster name.
func SetLabels(ctx context.Context, c client.Client, name string, add map[string]string, del []string) error {
	if IsLocal(name) {
		return errors.New("the local cluster has no labels to set: label the joined clusters")
	}
	if err := CheckLabels(add); err != nil {
		return err
	}
	for _, k := range del {
		if strings.HasPrefix(k, ReservedPrefix) {
			return fmt.Errorf("label %q: labels prefixed %s are the registry's own", k, ReservedPrefix)
		}
	}
	s := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: Namespace, Name: name}, s); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("cluster %q: %w ('velad cluster list' lists them)", name, ErrNotFound)
		}
		return err
	}
	if _, ok := s.Labels[LabelCredentialType]; !ok {
		return fmt.Errorf("cluster %q: %w", name, ErrNotFound)
	}
	for k, v := range add {
		s.Labels[k] = v
	}
	for _, k := range del {
		delete(s.Labels, k)
	}
	if err := c.Update(ctx, s); err != nil {
		return fmt.Errorf("label cluster %q: %w", name, err)
	}
	return nil
}

// ParseLabels parses "k=v,k2=v2".
func ParseLabels(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("label %q: want key=value", kv)
		}
		out[k] = v
	}
	return out, nil
}
