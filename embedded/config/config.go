// Package config holds the settings of a velad server and validates them
// before anything is written or started.
package config

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
)

// Defaults, in k3s's spirit.
const (
	DefaultDataDir               = "/var/lib/velad"
	DefaultKubeconfigPath        = "/etc/velad/velad.yaml"
	DefaultClusterCIDR           = "10.42.0.0/16"
	DefaultServiceCIDR           = "10.43.0.0/16"
	DefaultClusterDomain         = "cluster.local"
	DefaultHTTPSPort             = 6443
	DefaultControllerManagerPort = 10257
	DefaultSchedulerPort         = 10259
	// DefaultSupervisorPort is where agents join (TLS, the server CA), as
	// RKE2's supervisor.
	DefaultSupervisorPort = 9345
	// DefaultAgentLBPort is the agent's local load balancer to the API
	// server (127.0.0.1), as k3s's.
	DefaultAgentLBPort = 6444
)

// Config is everything a velad server needs to know. Exported fields are
// settings (flags); nothing here is runtime state.
type Config struct {
	DataDir string
	// KubeconfigPath is where the admin kubeconfig is written for users
	// (in addition to the copy in the data dir). Empty: do not write it.
	KubeconfigPath string

	// BindIP is the address users reach the API server on from outside;
	// it becomes a serving-cert SAN and the server of `kubeconfig --external`.
	BindIP string
	// AdvertiseIP is the address the API server advertises to the cluster
	// (the `kubernetes` Service endpoint). Empty: BindIP, else the host's
	// primary address.
	AdvertiseIP string
	TLSSANs     []string
	Token       string

	// DatabaseEndpoint is empty for SQLite in the data dir, or any endpoint
	// kine accepts (postgres://, mysql://, http(s):// for etcd, ...).
	DatabaseEndpoint  string
	DatastoreCAFile   string
	DatastoreCertFile string
	DatastoreKeyFile  string

	DisableAgent bool
	// NodeName is the node's name (default: the hostname).
	NodeName   string
	NodeIP     string
	NodeLabels []string
	NodeTaints []string
	// RegistryMirrors are HOST=URL pairs: pulls of HOST's images try URL
	// first (an in-house registry for air-gapped sites).
	RegistryMirrors []string

	ClusterCIDR   string
	ServiceCIDR   string
	ClusterDomain string

	HTTPSPort             int
	ControllerManagerPort int
	SchedulerPort         int
	// SupervisorPort is the server's join API (0: no join API).
	SupervisorPort int

	// Agent settings: ServerURL is the supervisor an agent joins
	// (https://HOST:9345); set only on agents.
	ServerURL string
	// NodePool is the pool the node asks to join (agents).
	NodePool string
}

// IsAgent reports whether these are the settings of an agent (a node that
// joins a server) rather than of a server.
func (c *Config) IsAgent() bool { return c.ServerURL != "" }

// Default returns a Config with every default filled in.
func Default() Config {
	return Config{
		DataDir:               DefaultDataDir,
		KubeconfigPath:        DefaultKubeconfigPath,
		ClusterCIDR:           DefaultClusterCIDR,
		ServiceCIDR:           DefaultServiceCIDR,
		ClusterDomain:         DefaultClusterDomain,
		HTTPSPort:             DefaultHTTPSPort,
		ControllerManagerPort: DefaultControllerManagerPort,
		SchedulerPort:         DefaultSchedulerPort,
		SupervisorPort:        DefaultSupervisorPort,
	}
}

// DefaultAgent returns the defaults of an agent: the API server is reached
// through the local load balancer on HTTPSPort.
func DefaultAgent() Config {
	c := Default()
	c.HTTPSPort = DefaultAgentLBPort
	c.SupervisorPort = 0
	c.KubeconfigPath = ""
	return c
}

// Paths returns the file layout derived from the data dir.
func (c *Config) Paths() Paths { return NewPaths(c.DataDir) }

// UsesSQLite reports whether the datastore is the embedded SQLite database.
func (c *Config) UsesSQLite() bool {
	return c.DatabaseEndpoint == "" || strings.HasPrefix(c.DatabaseEndpoint, "sqlite://")
}

