package bootstrap

import "testing"

func TestSpecNetns(t *testing.T) {
	for _, tc := range []struct {
		name, spec, want string
		err              bool
	}{
		{"a pod sandbox", `{"ociVersion":"1.2.1","linux":{"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"network","path":"/var/run/netns/cni-62645ae6"}]}}`, "/var/run/netns/cni-62645ae6", false},
		{"host network", `{"linux":{"namespaces":[{"type":"pid"},{"type":"mount"}]}}`, "", false},
		{"no linux section", `{"ociVersion":"1.2.1"}`, "", true},
		{"not JSON", `{`, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SpecNetns([]byte(tc.spec))
			if got != tc.want || (err != nil) != tc.err {
				t.Errorf("got %q, %v; want %q (error: %v)", got, err, tc.want, tc.err)
			}
		})
	}
}
