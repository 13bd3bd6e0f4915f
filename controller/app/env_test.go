package app_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/controller/api/scheme"
	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/install"
	"github.com/velad-dev/velad/controller/manager"
	"github.com/velad-dev/velad/controller/render"
	"github.com/velad-dev/velad/internal/testenv"
)

// One control plane and one in-process controller for the package; one
// namespace per test.
var env struct {
	once   sync.Once
	err    error
	dir    string
	server *testenv.Server
	cfg    *rest.Config
	c      client.Client
	cancel context.CancelFunc
	done   chan struct{}
	hook   *testWebhook
}

func TestMain(m *testing.M) {
	// The test binary is the controller's render sandbox process too.
	if os.Getenv(render.SandboxEnv) == "1" {
		if err := render.ServeSandbox(os.Stdin, os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := testenv.Main(m)
	teardown()
	os.Exit(code)
}

// Wait bounds every wait on the controller.
const Wait = 60 * time.Second

func setup() error {
	bin, err := testenv.Binary()
	if err != nil {
		return err
	}
	if env.dir, err = os.MkdirTemp("", "velad-app-test-"); err != nil {
		return err
	}
	if env.server, err = testenv.NewServer(bin, env.dir); err != nil {
		return err
	}
	if err := env.server.Start(); err != nil {
		return err
	}
	if env.cfg, err = env.server.RESTConfig(); err != nil {
		return err
	}
	scheme, err := scheme.New()
	if err != nil {
		return err
	}
	if env.c, err = client.New(env.cfg, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	ctx := context.Background()
	if err := install.CRDs(ctx, env.c, time.Minute); err != nil {
		return err
	}
	hook, err := newTestWebhook(env.dir)
	if err != nil {
		return err
	}
	env.hook = hook
	if err := hook.register(ctx, env.c); err != nil {
		return err
	}
	return startController()
}

// startController starts the in-process controller (again, after
// stopController).
func startController() error {
	ctx := context.Background()
	mgr, err := manager.New(rest.CopyConfig(env.cfg), manager.Options{MetricsAddr: "0", ProbeAddr: "0",
		InstallDefinitions: true, SkipNameValidation: true, RevisionLimit: 10,
		WebhookHost: "127.0.0.1", WebhookPort: env.hook.port, WebhookCertDir: env.hook.certDir,
		RenderSandbox: func() *exec.Cmd {
			c := exec.Command(os.Args[0])
			c.Env = append(os.Environ(), render.SandboxEnv+"=1")
			return c
		}, RenderBudget: render.Budget{Time: 5 * time.Second, Memory: 128 << 20}})
	if err != nil {
		return err
	}
	mctx, cancel := context.WithCancel(ctx)
	env.cancel, env.done = cancel, make(chan struct{})
	go func() {
		defer close(env.done)
		if err := mgr.Start(mctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	return nil
}

// stopController stops the in-process controller.
func stopController() {
	if env.cancel != nil {
		env.cancel()
		select {
		case <-env.done:
		case <-time.After(30 * time.Second):
		}
		env.cancel = nil
	}
}

func teardown() {
	stopController()
	if env.server != nil {
		if err := env.server.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	if env.dir != "" {
		os.RemoveAll(env.dir)
	}
}

// start returns a client and a fresh namespace for t.
func start(t *testing.T) (client.Client, string) {
	t.Helper()
	env.once.Do(func() { env.err = setup() })
	if env.err != nil {
		if env.server != nil {
			t.Logf("server log:\n%s", env.server.LogTail(40))
		}
		t.Fatalf("start control plane and controller: %v", env.err)
	}
	ns := strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	if len(ns) > 50 {
		ns = ns[:50]
	}
	n := &corev1.Namespace{}
	n.Name = ns
	if err := env.c.Create(context.Background(), n); err != nil {
		t.Fatalf("create namespace %s: %v", ns, err)
	}
	return env.c, ns
}

// parseApp reads an Application from YAML into ns.
func parseApp(t *testing.T, ns, y string) *v1beta1.Application {
	t.Helper()
	app := &v1beta1.Application{}
	if err := yaml.UnmarshalStrict([]byte(y), app); err != nil {
		t.Fatalf("parse app: %v", err)
	}
	app.Namespace = ns
	return app
}

// eventually polls cond until it is true or Wait passes; what describes
// the last state seen for the failure message.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(Wait)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s; last state: %s", Wait, what, last)
}

func raw(s string) *runtime.RawExtension { return &runtime.RawExtension{Raw: []byte(s)} }