// Validate checks the settings and normalises paths. Every error says which
// flag is wrong and what it expects.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.DataDir == "" {
		add("--data-dir must not be empty")
	} else if abs, err := filepath.Abs(c.DataDir); err != nil {
		add("--data-dir %q: %v", c.DataDir, err)
	} else {
		c.DataDir = abs
	}
	if c.BindIP != "" && net.ParseIP(c.BindIP) == nil {
		add("--bind-ip %q is not an IP address", c.BindIP)
	}
	if ip := net.ParseIP(c.AdvertiseIP); c.AdvertiseIP != "" && ip == nil {
		add("--advertise-address %q is not an IP address", c.AdvertiseIP)
	} else if ip != nil && ip.IsLoopback() {
		add("--advertise-address %s is a loopback address; pods could not reach the API server there, use the host's address", c.AdvertiseIP)
	}
	for _, san := range c.TLSSANs {
		if !validSAN(san) {
			add("--tls-san %q is neither an IP address nor a DNS name", san)
		}
	}
	switch {
	case c.IsAgent() && c.Token == "":
		add("--token is needed to join; run `velad token create` on the server")
	case !c.IsAgent() && strings.ContainsAny(c.Token, " \t\n:"):
		add("--token must not contain spaces or ':'")
	}
	clusterNet, err := parseCIDR("--cluster-cidr", c.ClusterCIDR, 24)
	if err != nil {
		errs = append(errs, err)
	}
	serviceNet, err := parseCIDR("--service-cidr", c.ServiceCIDR, 28)
	if err != nil {
		errs = append(errs, err)
	}
	if clusterNet != nil && serviceNet != nil && overlaps(clusterNet, serviceNet) {
		add("--cluster-cidr %s and --service-cidr %s overlap; pick ranges that do not", c.ClusterCIDR, c.ServiceCIDR)
	}
	if c.ClusterDomain == "" {
		add("--cluster-domain must not be empty")
	}
	if err := c.validateNode(); err != nil {
		errs = append(errs, err)
	}
	if err := c.validateDatastore(); err != nil {
		errs = append(errs, err)
	}
	if err := c.validatePorts(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c *Config) validateDatastore() error {
	tlsFiles := c.DatastoreCAFile != "" || c.DatastoreCertFile != "" || c.DatastoreKeyFile != ""
	if c.DatabaseEndpoint == "" {
		if tlsFiles {
			return errors.New("--datastore-cafile/--datastore-certfile/--datastore-keyfile need --database-endpoint; the embedded SQLite datastore takes no TLS files")
		}
		return nil
	}
	scheme, _, ok := strings.Cut(c.DatabaseEndpoint, "://")
	if !ok || scheme == "" {
		return fmt.Errorf("--database-endpoint %q is not a URL; use e.g. postgres://user:pass@host:5432/velad, mysql://user:pass@tcp(host:3306)/velad or https://etcd-host:2379", redact(c.DatabaseEndpoint))
	}
	switch scheme {
	case "sqlite", "postgres", "postgresql", "mysql", "http", "https", "nats":
	default:
		return fmt.Errorf("--database-endpoint scheme %q is not supported; use sqlite://, postgres://, mysql://, nats:// or http(s):// (etcd)", scheme)
	}
	if (c.DatastoreCertFile == "") != (c.DatastoreKeyFile == "") {
		return errors.New("--datastore-certfile and --datastore-keyfile must be given together")
	}
	return nil
}

