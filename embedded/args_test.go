package embedded

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"

	"github.com/velad-dev/velad/embedded/config"
	goldenfile "github.com/velad-dev/velad/internal/golden"
)

// golden compares got with testdata/<name>.golden.
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Assert(t, filepath.Join("testdata", name+".golden"), []byte(got))
}

func testConfig() *config.Config {
	cfg := config.Default()
	cfg.DataDir = "/var/lib/velad"
	cfg.AdvertiseIP = "192.0.2.10"
	return &cfg
}

func TestComponentArgs(t *testing.T) {
	sqlite := EtcdEndpoint{Servers: []string{"unix:///var/lib/velad/server/db/kine.sock"}}
	cases := []struct {
		name string
		args func() []string
	}{
		{"apiserver-sqlite", func() []string { return APIServerArgs(testConfig(), sqlite) }},
		{"apiserver-etcd-tls", func() []string {
			cfg := testConfig()
			cfg.HTTPSPort = 7443
			cfg.ServiceCIDR = "10.96.0.0/12"
			cfg.ClusterDomain = "edge.local"
			return APIServerArgs(cfg, EtcdEndpoint{
				Servers: []string{"https://10.0.0.1:2379", "https://10.0.0.2:2379"},
				CAFile:  "/etc/etcd/ca.crt", CertFile: "/etc/etcd/client.crt", KeyFile: "/etc/etcd/client.key",
			})
		}},
		{"controller-manager", func() []string { return ControllerManagerArgs(testConfig(), false) }},
		{"controller-manager-ha", func() []string { return ControllerManagerArgs(testConfig(), true) }},
		{"scheduler", func() []string { return SchedulerArgs(testConfig(), false) }},
		{"kubelet", func() []string {
			cfg := nodeConfig()
			return KubeletArgs(cfg)
		}},
		{"kube-proxy", func() []string { return KubeProxyArgs(nodeConfig(), "iptables") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, strings.Join(tc.args(), "\n")+"\n")
		})
	}
}

func nodeConfig() *config.Config {
	cfg := testConfig()
	cfg.NodeName = "edge-1"
	cfg.NodeIP = "192.0.2.10"
	cfg.NodeLabels = []string{"velad.dev/pool=edge", "tier=web"}
	cfg.NodeTaints = []string{"dedicated=edge:NoSchedule"}
	return cfg
}

func TestNodeConfigFiles(t *testing.T) {
	cases := []struct {
		name   string
		render func() (string, error)
	}{
		{"kubelet-config-cgroupfs.yaml", func() (string, error) {
			out, err := KubeletConfigYAML(nodeConfig(), KubeletHost{ResolvConf: "/etc/resolv.conf"})
			return string(out), err
		}},
		{"kubelet-config-systemd.yaml", func() (string, error) {
			cfg := nodeConfig()
			cfg.NodeTaints = nil
			out, err := KubeletConfigYAML(cfg, KubeletHost{SystemdCgroup: true, ResolvConf: "/run/systemd/resolve/resolv.conf"})
			return string(out), err
		}},
		{"containerd-config.toml", func() (string, error) {
			return ContainerdConfigTOML(ContainerdSettings{
				Root: "/var/lib/velad/agent/containerd", State: "/run/velad/containerd",
				Socket: "/run/velad/containerd/containerd.sock", BinDir: "/var/lib/velad/data/abc/bin",
				CNIConfDir: "/var/lib/velad/agent/etc/cni/net.d", RegistryConfigDir: "/var/lib/velad/agent/etc/containerd/certs.d",
				SandboxImage: SandboxImage, RestrictOOMScoreAdj: true,
			}), nil
		}},
		{"registry-hosts-docker.io.toml", func() (string, error) {
			return RegistryHostsTOML("docker.io", []string{"https://registry.local:5000", "http://10.0.0.9:5000"}), nil
		}},
		{"cni.conflist", func() (string, error) {
			out, err := CNIConflist("10.42.0.0/24", "/run/velad/cni/networks", 1450)
			return string(out) + "\n", err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.render()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, got)
		})
	}
}

