package embedded

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/pflag"
	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/klog/v2"

	"github.com/velad-dev/velad/embedded/pki"
)

// stopTimeout bounds how long a component may take to stop.
const stopTimeout = 30 * time.Second

// inProcess runs one Kubernetes component in a goroutine of this process
// and turns its lifetime into Stop and Failed.
type inProcess struct {
	cancel context.CancelFunc
	done   chan struct{}
	failed chan error
	// detachAfter, when set, is how long Stop waits before it leaves a
	// component that does not return from Run when its context ends
	// (kubelet, kube-proxy) to end with the process. Such a component's
	// clients can also keep the API server's shutdown waiting.
	detachAfter time.Duration
}

// run starts fn in a goroutine with a context that Stop cancels. A panic
// or a return before Stop is reported on Failed.
func (p *inProcess) run(ctx context.Context, fn func(ctx context.Context) error) {
	p.done = make(chan struct{})
	p.failed = make(chan error, 1)
	go func() {
		defer close(p.done)
		err := recovered(func() error { return fn(ctx) })
		if ctx.Err() == nil {
			if err == nil {
				err = errors.New("exited")
			}
			p.failed <- err
		}
	}()
}

// context returns the context a component runs with until Stop.
func (p *inProcess) context() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	return ctx
}

func (p *inProcess) stop() error {
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	if p.done == nil {
		return nil
	}
	timeout := stopTimeout
	if p.detachAfter > 0 {
		timeout = p.detachAfter
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
		if p.detachAfter > 0 {
			klog.V(2).Infof("left a component to end with the process after %s", timeout)
			return nil
		}
		return fmt.Errorf("still running %s after being asked to stop", stopTimeout)
	}
}

// Failed implements component.Failer.
func (p *inProcess) Failed() <-chan error { return p.failed }

func recovered(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return fn()
}

// parseFlags parses args into the named flag sets of a Kubernetes
// component, as its own command line would.
func parseFlags(component string, sets cliflag.NamedFlagSets, args []string) error {
	fs := pflag.NewFlagSet(component, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, name := range sets.Order {
		fs.AddFlagSet(sets.FlagSets[name])
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%s flags: %w", component, err)
	}
	return nil
}

// portFree checks that nothing listens on addr yet, so a busy port is
// reported in one line before the component starts.
func portFree(addr, flag string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("port %s is already in use (another velad or Kubernetes running?); stop it or choose another port with %s", addr, flag)
	}
	return l.Close()
}

// probe asks a local HTTPS health endpoint, authenticating as the admin.
type probe struct {
	client *http.Client
}

func newProbe(spec pki.Spec, verify bool) (*probe, error) {
	cert, err := tls.LoadX509KeyPair(spec.CertFile(pki.AdminCert), spec.KeyFile(pki.AdminCert))
	if err != nil {
		return nil, fmt.Errorf("load admin certificate: %w", err)
	}
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if verify {
		caPEM, err := spec.ReadCert(pki.ServerCA)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		tlsCfg.RootCAs = pool
	} else {
		// Loopback health checks of self-signed component endpoints.
		tlsCfg.InsecureSkipVerify = true //nolint:gosec
	}
	return &probe{client: &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: tlsCfg, DisableKeepAlives: true},
	}}, nil
}

// ok returns nil when GET url answers 200.
func (p *probe) ok(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d %s", url, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}

// plainClient is an HTTP client for loopback plain-HTTP health endpoints.
func plainClient() *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
}
