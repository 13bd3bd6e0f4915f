package release_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"regexp"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"

	"github.com/velad-dev/velad/charts"
	"github.com/velad-dev/velad/charts/release"
	"github.com/velad-dev/velad/controller/webhook"
	"github.com/velad-dev/velad/internal/golden"
)

const controllerChart = "velad-controller"

// The chart passes Helm's own linter (templates, values schema, Chart.yaml)
// with no warning or error, with its defaults and with what velad sets.
func TestControllerChartLints(t *testing.T) {
	for name, values := range map[string]map[string]any{
		"defaults":  nil,
		"velad-set": {"image": map[string]any{"tag": "0.1.0-0123456789ab"}, "replicas": 2},
	} {
		t.Run(name, func(t *testing.T) {
			l := lint.AllWithKubeVersionAndSchemaValidation("../"+controllerChart, values, "vela-system", nil, false)
			for _, m := range l.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("helm lint: %s", m)
				}
			}
		})
	}
}

// What the chart renders, as velad installs it, is pinned in a golden file.
func TestControllerChartRenders(t *testing.T) {
	ch, err := release.Load(charts.FS(), controllerChart)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]any{}
	if err := release.ParseSet(values, []string{"image.tag=0.1.0-0123456789ab"}); err != nil {
		t.Fatal(err)
	}
	in := action.NewInstall(&action.Configuration{})
	in.ReleaseName, in.Namespace = controllerChart, "vela-system"
	in.ClientOnly, in.DryRun = true, true
	rel, err := in.Run(ch, values)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rel.Manifest, `image: "docker.io/velad/controller:0.1.0-0123456789ab"`) {
		t.Errorf("the Deployment does not run the image velad set:\n%s", rel.Manifest)
	}
	if got := len(ch.CRDObjects()); got != 8 {
		t.Errorf("chart carries %d CRDs, want the 8 OAM kinds", got)
	}
	verifyWebhookCert(t, rel.Manifest)
	// The API server calls the paths the controller serves.
	for _, path := range []string{webhook.ApplicationPath, webhook.DefinitionPath} {
		if !strings.Contains(rel.Manifest, "path: "+path+"\n") {
			t.Errorf("the webhook configuration does not call %s", path)
		}
	}
	// The webhook's certificates are new at every render: pinned redacted.
	redacted := certData.ReplaceAllString(rel.Manifest, "$1: <redacted>")
	golden.Assert(t, "testdata/velad-controller.golden.yaml", []byte(redacted))
}

var certData = regexp.MustCompile(`(ca\.crt|tls\.crt|tls\.key|caBundle): [A-Za-z0-9+/=]{100,}`)

// verifyWebhookCert checks that the certificate the pod serves is signed
// by the CA the API server is given, for the webhook Service's name.
func verifyWebhookCert(t *testing.T, manifest string) {
	t.Helper()
	field := func(name string) []byte {
		m := regexp.MustCompile(name + `: ([A-Za-z0-9+/=]+)`).FindStringSubmatch(manifest)
		if m == nil {
			t.Fatalf("no %s in the rendered chart", name)
		}
		data, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return data
	}
	if string(field("ca\\.crt")) != string(field("caBundle")) {
		t.Fatal("the webhook's caBundle is not the CA in its Secret")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(field("caBundle")) {
		t.Fatal("caBundle holds no PEM certificate")
	}
	block, _ := pem.Decode(field("tls\\.crt"))
	if block == nil {
		t.Fatal("tls.crt holds no PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "velad-controller-webhook.vela-system.svc"}); err != nil {
		t.Fatalf("serving certificate does not verify for the webhook Service: %v", err)
	}
	if _, err := tls.X509KeyPair(field("tls\\.crt"), field("tls\\.key")); err != nil {
		t.Fatalf("tls.crt and tls.key do not match: %v", err)
	}
}

func TestValidateRefusesBadValues(t *testing.T) {
	ch, err := release.Load(charts.FS(), controllerChart)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		set     string
		wantErr string // "" means valid
	}{
		{set: "replicas=2"},
		{set: "image.tag=v2,logLevel=debug"},
		{set: "resyncInterval=90s"},
		{set: "replicas=two", wantErr: "replicas"},
		{set: "replica=2", wantErr: "replica"},
		{set: "logLevel=loud", wantErr: "logLevel"},
		{set: "resyncInterval=soon", wantErr: "resyncInterval"},
		{set: "image.pullPolicy=Sometimes", wantErr: "pullPolicy"},
	} {
		t.Run(tc.set, func(t *testing.T) {
			values := map[string]any{}
			if err := release.ParseSet(values, []string{tc.set}); err != nil {
				t.Fatal(err)
			}
			err := release.Validate(ch, values)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("valid values refused: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("invalid values accepted")
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q does not name %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseSet(t *testing.T) {
	values := map[string]any{}
	if err := release.ParseSet(values, []string{"a.b=c", "n=2,l={x,y}"}); err != nil {
		t.Fatal(err)
	}
	a, _ := values["a"].(map[string]any)
	if a["b"] != "c" || values["n"] != int64(2) {
		t.Errorf("values = %v", values)
	}
	if l, _ := values["l"].([]any); len(l) != 2 {
		t.Errorf("list = %v", values["l"])
	}
	for _, tc := range []struct{ set, want string }{
		{"a.b", "key=value"},
		{"=x", `--set "=x": a key is empty`},
		{"=", `--set "=": a key is empty`},
		{"replicas=2,=x", "a key is empty"},
		{"a.=x", `key "a." has an empty part`},
		{".a=x", `key ".a" has an empty part`},
		{"a..b=x", `key "a..b" has an empty part`},
		{"", "nothing to set"},
		{"a=1,", "a key is empty"},
	} {
		values := map[string]any{"keep": "me"}
		err := release.ParseSet(values, []string{"first=1", tc.set})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--set %s: err = %v, want %q", tc.set, err, tc.want)
		}
	}
	// An empty value is a value; lists and escaped commas are values too.
	values = map[string]any{}
	if err := release.ParseSet(values, []string{"logLevel=", "l={x,y},m=a\\,b", `n\.o=1`}); err != nil || values["logLevel"] != "" || values["m"] != "a,b" || values["n.o"] != int64(1) {
		t.Errorf("valid sets: %v, values %v", err, values)
	}
}
