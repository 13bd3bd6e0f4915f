package cli

import (
	"testing"
)

// TestAddonBadInput: wrong names, arguments and flags are refused with
// one clear line before anything connects to a cluster (the kubeconfig
// named here does not exist).
func TestAddonBadInput(t *testing.T) {
	const nowhere = "testdata/no-such-kubeconfig"
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"enable unknown", []string{"enable", "nope"}, `unknown addon "nope" (velad carries: fluxcd, ingress, rollout)`},
		{"disable unknown", []string{"disable", "nope", "--force"}, `unknown addon "nope" (velad carries: fluxcd, ingress, rollout)`},
		{"status unknown", []string{"status", "nope"}, `unknown addon "nope" (velad carries: fluxcd, ingress, rollout)`},
		{"enable without a name", []string{"enable"}, "'addon enable' takes NAME; see 'addon enable --help'"},
		{"disable two names", []string{"disable", "fluxcd", "fluxcd"}, "'addon disable' takes NAME; see 'addon disable --help'"},
		{"list with an argument", []string{"list", "fluxcd"}, `unknown command "fluxcd" for "addon list"`},
		{"list as xml", []string{"list", "-o", "xml"}, `--output "xml": want json or yaml`},
		{"status as xml", []string{"status", "fluxcd", "-o", "xml"}, `--output "xml": want json or yaml`},
		{"no cluster", []string{"list"}, "read kubeconfig " + nowhere + ": stat " + nowhere + ": no such file or directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, newAddonCommand(), "", append(tc.args, "--kubeconfig", nowhere)...)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n got: %v\nwant: %s", err, tc.want)
			}
		})
	}
}
