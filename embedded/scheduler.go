package embedded

import (
	"context"
	"net"
	"strconv"

	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	scheduleroptions "k8s.io/kubernetes/cmd/kube-scheduler/app/options"

	"github.com/velad-dev/velad/embedded/component"
	"github.com/velad-dev/velad/embedded/config"
)

// SchedulerArgs builds the kube-scheduler command line (pure).
func SchedulerArgs(cfg *config.Config, leaderElect bool) []string {
	p := cfg.Paths()
	return []string{
		"--authentication-kubeconfig=" + p.SchedulerKubeconfig,
		"--authorization-kubeconfig=" + p.SchedulerKubeconfig,
		"--bind-address=127.0.0.1",
		"--cert-dir=" + p.TempCertDir,
		"--kubeconfig=" + p.SchedulerKubeconfig,
		"--leader-elect=" + strconv.FormatBool(leaderElect),
		"--profiling=false",
		"--secure-port=" + strconv.Itoa(cfg.SchedulerPort),
	}
}

func schedulerOptions(args []string) (*scheduleroptions.Options, error) {
	opts := scheduleroptions.NewOptions()
	return opts, parseFlags("kube-scheduler", *opts.Flags, args)
}

// Scheduler is kube-scheduler, run in this process.
type Scheduler struct {
	Config    *config.Config
	Datastore *Datastore

	inProcess
	probe *probe
}

var (
	_ component.Component = (*Scheduler)(nil)
	_ component.Readier   = (*Scheduler)(nil)
	_ component.Failer    = (*Scheduler)(nil)
)

// Name implements component.Component.
func (s *Scheduler) Name() string { return "kube-scheduler" }

// Init implements component.Component.
func (s *Scheduler) Init(context.Context) error {
	return portFree(net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Config.SchedulerPort)), "--kube-scheduler-port")
}

// Start implements component.Component.
func (s *Scheduler) Start(context.Context) error {
	opts, err := schedulerOptions(SchedulerArgs(s.Config, s.Datastore.LeaderElect()))
	if err != nil {
		return err
	}
	if err := opts.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	probe, err := newProbe(PKISpec(s.Config), false)
	if err != nil {
		return err
	}
	s.probe = probe
	ctx := s.context()
	cc, sched, err := scheduler.Setup(ctx, opts)
	if err != nil {
		s.stop()
		return err
	}
	s.run(ctx, func(ctx context.Context) error { return scheduler.Run(ctx, cc, sched) })
	return nil
}

// Ready implements component.Readier.
func (s *Scheduler) Ready(ctx context.Context) error {
	return s.probe.ok(ctx, "https://"+net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Config.SchedulerPort))+"/healthz")
}

// Stop implements component.Component.
func (s *Scheduler) Stop() error { return s.stop() }
