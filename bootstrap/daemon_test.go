package bootstrap

import (
	"strings"
	"testing"

	"github.com/velad-dev/velad/embedded/config"
)

func TestUnitContent(t *testing.T) {
	unit := UnitContent([]string{"--data-dir", "/var/lib/velad", "--tls-san", "a b"})
	for _, want := range []string{
		`ExecStart=/usr/local/bin/velad server "--data-dir" "/var/lib/velad" "--tls-san" "a b"`,
		"Restart=always", "KillMode=process", "Delegate=yes", "WantedBy=multi-user.target",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q:\n%s", want, unit)
		}
	}
}

// Agents' daemons: every file derived from the data dir, none the
// server's, none shared by two data dirs.
func TestAgentDaemon(t *testing.T) {
	server := ServerDaemon()
	a, b := AgentDaemon(config.NewPaths("/tmp/a")), AgentDaemon(config.NewPaths("/tmp/b"))
	def := AgentDaemon(config.NewPaths(config.DefaultDataDir))
	if def.Name != "velad-agent" || def.UnitFile != "/etc/systemd/system/velad-agent.service" {
		t.Errorf("default agent daemon: %+v", def)
	}
	files := func(s DaemonSpec) []string {
		return []string{s.Name, s.Binary, s.UnitFile, s.ArgsFile, s.LogFile, s.PIDFile}
	}
	for i, f := range files(a) {
		if f == files(b)[i] || f == files(server)[i] || f == files(def)[i] {
			t.Errorf("agent daemon file %q is shared (b %q, server %q, default agent %q)", f, files(b)[i], files(server)[i], files(def)[i])
		}
	}
	for _, f := range []string{a.Binary, a.ArgsFile, a.LogFile, a.PIDFile} {
		if !strings.HasPrefix(f, "/tmp/a/") {
			t.Errorf("%s is outside the agent's data dir", f)
		}
	}
	unit := a.UnitContent([]string{"--data-dir=/tmp/a"})
	if want := `ExecStart=/tmp/a/agent/bin/velad agent "--data-dir=/tmp/a"`; !strings.Contains(unit, want) {
		t.Errorf("unit lacks %q:\n%s", want, unit)
	}
	if a.UnitMode != 0o600 {
		t.Errorf("agent unit mode %o: it holds the join token, want 0600", a.UnitMode)
	}
}
