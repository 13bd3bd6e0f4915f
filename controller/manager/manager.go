// Package manager assembles the velad controller: a controller-runtime
// manager with the OAM scheme, the Application reconciler, metrics,
// probes, leader election, and the installer of built-in definitions.
package manager

import (
	"context"
	"fmt"
	"os/exec"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/velad-dev/velad/controller/api/scheme"
	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/app"
	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/cluster"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/install"
	"github.com/velad-dev/velad/controller/render"
	appwebhook "github.com/velad-dev/velad/controller/webhook"
)

// Options configure the controller.
type Options struct {
	// MetricsAddr serves Prometheus metrics ("0" turns them off).
	MetricsAddr string
	// MetricsSecure serves them over HTTPS to clients the API server
	// authenticates and authorizes (get on the non-resource URL
	// /metrics), instead of plain HTTP to anyone who reaches the port.
	MetricsSecure bool
	// CrossNamespace lists the namespaces whose applications may write
	// outside them (app.Reconciler.CrossNamespace; nil: vela-system).
	CrossNamespace []string
	// ProbeAddr serves /healthz and /readyz ("0" turns them off).
	ProbeAddr      string
	LeaderElection bool
	// LeaderElectionNamespace is where the lease lives (default: the
	// namespace the controller runs in, or vela-system).
	LeaderElectionNamespace string
	Workers                 int
	Resync                  time.Duration
	// QPS and Burst limit the controller's requests to the API server
	// (client-side); 0 keeps the config's, and a config without a limit
	// gets none (QPS -1), relying on the API server's priority and
	// fairness.
	QPS   float32
	Burst int
	// MemoSize is how many rendered components are remembered between
	// reconciles, so that an unchanged application is not evaluated again
	// (default render.DefaultMemoSize).
	MemoSize      int
	RevisionLimit int
	// InstallDefinitions installs the built-in definitions into
	// vela-system when the manager starts.
	InstallDefinitions bool
	// SkipNameValidation allows several managers in one process (tests).
	SkipNameValidation bool
	// WebhookPort serves the Application admission webhook over TLS with
	// the tls.crt and tls.key of WebhookCertDir; 0 turns it off.
	WebhookPort    int
	WebhookHost    string
	WebhookCertDir string
	// RenderSandbox starts a render sandbox process (render.Sandbox):
	// definitions that are not built-ins are compiled and evaluated there
	// first, under RenderBudget. Nil renders everything in the process.
	RenderSandbox func() *exec.Cmd
	RenderBudget  render.Budget
}

// Client-side limits of the controller's requests to the API server
// that cmd/controller (and the benchmark) use by default.
const (
	DefaultQPS   = 200
	DefaultBurst = 400
)

// New builds the manager; Start runs it.
func New(cfg *rest.Config, o Options) (manager.Manager, error) {
	scheme, err := scheme.New()
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
		// No client-side rate limit, as ctrl.GetConfig does: the API
		// server's priority and fairness protects it.
		cfg.QPS = -1
	}
	leNS := o.LeaderElectionNamespace
	if leNS == "" {
		leNS = "vela-system"
	}
	skip := o.SkipNameValidation
	var webhookServer webhook.Server
	if o.WebhookPort > 0 {
		webhookServer = webhook.NewServer(webhook.Options{Host: o.WebhookHost, Port: o.WebhookPort, CertDir: o.WebhookCertDir})
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		WebhookServer:           webhookServer,
		Scheme:                  scheme,
		Metrics:                 metricsOptions(o),
		HealthProbeBindAddress:  o.ProbeAddr,
		LeaderElection:          o.LeaderElection,
		LeaderElectionID:        "velad-controller.core.oam.dev",
		LeaderElectionNamespace: leNS,
		Controller:              config.Controller{SkipNameValidation: &skip},
		Cache:                   app.CacheOptions(),
		Client: client.Options{Cache: &client.CacheOptions{
			// Read on demand, never cached: they can be large and are
			// needed only when a revision changes.
			DisableFor: []client.Object{&v1beta1.ApplicationRevision{}, &v1beta1.ResourceTracker{}},
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("create manager: %w", err)
	}
	builtins, err := builtins.Load()
	if err != nil {
		return nil, err
	}
	renderer := render.NewRenderer()
	if o.MemoSize > 0 {
		renderer.SetMemoSize(o.MemoSize)
	}
	if o.RenderSandbox != nil {
		sb := &render.Sandbox{Budget: o.RenderBudget, Command: o.RenderSandbox}
		defs, err := builtins.List(context.Background())
		if err != nil {
			return nil, err
		}
		sb.Trust(defs)
		renderer.SetSandbox(sb)
	}
	dcfg := rest.CopyConfig(cfg)
	dcfg.Timeout = 5 * time.Second
	disc, err := discovery.NewDiscoveryClientForConfig(dcfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	cv := clusterVersion{disc: disc, renderer: renderer}
	cv.read(context.Background())
	if err := mgr.Add(cv); err != nil {
		return nil, err
	}
	r := &app.Reconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Renderer: renderer,
		Builtins: builtins, Resync: o.Resync, Workers: o.Workers, RevisionLimit: o.RevisionLimit,
		CrossNamespace: o.CrossNamespace,
		Clusters:       &cluster.Registry{Reader: mgr.GetAPIReader(), Local: mgr.GetClient(), Scheme: scheme},
	}
	if err := r.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("set up application controller: %w", err)
	}
	if webhookServer != nil {
		// GetWebhookServer (not the server itself) adds it to what the
		// manager starts.
		webhookServer = mgr.GetWebhookServer()
		webhookServer.Register(appwebhook.ApplicationPath, &webhook.Admission{Handler: appwebhook.NewApplicationHandler(scheme, r.Validate)})
		webhookServer.Register(appwebhook.DefinitionPath, &webhook.Admission{Handler: appwebhook.NewDefinitionHandler(scheme,
			func(_ context.Context, d *definition.Definition) error {
				_, err := renderer.Compile(d)
				return err
			})})
	}
	if o.InstallDefinitions {
		if err := mgr.Add(definitionInstaller{c: mgr.GetClient()}); err != nil {
			return nil, err
		}
	}
	if o.ProbeAddr != "0" && o.ProbeAddr != "" {
		if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
			return nil, err
		}
		ready := healthz.Ping
		if webhookServer != nil {
			// Ready once the webhook serves: the API server calls it for
			// every Application written.
			ready = webhookServer.StartedChecker()
		}
		if err := mgr.AddReadyzCheck("readyz", ready); err != nil {
			return nil, err
		}
	}
	return mgr, nil
}

// metricsOptions serves metrics on o.MetricsAddr, behind the API
// server's authentication and authorization when o.MetricsSecure (with a
// self-signed certificate: scrapers verify the token, not the server).
func metricsOptions(o Options) metricsserver.Options {
	m := metricsserver.Options{BindAddress: o.MetricsAddr}
	if o.MetricsSecure {
		m.SecureServing = true
		m.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	return m
}

// definitionInstaller installs the built-in definitions once the leader
// starts (retrying a few times while the API server settles).
type definitionInstaller struct{ c client.Client }

func (d definitionInstaller) Start(ctx context.Context) error {
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		var n int
		if n, err = install.Definitions(ctx, d.c); err == nil {
			log.FromContext(ctx).Info("installed built-in definitions", "count", n, "namespace", "vela-system")
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Duration(attempt+1) * time.Second):
		}
	}
	return fmt.Errorf("install built-in definitions: %w", err)
}
