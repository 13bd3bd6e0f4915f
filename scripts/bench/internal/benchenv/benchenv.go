// Package benchenv starts what the controller benchmarks measure against:
// an embedded control plane (a `velad server` process on a temporary data
// dir) and, for those that run the application controller, its CRDs and
// built-in definitions.
package benchenv

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/scheme"
	"github.com/velad-dev/velad/controller/install"
	"github.com/velad-dev/velad/internal/testenv"
)

// Env is a running control plane; Close stops it and removes its dir.
type Env struct {
	// Dir is the temporary dir the server's data dir lives in.
	Dir    string
	Server *testenv.Server
	// Config reaches the API server as admin.
	Config *rest.Config
}

// Start starts the velad binary bin as a server in a new temporary dir
// named after the benchmark and waits until its API answers.
func Start(bin, name string) (*Env, error) {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "velad-bench-"+name+"-")
	if err != nil {
		return nil, err
	}
	e := &Env{Dir: dir}
	if e.Server, err = testenv.NewServer(bin, dir); err == nil {
		err = e.Server.Start()
	}
	if err == nil {
		e.Config, err = e.Server.RESTConfig()
	}
	if err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// Close stops the server and removes the dir.
func (e *Env) Close() {
	if e.Server != nil {
		_ = e.Server.Stop()
	}
	_ = os.RemoveAll(e.Dir)
}

// Controller returns a client with velad's scheme on e.Config after
// installing the application controller's CRDs and built-in definitions.
func (e *Env) Controller(ctx context.Context) (client.Client, error) {
	s, err := scheme.New()
	if err != nil {
		return nil, err
	}
	c, err := client.New(e.Config, client.Options{Scheme: s})
	if err != nil {
		return nil, err
	}
	if err := install.CRDs(ctx, c, time.Minute); err != nil {
		return nil, err
	}
	if _, err := install.Definitions(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}
