package bootstrap

import (
	"strings"
	"testing"
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
