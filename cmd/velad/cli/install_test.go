package cli

import (
	"strings"
	"testing"
)

// A --set that sets nothing is refused before install touches anything.
func TestInstallRefusesSetWithoutKey(t *testing.T) {
	for _, set := range []string{"=x", "replicas=2,=x", "image.=x"} {
		_, err := run(t, newInstallCommand(), "", "--data-dir", t.TempDir(), "--set", set)
		if err == nil || !strings.Contains(err.Error(), "--set") || !strings.Contains(err.Error(), "empty") {
			t.Errorf("install --set %s: err = %v, want refused naming the empty key", set, err)
		}
	}
}
