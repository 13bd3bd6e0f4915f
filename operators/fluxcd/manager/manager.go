// Package manager assembles the fluxcd addon's controller: one
// controller-runtime manager running the HelmRepository and HelmRelease
// reconcilers, and one HTTP server for the artifacts and the in-cluster
// chart repository.
package manager

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/velad-dev/velad/operators/fluxcd/api"
	"github.com/velad-dev/velad/operators/fluxcd/chartrepo"
	"github.com/velad-dev/velad/operators/fluxcd/helmrelease"
	"github.com/velad-dev/velad/operators/fluxcd/source"
	"github.com/velad-dev/velad/operators/fluxcd/storage"
)

// Options configure the controller.
type Options struct {
	MetricsAddr, ProbeAddr  string // "0" turns one off
	LeaderElection          bool
	LeaderElectionNamespace string
	// StoragePath holds artifacts; StorageAddr serves them and the chart
	// repository ("0": no server); StorageAdvAddr is the host[:port]
	// artifact URLs name.
	StoragePath, StorageAddr, StorageAdvAddr string
	// ChartsNamespace holds the in-cluster chart repository's Secrets.
	ChartsNamespace string
	Workers         int
	QPS             float32
	Burst           int
	// SkipNameValidation allows several managers in one process (tests).
	SkipNameValidation bool
}

// New builds the manager; Start runs it.
func New(cfg *rest.Config, o Options) (manager.Manager, error) {
	scheme, err := api.Scheme()
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
	if o.ChartsNamespace == "" {
		o.ChartsNamespace = chartrepo.DefaultNamespace
	}
	leNS := o.LeaderElectionNamespace
	if leNS == "" {
		leNS = o.ChartsNamespace
	}
	skip := o.SkipNameValidation
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress:  o.ProbeAddr,
		LeaderElection:          o.LeaderElection,
		LeaderElectionID:        "fluxcd-controller.velad.dev",
		LeaderElectionNamespace: leNS,
		Controller:              config.Controller{SkipNameValidation: &skip},
		Client: client.Options{Cache: &client.CacheOptions{
			// As Flux: Secrets and ConfigMaps are read when needed, never
			// cached cluster-wide.
			DisableFor: []client.Object{&corev1.Secret{}, &corev1.ConfigMap{}},
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("create manager: %w", err)
	}
	advAddr := o.StorageAdvAddr
	if advAddr == "" {
		advAddr = "localhost" + o.StorageAddr
	}
	if !strings.Contains(advAddr, "://") {
		advAddr = "http://" + advAddr
	}
	store, err := storage.New(o.StoragePath, advAddr)
	if err != nil {
		return nil, err
	}
	recorder := mgr.GetEventRecorderFor("fluxcd-controller")
	if err := (&source.Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Storage: store,
		Recorder: recorder, Workers: o.Workers}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("set up HelmRepository controller: %w", err)
	}
	if err := (&helmrelease.Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Config: cfg,
		Storage: store, Recorder: recorder, Workers: o.Workers}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("set up HelmRelease controller: %w", err)
	}
	charts := &chartrepo.Store{Client: mgr.GetClient(), Namespace: o.ChartsNamespace}
	if o.StorageAddr != "" && o.StorageAddr != "0" {
		if err := mgr.Add(&server{addr: o.StorageAddr, handler: Handler(store, charts)}); err != nil {
			return nil, err
		}
	}
	if o.ProbeAddr != "" && o.ProbeAddr != "0" {
		if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
			return nil, err
		}
		if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
			return nil, err
		}
	}
	return mgr, nil
}

// Handler serves artifacts under /helmrepository/ and the chart
// repository (/index.yaml, /<chart>-<version>.tgz) at the root.
func Handler(store *storage.Storage, charts *chartrepo.Store) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/helmrepository/", store.Handler())
	mux.Handle("/", charts.Handler())
	return mux
}

// server is the HTTP server, run by the manager on every replica.
type server struct {
	addr    string
	handler http.Handler
}

func (s *server) NeedLeaderElection() bool { return false }

func (s *server) Start(ctx context.Context) error {
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("serve artifacts and charts on %s: %w", s.addr, err)
	}
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
