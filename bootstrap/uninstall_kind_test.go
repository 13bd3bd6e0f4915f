package bootstrap

import (
	"slices"
	"strings"
	"testing"
)

func TestUnitServerArgs(t *testing.T) {
	args := []string{"--data-dir=/tmp/a b/server", "--write-kubeconfig=/x", `--tls-san`, `q"uote\`}
	got, err := unitServerArgs(UnitContent(args))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, args) {
		t.Errorf("unitServerArgs = %q, want %q", got, args)
	}
	if _, err := unitServerArgs("[Service]\nExecStart=/usr/bin/other run\n"); err == nil {
		t.Error("a unit that does not run velad server: no error")
	}
}

func TestDecideKind(t *testing.T) {
	cases := []struct {
		name      string
		dataDir   string
		joined    bool
		installed string
		recorded  bool
		exists    bool
		want      InstallKind
		wantErr   string
	}{
		{"agent", "/tmp/a", true, "/tmp/s", true, true, AgentInstalled, ""},
		{"the installed server", "/tmp/s", false, "/tmp/s", true, true, ServerInstalled, ""},
		{"another install's daemon", "/tmp/x", false, "/var/lib/velad", true, true, NothingInstalled, "not the data dir of the velad installed here (that is /var/lib/velad)"},
		{"another install's daemon, default dir", "/var/lib/velad", false, "/tmp/s", true, false, NothingInstalled, "that is /tmp/s"},
		{"default dir, daemon gone", "/var/lib/velad", false, "", false, true, ServerInstalled, ""},
		{"foreground data dir", "/tmp/f", false, "", false, true, NothingInstalled, "nothing velad installed uses /tmp/f"},
		{"nothing there", "/tmp/none", false, "", false, false, NothingInstalled, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decideKind(tc.dataDir, tc.joined, tc.installed, tc.recorded, tc.exists)
			if got != tc.want {
				t.Errorf("kind = %v, want %v", got, tc.want)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
