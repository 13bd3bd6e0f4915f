package cluster

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

func TestCheckEndpoint(t *testing.T) {
	lookup := func(h string) ([]string, error) {
		switch h {
		case "myself":
			return []string{"127.0.1.1"}, nil
		case "edge.example":
			return []string{"198.18.0.2"}, nil
		}
		return nil, errors.New("no such host")
	}
	cases := []struct {
		server, err string
	}{
		{"https://198.18.0.2:6443", ""},
		{"https://edge.example:6443", ""},
		{"https://127.0.0.1:6443", "velad kubeconfig --external"},
		{"https://[::1]:6443", "loopback"},
		{"https://0.0.0.0:6443", "loopback"},
		{"https://localhost:6443", "names this machine"},
		{"https://myself:6443", "resolves only to loopback"},
		{"https://nowhere:6443", "does not resolve"},
		{"not a url", "is not a URL"},
	}
	for _, tc := range cases {
		err := CheckEndpoint(tc.server, lookup)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("CheckEndpoint(%s) = %v, want %q", tc.server, err, tc.err)
		}
	}
}

// A cluster stored as a Secret reads back with the same endpoint,
// credentials and labels, in KubeVela's format.
func TestSecretRoundTrip(t *testing.T) {
	cases := []struct {
		cfg  rest.Config
		typ  string
		want func(*rest.Config) bool
	}{
		{rest.Config{Host: "https://198.18.0.2:6443", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("ca"), CertData: []byte("crt"), KeyData: []byte("key")}},
			CredentialX509, func(c *rest.Config) bool {
				return string(c.CertData) == "crt" && string(c.KeyData) == "key" && string(c.CAData) == "ca"
			}},
		{rest.Config{Host: "https://198.18.0.3:6443", BearerToken: "tok"},
			CredentialToken, func(c *rest.Config) bool { return c.BearerToken == "tok" && c.Insecure }},
	}
	for _, tc := range cases {
		s, err := Secret("edge-1", &tc.cfg, map[string]string{"region": "edge"}, "v1.36.3")
		if err != nil {
			t.Fatal(err)
		}
		if s.Namespace != "vela-system" || s.Labels[LabelCredentialType] != tc.typ || string(s.Data["endpoint"]) != tc.cfg.Host {
			t.Errorf("secret %+v", s)
		}
		c, err := FromSecret(s)
		if err != nil {
			t.Fatal(err)
		}
		if c.Labels["region"] != "edge" || len(c.Labels) != 1 || c.Version != "v1.36.3" {
			t.Errorf("cluster %+v", c)
		}
		cfg, err := c.RESTConfig()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Host != tc.cfg.Host || !tc.want(cfg) {
			t.Errorf("%s: rest config %+v", tc.typ, cfg)
		}
	}
	if _, err := Secret("edge-1", &rest.Config{Host: "https://198.18.0.2"}, nil, ""); err == nil || !strings.Contains(err.Error(), "neither a client certificate") {
		t.Errorf("no credentials: %v", err)
	}
}

func TestNamesAndLabels(t *testing.T) {
	for _, n := range []string{"local", "", "Edge", "-a", "a_b", strings.Repeat("a", 64)} {
		if CheckName(n) == nil {
			t.Errorf("name %q accepted", n)
		}
	}
	if err := CheckName("edge-1"); err != nil {
		t.Error(err)
	}
	if CheckLabels(map[string]string{"cluster.core.oam.dev/x": "y"}) == nil {
		t.Error("reserved label accepted")
	}
	l, err := ParseLabels("region=edge, tier=a")
	if err != nil || l["region"] != "edge" || l["tier"] != "a" || len(l) != 2 {
		t.Errorf("ParseLabels: %v %v", l, err)
	}
	if _, err := ParseLabels("region"); err == nil {
		t.Error("label without value accepted")
	}
}

func TestKubeconfigRefused(t *testing.T) {
	exec := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://198.18.0.2:6443"}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: aws}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`
	cases := map[string]struct{ kubeconfig, context, want string }{
		"garbage":         {"{{{ nope", "", "read kubeconfig"},
		"exec plugin":     {exec, "", "exec and auth-provider credentials are not supported"},
		"unknown context": {exec, "other", `context "other"`},
	}
	for name, tc := range cases {
		_, err := restConfigOf([]byte(tc.kubeconfig), tc.context)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}
