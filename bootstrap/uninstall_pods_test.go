package bootstrap

import "testing"

func TestSandboxNetns(t *testing.T) {
	for _, tc := range []struct {
		name string
		info map[string]string
		want string
	}{
		{"containerd's sandbox metadata", map[string]string{"info": `{"pid":42,"sandboxMetadata":{"Version":"v1","Metadata":{"ID":"e56c","NetNSPath":"/var/run/netns/cni-56a7d1f2"}},"runtimeSpec":{"linux":{"namespaces":[{"type":"network","path":"/var/run/netns/cni-other"}]}}}`}, "/var/run/netns/cni-56a7d1f2"},
		{"only the OCI spec", map[string]string{"info": `{"runtimeSpec":{"linux":{"namespaces":[{"type":"pid"},{"type":"network","path":"/var/run/netns/cni-0a55"}]}}}`}, "/var/run/netns/cni-0a55"},
		{"host network", map[string]string{"info": `{"sandboxMetadata":{"Version":"v1","Metadata":{"ID":"x","NetNSPath":""}},"runtimeSpec":{"linux":{"namespaces":[{"type":"pid"}]}}}`}, ""},
		{"no verbose info", nil, ""},
		{"not JSON", map[string]string{"info": "{"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SandboxNetns(tc.info); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