// TestKubeletConfigLoads loads the generated config with the kubelet's own
// loader and flag parser, so what the golden file shows is what runs.
func TestKubeletConfigLoads(t *testing.T) {
	cfg := nodeConfig()
	cfg.DataDir = t.TempDir()
	data, err := KubeletConfigYAML(cfg, KubeletHost{ResolvConf: "/etc/resolv.conf"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Paths().KubeletConfig), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.Paths().KubeletConfig, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := kubeletServer(context.Background(), KubeletArgs(cfg))
	if err != nil {
		t.Fatal(err)
	}
	kc := s.KubeletConfiguration
	if kc.FailCgroupV1 || kc.FailSwapOn || kc.CgroupDriver != "cgroupfs" || kc.Authentication.Anonymous.Enabled ||
		len(kc.RegisterWithTaints) != 1 || kc.RegisterWithTaints[0].Key != "dedicated" || kc.ClusterDNS[0] != "10.43.0.10" {
		t.Fatalf("unexpected kubelet config: %+v", kc)
	}
	if s.NodeLabels["velad.dev/pool"] != "edge" || s.HostnameOverride != "edge-1" {
		t.Fatalf("unexpected kubelet flags: %+v", s.KubeletFlags)
	}
}

func TestWriteRegistryConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "ghcr.io"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A user's own hosts.toml is left alone.
	os.WriteFile(filepath.Join(dir, "ghcr.io", "hosts.toml"), []byte("server = \"https://ghcr.io\"\n"), 0o644)
	if err := writeRegistryConfig(dir, []string{"docker.io=https://a:5000", "quay.io=https://b:5000"}); err != nil {
		t.Fatal(err)
	}
	if err := writeRegistryConfig(dir, []string{"docker.io=https://a:5000"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "quay.io")); !os.IsNotExist(err) {
		t.Error("a mirror velad wrote and no longer configures was kept")
	}
	if _, err := os.Stat(filepath.Join(dir, "ghcr.io", "hosts.toml")); err != nil {
		t.Error("the user's own hosts.toml was removed")
	}
	data, _ := os.ReadFile(filepath.Join(dir, "docker.io", "hosts.toml"))
	if !strings.Contains(string(data), `[host."https://a:5000"]`) {
		t.Errorf("docker.io hosts.toml:\n%s", data)
	}
}

func TestProxyMode(t *testing.T) {
	has := func(tools ...string) func(string) (string, error) {
		return func(name string) (string, error) {
			for _, t := range tools {
				if t == name {
					return "/usr/sbin/" + name, nil
				}
			}
			return "", os.ErrNotExist
		}
	}
	cases := []struct {
		tools   []string
		want    string
		wantErr bool
	}{
		{[]string{"iptables", "nft"}, "iptables", false},
		{[]string{"nft"}, "nftables", false},
		{nil, "", true},
	}
	for _, tc := range cases {
		got, err := ProxyMode(has(tc.tools...))
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("ProxyMode(%v) = %q, %v", tc.tools, got, err)
		}
	}
}

func TestCapEff(t *testing.T) {
	status := "Name:\tvelad\nCapEff:\t00000000a80425fb\n"
	if capEffHas(status, capSysResource) {
		t.Error("CAP_SYS_RESOURCE reported although bit 24 is clear")
	}
	if !capEffHas("CapEff:\t000001ffffffffff\n", capSysResource) {
		t.Error("CAP_SYS_RESOURCE not seen in a full set")
	}
}

// TestArgsParse feeds each argument list to the component's own flag
// parser, so a renamed or removed upstream flag fails here, not at boot.
func TestArgsParse(t *testing.T) {
	cfg := testConfig()
	ds := &Datastore{Config: cfg}
	cases := []struct {
		name  string
		parse func() error
	}{
		{"kube-apiserver", func() error {
			_, err := apiServerOptions(APIServerArgs(cfg, EtcdEndpoint{Servers: []string{"unix:///x.sock"}}))
			return err
		}},
		{"kube-controller-manager", func() error {
			_, err := controllerManagerOptions(ControllerManagerArgs(cfg, ds.LeaderElect()))
			return err
		}},
		{"kube-scheduler", func() error {
			_, err := schedulerOptions(SchedulerArgs(cfg, false))
			return err
		}},
		{"kube-proxy", func() error {
			fs := pflag.NewFlagSet("kube-proxy", pflag.ContinueOnError)
			proxy.NewOptions().AddFlags(fs)
			return fs.Parse(KubeProxyArgs(nodeConfig(), "iptables"))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.parse(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := schedulerOptions([]string{"--no-such-flag"}); err == nil || !strings.Contains(err.Error(), "unknown flag: --no-such-flag") {
		t.Fatalf("unknown flag error = %v", err)
	}
}
