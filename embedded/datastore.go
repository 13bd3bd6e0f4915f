package embedded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/k3s-io/kine/pkg/endpoint"
	"github.com/k3s-io/kine/pkg/tls"
	"github.com/sirupsen/logrus"

	"github.com/velad-dev/velad/embedded/component"
	"github.com/velad-dev/velad/embedded/config"
)

// sqliteParams are kine's SQLite defaults: WAL, a generous busy timeout.
const sqliteParams = "_journal_mode=WAL&_busy_timeout=30000&_synchronous=NORMAL&_txlock=immediate&_stmt_cache_size=20&cache=shared"

// Datastore is kine serving the etcd API on a unix socket in the data dir,
// backed by SQLite there or by the user's --database-endpoint. An etcd
// endpoint is handed to the API server as it is.
type Datastore struct {
	Config *config.Config

	cancel context.CancelFunc
	wg     sync.WaitGroup
	etcd   endpoint.ETCDConfig
}

var _ component.Component = (*Datastore)(nil)
var _ component.Readier = (*Datastore)(nil)

// Name implements component.Component.
func (d *Datastore) Name() string { return "datastore" }

// Init implements component.Component.
func (d *Datastore) Init(context.Context) error {
	logrus.SetLevel(logrus.WarnLevel)
	if d.isEtcd() {
		return nil
	}
	// A socket left by a killed server is removed by kine itself; a live
	// one means another server uses this data dir.
	if conn, err := net.DialTimeout("unix", d.Config.Paths().KineSocket, time.Second); err == nil {
		conn.Close()
		return fmt.Errorf("another velad server is using data dir %s; stop it first", d.Config.DataDir)
	}
	return nil
}

// kineConfig builds kine's settings the way its command line defaults do;
// left at zero kine refuses to start.
func (d *Datastore) kineConfig() endpoint.Config {
	p := d.Config.Paths()
	ep := d.Config.DatabaseEndpoint
	if ep == "" {
		ep = "sqlite://" + p.SQLiteDB + "?" + sqliteParams
	}
	return endpoint.Config{
		WaitGroup:           &d.wg,
		Listener:            "unix://" + p.KineSocket,
		Endpoint:            ep,
		NotifyInterval:      5 * time.Second,
		EmulatedETCDVersion: "3.6.11",
		// The API server compacts; kine's own compaction stays off.
		CompactInterval:  0,
		CompactTimeout:   5 * time.Second,
		CompactMinRetain: 1000,
		CompactBatchSize: 1000,
		PollBatchSize:    500,
		PollInterval:     time.Second,
		BackendTLSConfig: tls.Config{
			CAFile:   d.Config.DatastoreCAFile,
			CertFile: d.Config.DatastoreCertFile,
			KeyFile:  d.Config.DatastoreKeyFile,
		},
	}
}

// reachAttempts bounds the check that an external datastore answers.
const reachAttempts = 10

// Start implements component.Component.
func (d *Datastore) Start(ctx context.Context) error {
	// kine retries an unreachable database forever; say so up front.
	if addr, ok := externalAddress(d.Config.DatabaseEndpoint); ok {
		if err := reachable(ctx, addr, reachAttempts); err != nil {
			return fmt.Errorf("cannot reach the datastore at %s (%v); check --database-endpoint and that the database is running", addr, err)
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	type result struct {
		etcd endpoint.ETCDConfig
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		var r result
		r.err = recovered(func() error {
			var err error
			r.etcd, err = endpoint.Listen(runCtx, d.kineConfig())
			return err
		})
		ch <- r
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			cancel()
			d.wg.Wait()
			return fmt.Errorf("cannot open the datastore (%v); %s", r.err, d.hint())
		}
		d.etcd = r.etcd
		return nil
	case <-ctx.Done():
		cancel()
		return ctx.Err()
	}
}

func (d *Datastore) hint() string {
	if d.Config.DatabaseEndpoint == "" {
		return "check that " + d.Config.Paths().DBDir + " is writable and not full"
	}
	return "check that --database-endpoint is reachable and its credentials are right"
}

// Ready implements component.Readier: the etcd API answers a connection.
func (d *Datastore) Ready(ctx context.Context) error {
	for _, ep := range d.Endpoints() {
		network, addr, err := dialTarget(ep)
		if err != nil {
			return err
		}
		dialer := net.Dialer{Timeout: 2 * time.Second}
		conn, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			if d.isEtcd() {
				return fmt.Errorf("cannot reach etcd at %s (%v); check --database-endpoint", addr, err)
			}
			return err
		}
		conn.Close()
	}
	return nil
}

// Stop implements component.Component. It waits for kine to close the
// database and removes the socket.
func (d *Datastore) Stop() error {
	if d.cancel == nil {
		return nil
	}
	d.cancel()
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(stopTimeout):
		return fmt.Errorf("kine still running %s after being asked to stop", stopTimeout)
	}
	if !d.isEtcd() {
		if err := os.Remove(d.Config.Paths().KineSocket); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Endpoints are the etcd endpoints for the API server.
func (d *Datastore) Endpoints() []string { return d.etcd.Endpoints }

// TLS is the client TLS the API server needs for an external etcd.
func (d *Datastore) TLS() tls.Config { return d.etcd.TLSConfig }

// LeaderElect reports whether the datastore supports several servers, so
// the control-plane components must elect a leader.
func (d *Datastore) LeaderElect() bool { return d.etcd.LeaderElect }

func (d *Datastore) isEtcd() bool {
	ep := d.Config.DatabaseEndpoint
	return strings.HasPrefix(ep, "http://") || strings.HasPrefix(ep, "https://")
}

// externalAddress returns host:port of a networked datastore endpoint.
func externalAddress(ep string) (string, bool) {
	scheme, rest, ok := strings.Cut(ep, "://")
	if !ok {
		return "", false
	}
	defaults := map[string]string{"postgres": "5432", "postgresql": "5432", "mysql": "3306", "http": "2379", "https": "2379"}
	port, known := defaults[scheme]
	if !known {
		return "", false
	}
	var host string
	if scheme == "mysql" {
		// go-sql-driver DSN: user:pass@tcp(host:port)/db
		if i := strings.Index(rest, "tcp("); i >= 0 {
			host, _, _ = strings.Cut(rest[i+4:], ")")
		}
	} else {
		first, _, _ := strings.Cut(rest, ",") // etcd: several endpoints
		u, err := url.Parse(scheme + "://" + first)
		if err == nil {
			host = u.Host
		}
	}
	if host == "" {
		return "", false
	}
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(host, port)
	}
	return host, true
}

// reachable dials addr until it answers, at most attempts times a second apart.
func reachable(ctx context.Context, addr string, attempts int) error {
	var err error
	for i := range attempts {
		if i > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
		}
		var conn net.Conn
		dialer := net.Dialer{Timeout: 2 * time.Second}
		if conn, err = dialer.DialContext(ctx, "tcp", addr); err == nil {
			conn.Close()
			return nil
		}
	}
	return err
}

func dialTarget(ep string) (network, addr string, err error) {
	u, err := url.Parse(ep)
	if err != nil {
		return "", "", fmt.Errorf("datastore endpoint %q: %w", ep, err)
	}
	switch u.Scheme {
	case "unix", "unixs":
		return "unix", u.Host + u.Path, nil
	default:
		return "tcp", u.Host, nil
	}
}
