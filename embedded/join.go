package embedded

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"time"

	"k8s.io/klog/v2"

	"github.com/velad-dev/velad/embedded/component"
	"github.com/velad-dev/velad/embedded/config"
	"github.com/velad-dev/velad/embedded/fileutil"
	"github.com/velad-dev/velad/embedded/pki"
	"github.com/velad-dev/velad/embedded/supervisor"
	"github.com/velad-dev/velad/embedded/token"
)

// joinRetryMax bounds the backoff between attempts to reach the server.
const joinRetryMax = 30 * time.Second

// JoinState is what an agent keeps of its join (JoinFile): a restarted
// agent starts from it without asking the server again, so a one-time
// token is needed only once; uninstall finds the server there.
type JoinState struct {
	ServerURL string                     `json:"serverURL"`
	NodeName  string                     `json:"nodeName"`
	Cluster   supervisor.ClusterSettings `json:"cluster"`
}

type joinState = JoinState

// ReadJoinState reads an agent's JoinFile.
func ReadJoinState(p config.Paths) (JoinState, error) {
	var st JoinState
	data, err := os.ReadFile(p.JoinFile)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("%s: %w", p.JoinFile, err)
	}
	return st, nil
}

// APIServerURL is the server's API server as an agent reaches it
// directly (not through its load balancer).
func (s JoinState) APIServerURL() (string, error) {
	u, err := url.Parse(s.ServerURL)
	if err != nil {
		return "", err
	}
	return "https://" + net.JoinHostPort(u.Hostname(), strconv.Itoa(s.Cluster.APIServerPort)), nil
}

// Join registers an agent with the server (its supervisor): it checks the
// server's CA against the hash the token pins, sends the token, the node
// password and certificate requests, and writes the CAs and certificates
// it gets back. It then fills the cluster settings into Config. All its
// work is in Init, before any other component prepares its files.
type Join struct {
	Config *config.Config

	// APIServer is host:port of the server's API server, once Init ran.
	APIServer string
}

var _ component.Component = (*Join)(nil)

// Name implements component.Component.
func (j *Join) Name() string { return "join" }

// Init implements component.Component.
func (j *Join) Init(ctx context.Context) error {
	p := j.Config.Paths()
	for _, dir := range []string{j.Config.DataDir, p.AgentDir, p.AgentTLSDir} {
		if err := fileutil.MkdirAll(dir, config.PrivateDirMode); err != nil {
			return fmt.Errorf("data dir %s is not usable (%v); run as root or pick another --data-dir", j.Config.DataDir, unwrapPath(err))
		}
	}
	u, err := url.Parse(j.Config.ServerURL)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return fmt.Errorf("--server %q is not https://HOST:PORT (the server's supervisor, port %d by default)", j.Config.ServerURL, config.DefaultSupervisorPort)
	}
	state, err := j.stored()
	if err != nil {
		state, err = j.join(ctx)
		if err != nil {
			return err
		}
	}
	j.apply(state, u.Hostname())
	return nil
}

// stored returns the state of an earlier join to the same server whose
// certificates are all still here.
func (j *Join) stored() (joinState, error) {
	st, err := ReadJoinState(j.Config.Paths())
	if err != nil {
		return st, err
	}
	if st.NodeName != j.Config.NodeName {
		return st, errors.New("joined as another node")
	}
	if st.ServerURL != j.Config.ServerURL {
		return st, errors.New("joined another server")
	}
	if j.Config.NodePool != "" && st.Cluster.NodePool != j.Config.NodePool {
		return st, errors.New("joined another pool")
	}
	spec := PKISpec(j.Config)
	for name := range pki.NodeRequests(j.Config.NodeName, nil) {
		if _, err := spec.ReadCert(name); err != nil {
			return st, err
		}
	}
	return st, nil
}

