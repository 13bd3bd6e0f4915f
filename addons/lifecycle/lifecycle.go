// Package lifecycle enables, disables, lists and checks velad's addons
// in a cluster: an addon's chart becomes a Helm release (Helm SDK), its
// CRDs are applied server-side (Helm never upgrades them), its definitions
// go into vela-system labelled with its name. The CLI and the installer
// call it; it never prints, progress goes through Progress.
package lifecycle

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/addons"
	"github.com/velad-dev/velad/charts/release"
	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// FieldManager owns the definitions and CRDs addons apply.
const FieldManager = "velad-addons"

// DefaultTimeout bounds each Helm action and each wait for readiness.
const DefaultTimeout = 5 * time.Minute

// Progress shows what enabling or disabling does.
type Progress interface {
	// Step announces the next thing done ("Installing addon fluxcd …").
	Step(msg string)
	// Waiting shows the latest state while an addon is not ready yet;
	// each call replaces the previous one.
	Waiting(msg string)
}

// NoProgress discards progress.
type NoProgress struct{}

func (NoProgress) Step(string)    {}
func (NoProgress) Waiting(string) {}

// Options configure a Manager.
type Options struct {
	// Kubeconfig is the path of the cluster's kubeconfig.
	Kubeconfig string
	// Images returns the reference of an image velad carries, by its name
	// in the image payload (see addons.Image).
	Images func(name string) (string, error)
	// Timeout bounds each Helm action and each wait (DefaultTimeout if 0).
	Timeout  time.Duration
	Progress Progress
}

// Manager works on the addons of a registry in one cluster.
type Manager struct {
	reg  *addons.Registry
	o    Options
	c    client.Client
	cs   kubernetes.Interface
	helm map[string]*release.Client // by namespace
}

// New connects to the cluster of o.Kubeconfig.
func New(reg *addons.Registry, o Options) (*Manager, error) {
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Progress == nil {
		o.Progress = NoProgress{}
	}
	if o.Images == nil {
		o.Images = func(name string) (string, error) {
			return "", fmt.Errorf("no image %q: this velad carries no addon images", name)
		}
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig %s: %w", o.Kubeconfig, err)
	}
	cfg.Timeout = 30 * time.Second
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := v1beta1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connect to the cluster: %w", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to the cluster: %w", err)
	}
	return &Manager{reg: reg, o: o, c: c, cs: cs, helm: map[string]*release.Client{}}, nil
}

// Clientset is the manager's client of the cluster, for what an addon
// reports beyond the framework's status (the ingress addon's routes).
func (m *Manager) Clientset() kubernetes.Interface { return m.cs }

// helmFor returns the Helm client of an addon's namespace.
func (m *Manager) helmFor(a *addons.Addon) (*release.Client, error) {
	if rc, ok := m.helm[a.Namespace]; ok {
		return rc, nil
	}
	rc, err := release.New(m.o.Kubeconfig, a.Namespace)
	if err != nil {
		return nil, err
	}
	m.helm[a.Namespace] = rc
	return rc, nil
}
