package embedded

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/velad-dev/velad/embedded/config"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/<name>.golden.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (run go test -update after checking the change):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
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
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, strings.Join(tc.args(), "\n")+"\n")
		})
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