func (j *Join) join(ctx context.Context) (joinState, error) {
	tok, err := token.Parse(j.Config.Token)
	if err != nil {
		return joinState{}, fmt.Errorf("--token: %w", err)
	}
	password, err := j.nodePassword()
	if err != nil {
		return joinState{}, err
	}
	req := supervisor.JoinRequest{NodeName: j.Config.NodeName, NodePassword: password, NodePool: j.Config.NodePool, CSRs: map[string]string{}}
	var ips []net.IP
	if ip := net.ParseIP(j.Config.NodeIP); ip != nil {
		req.NodeIPs = []string{ip.String()}
		ips = append(ips, ip)
	}
	keys := map[string][]byte{}
	for name, r := range pki.NodeRequests(j.Config.NodeName, ips) {
		csr, key, err := pki.NewCSR(r.CN)
		if err != nil {
			return joinState{}, err
		}
		req.CSRs[name], keys[name] = string(csr), key
	}
	resp, err := j.joinWithRetry(ctx, tok, req)
	if err != nil {
		return joinState{}, err
	}
	spec := PKISpec(j.Config)
	if err := spec.WriteCA(pki.ServerCA, []byte(resp.ServerCA)); err != nil {
		return joinState{}, err
	}
	if err := spec.WriteCA(pki.ClientCA, []byte(resp.ClientCA)); err != nil {
		return joinState{}, err
	}
	for name, key := range keys {
		if err := spec.WriteSigned(name, []byte(resp.Certs[name]), key); err != nil {
			return joinState{}, err
		}
	}
	st := joinState{ServerURL: j.Config.ServerURL, NodeName: j.Config.NodeName, Cluster: resp.Cluster}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return joinState{}, err
	}
	if err := fileutil.WriteAtomic(j.Config.Paths().JoinFile, data, config.SecretFileMode); err != nil {
		return joinState{}, err
	}
	return st, nil
}

// joinWithRetry retries while the server cannot be reached, with a
// backoff, and says so; a refusal ends it at once.
func (j *Join) joinWithRetry(ctx context.Context, tok token.Token, req supervisor.JoinRequest) (*supervisor.JoinResponse, error) {
	backoff := time.Second
	for {
		ca, err := supervisor.FetchCA(ctx, j.Config.ServerURL, tok)
		var resp *supervisor.JoinResponse
		if err == nil {
			resp, err = supervisor.Join(ctx, j.Config.ServerURL, ca, tok, req)
		}
		if err == nil {
			return resp, nil
		}
		var refused *supervisor.Refused
		if errors.As(err, &refused) {
			return nil, err
		}
		klog.Warningf("cannot join through %s yet (%v); retrying in %s", j.Config.ServerURL, err, backoff)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("gave up joining through %s: %w", j.Config.ServerURL, err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, joinRetryMax)
	}
}

// nodePassword reads the node's password or makes one.
func (j *Join) nodePassword() (string, error) {
	path := j.Config.Paths().NodePasswordFile
	if data, err := os.ReadFile(path); err == nil && len(data) >= 16 {
		return string(data), nil
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	pw := hex.EncodeToString(b)
	if err := fileutil.WriteAtomic(path, []byte(pw), config.SecretFileMode); err != nil {
		return "", fmt.Errorf("write node password: %w", err)
	}
	return pw, nil
}

// apply puts what the server said into the agent's settings.
func (j *Join) apply(st joinState, host string) {
	c := st.Cluster
	j.Config.ClusterCIDR, j.Config.ServiceCIDR, j.Config.ClusterDomain = c.ClusterCIDR, c.ServiceCIDR, c.ClusterDomain
	j.Config.NodeLabels = appendMissing(j.Config.NodeLabels, c.NodeLabels)
	j.Config.NodeTaints = appendMissing(j.Config.NodeTaints, c.NodeTaints)
	j.APIServer = net.JoinHostPort(host, strconv.Itoa(c.APIServerPort))
}

func appendMissing(list, add []string) []string {
	for _, a := range add {
		found := false
		for _, l := range list {
			found = found || l == a
		}
		if !found {
			list = append(list, a)
		}
	}
	return list
}

// Start implements component.Component.
func (j *Join) Start(context.Context) error { return nil }

// Stop implements component.Component.
func (j *Join) Stop() error { return nil }
