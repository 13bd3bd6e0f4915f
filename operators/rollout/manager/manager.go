// Package manager assembles the rollout addon's controller: one
// controller-runtime manager running the Rollout reconciler and serving
// the conversion webhook between rollouts.kruise.io v1alpha1 and v1beta1.
package manager

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/conversion"

	"github.com/velad-dev/velad/operators/rollout/api/v1alpha1"
	"github.com/velad-dev/velad/operators/rollout/api/v1beta1"
	"github.com/velad-dev/velad/operators/rollout/controller"
)

// Options configure the controller.
type Options struct {
	MetricsAddr, ProbeAddr  string // "0" turns one off
	LeaderElection          bool
	LeaderElectionNamespace string
	Workers                 int
	QPS                     float32
	Burst                   int
	// SkipNameValidation allows several managers in one process (tests).
	SkipNameValidation bool
	// WebhookPort serves /convert over TLS with tls.crt and tls.key from
	// CertDir, whose ca.crt goes into the CRD's caBundle; 0: no webhook
	// (v1alpha1 requests then fail).
	WebhookPort int
	CertDir     string
}

// Scheme is client-go's scheme plus rollouts.kruise.io v1beta1 and v1alpha1.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1beta1.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// New builds the manager; Start runs it.
func New(cfg *rest.Config, o Options) (manager.Manager, error) {
	scheme, err := Scheme()
	if err != nil {
		return nil, fmt.Errorf("build scheme: %w", err)
	}
	cfg = rest.CopyConfig(cfg)
	if o.QPS != 0 {
		cfg.QPS = o.QPS
	}
	if o.Burst > 0 {
		cfg.Burst = o.Burst
	}
	if cfg.QPS == 0 {
		cfg.QPS = -1
	}
	skip := o.SkipNameValidation
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress:  o.ProbeAddr,
		LeaderElection:          o.LeaderElection,
		LeaderElectionID:        "rollout-controller.velad.dev",
		LeaderElectionNamespace: o.LeaderElectionNamespace,
		Controller:              config.Controller{SkipNameValidation: &skip},
		WebhookServer:           webhook.NewServer(webhook.Options{Port: o.WebhookPort, CertDir: o.CertDir}),
	})
	if err != nil {
		return nil, fmt.Errorf("create manager: %w", err)
	}
	if err := (&controller.Reconciler{Client: mgr.GetClient(), Workers: o.Workers}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("set up Rollout controller: %w", err)
	}
	if o.WebhookPort != 0 {
		mgr.GetWebhookServer().Register("/convert", conversion.NewWebhookHandler(mgr.GetScheme(), mgr.GetConverterRegistry()))
		if err := mgr.Add(&caBundle{c: mgr.GetClient(), certDir: o.CertDir}); err != nil {
			return nil, fmt.Errorf("add the conversion webhook's CA patch: %w", err)
		}
	}
	if o.ProbeAddr != "" && o.ProbeAddr != "0" {
		if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
			return nil, err
		}
		ready := healthz.Ping
		if o.WebhookPort != 0 {
			ready = mgr.GetWebhookServer().StartedChecker()
		}
		if err := mgr.AddReadyzCheck("readyz", ready); err != nil {
			return nil, err
		}
	}
	return mgr, nil
}