func (c *Config) validateNode() error {
	var errs []error
	if c.NodePool != "" && (!validSAN(c.NodePool) || strings.Contains(c.NodePool, ".")) {
		errs = append(errs, fmt.Errorf("--node-pool %q is not a valid pool name; use lowercase letters, digits and '-'", c.NodePool))
	}
	if c.DisableAgent {
		if len(c.NodeLabels) > 0 || len(c.NodeTaints) > 0 || c.NodeIP != "" || len(c.RegistryMirrors) > 0 {
			errs = append(errs, errors.New("--node-label, --node-taint, --node-ip and --registry-mirror need a node; they contradict --disable-agent"))
		}
		return errors.Join(errs...)
	}
	if c.NodeName != "" && !validSAN(c.NodeName) {
		errs = append(errs, fmt.Errorf("--node-name %q is not a valid DNS name; use lowercase letters, digits, '-' and '.'", c.NodeName))
	}
	if ip := net.ParseIP(c.NodeIP); c.NodeIP != "" && ip == nil {
		errs = append(errs, fmt.Errorf("--node-ip %q is not an IP address", c.NodeIP))
	}
	for _, l := range c.NodeLabels {
		if k, _, ok := strings.Cut(l, "="); !ok || k == "" {
			errs = append(errs, fmt.Errorf("--node-label %q is not key=value", l))
		}
	}
	for _, m := range c.RegistryMirrors {
		host, u, ok := strings.Cut(m, "=")
		if !ok || host == "" || strings.Contains(host, "/") || !(strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")) {
			errs = append(errs, fmt.Errorf("--registry-mirror %q is not HOST=http(s)://MIRROR, e.g. docker.io=https://registry.local:5000", m))
		}
	}
	for _, t := range c.NodeTaints {
		kv, effect, ok := strings.Cut(t, ":")
		if !ok || kv == "" || (effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute") {
			errs = append(errs, fmt.Errorf("--node-taint %q is not key[=value]:NoSchedule|PreferNoSchedule|NoExecute", t))
		}
	}
	return errors.Join(errs...)
}

func (c *Config) validatePorts() error {
	ports := map[string]int{
		"--https-listen-port":            c.HTTPSPort,
		"--kube-controller-manager-port": c.ControllerManagerPort,
		"--kube-scheduler-port":          c.SchedulerPort,
		"--supervisor-port":              c.SupervisorPort,
	}
	seen := map[int]string{}
	var errs []error
	for _, flag := range []string{"--https-listen-port", "--kube-controller-manager-port", "--kube-scheduler-port", "--supervisor-port"} {
		p := ports[flag]
		if p == 0 && flag == "--supervisor-port" {
			continue
		}
		if p < 1 || p > 65535 {
			errs = append(errs, fmt.Errorf("%s %d is not a TCP port (1-65535)", flag, p))
			continue
		}
		if other, dup := seen[p]; dup {
			errs = append(errs, fmt.Errorf("%s and %s both use port %d; give each its own", other, flag, p))
		}
		seen[p] = flag
	}
	return errors.Join(errs...)
}

// ServiceIP returns the first address of the service CIDR: the
// `kubernetes.default` Service's cluster IP.
func (c *Config) ServiceIP() net.IP { return nthIP(c.ServiceCIDR, 1) }

// ClusterDNSIP returns the tenth address of the service CIDR, where cluster
// DNS lives (10.43.0.10 by default).
func (c *Config) ClusterDNSIP() net.IP { return nthIP(c.ServiceCIDR, 10) }

func nthIP(cidr string, n byte) net.IP {
	_, ipnet, err := net.ParseCIDR(cidr)
	if err != nil {
		return nil
	}
	ip := make(net.IP, len(ipnet.IP))
	copy(ip, ipnet.IP)
	ip[len(ip)-1] += n
	return ip
}

func parseCIDR(flag, value string, maxPrefix int) (*net.IPNet, error) {
	ip, ipnet, err := net.ParseCIDR(value)
	if err != nil {
		return nil, fmt.Errorf("%s %q is not a CIDR such as 10.42.0.0/16", flag, value)
	}
	if ip.To4() == nil {
		return nil, fmt.Errorf("%s %q: only IPv4 ranges are supported", flag, value)
	}
	if ones, _ := ipnet.Mask.Size(); ones > maxPrefix {
		return nil, fmt.Errorf("%s %q is too small; use a /%d or larger range", flag, value, maxPrefix)
	}
	return ipnet, nil
}

func overlaps(a, b *net.IPNet) bool { return a.Contains(b.IP) || b.Contains(a.IP) }

func validSAN(s string) bool {
	if net.ParseIP(s) != nil {
		return true
	}
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimPrefix(s, "*."), ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}

// redact hides a password in an endpoint URL before it is printed.
func redact(endpoint string) string {
	i := strings.LastIndex(endpoint, "@")
	if i < 0 {
		return endpoint
	}
	if j := strings.Index(endpoint, "://"); j > 0 && j < i {
		return endpoint[:j+3] + "***" + endpoint[i:]
	}
	return "***" + endpoint[i:]
}
