package config

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		name    string
		change  func(c *Config)
		wantErr string // empty: valid
	}{
		{"defaults", func(c *Config) {}, ""},
		{"postgres endpoint", func(c *Config) { c.DatabaseEndpoint = "postgres://u:p@db:5432/velad" }, ""},
		{"etcd endpoint with TLS", func(c *Config) {
			c.DatabaseEndpoint = "https://10.0.0.1:2379"
			c.DatastoreCAFile, c.DatastoreCertFile, c.DatastoreKeyFile = "/ca", "/crt", "/key"
		}, ""},
		{"tls-san names and IPs", func(c *Config) { c.TLSSANs = []string{"velad.example.test", "*.edge.test", "192.0.2.1"} }, ""},
		{"bad bind ip", func(c *Config) { c.BindIP = "300.1.1.1" }, `--bind-ip "300.1.1.1" is not an IP address`},
		{"bad tls-san", func(c *Config) { c.TLSSANs = []string{"not a name"} }, `--tls-san "not a name" is neither an IP address nor a DNS name`},
		{"bad cluster cidr", func(c *Config) { c.ClusterCIDR = "10.42.0.0" }, `--cluster-cidr "10.42.0.0" is not a CIDR such as 10.42.0.0/16`},
		{"ipv6 service cidr", func(c *Config) { c.ServiceCIDR = "fd00::/108" }, `--service-cidr "fd00::/108": only IPv4 ranges are supported`},
		{"cluster cidr too small", func(c *Config) { c.ClusterCIDR = "10.42.0.0/25" }, `--cluster-cidr "10.42.0.0/25" is too small; use a /24 or larger range`},
		{"overlapping cidrs", func(c *Config) { c.ServiceCIDR = "10.42.128.0/20" }, "--cluster-cidr 10.42.0.0/16 and --service-cidr 10.42.128.0/20 overlap"},
		{"unknown datastore scheme", func(c *Config) { c.DatabaseEndpoint = "redis://x" }, `--database-endpoint scheme "redis" is not supported`},
		{"endpoint not a url, password hidden", func(c *Config) { c.DatabaseEndpoint = "user:secret@db" }, `--database-endpoint "***@db" is not a URL`},
		{"tls files without endpoint", func(c *Config) { c.DatastoreCAFile = "/ca" }, "need --database-endpoint"},
		{"cert without key", func(c *Config) {
			c.DatabaseEndpoint = "https://e:2379"
			c.DatastoreCertFile = "/crt"
		}, "--datastore-certfile and --datastore-keyfile must be given together"},
		{"port out of range", func(c *Config) { c.HTTPSPort = 70000 }, "--https-listen-port 70000 is not a TCP port"},
		{"same port twice", func(c *Config) { c.SchedulerPort = c.HTTPSPort }, "--https-listen-port and --kube-scheduler-port both use port 6443"},
		{"token with colon", func(c *Config) { c.Token = "a:b" }, "--token must not contain spaces or ':'"},
		{"registry mirror", func(c *Config) { c.RegistryMirrors = []string{"docker.io=https://registry.local:5000"} }, ""},
		{"bad registry mirror", func(c *Config) { c.RegistryMirrors = []string{"docker.io"} }, `--registry-mirror "docker.io" is not HOST=http(s)://MIRROR`},
		{"node flags with --disable-agent", func(c *Config) {
			c.DisableAgent = true
			c.NodeLabels = []string{"a=b"}
		}, "contradict --disable-agent"},
		{"empty data dir", func(c *Config) { c.DataDir = "" }, "--data-dir must not be empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.change(&c)
			err := c.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestDerivedAddresses(t *testing.T) {
	c := Default()
	if got := c.ServiceIP().String(); got != "10.43.0.1" {
		t.Errorf("ServiceIP = %s", got)
	}
	if got := c.ClusterDNSIP().String(); got != "10.43.0.10" {
		t.Errorf("ClusterDNSIP = %s", got)
	}
	c.DataDir = "relative/dir"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.DataDir, "/") {
		t.Errorf("data dir not made absolute: %s", c.DataDir)
	}
	p := NewPaths("/d")
	if p.KineSocket != "/d/server/db/kine.sock" || p.AdminKubeconfig != "/d/server/cred/admin.kubeconfig" {
		t.Errorf("unexpected layout %+v", p)
	}
}
