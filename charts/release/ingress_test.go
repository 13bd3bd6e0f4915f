package release_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"

	"github.com/velad-dev/velad/charts"
	"github.com/velad-dev/velad/charts/release"
	"github.com/velad-dev/velad/internal/golden"
)

const ingressChart = "ingress"

func renderIngress(t *testing.T, sets ...string) (string, error) {
	t.Helper()
	ch, err := release.Load(charts.FS(), ingressChart)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]any{}
	if err := release.ParseSet(values, sets); err != nil {
		t.Fatal(err)
	}
	if err := release.Validate(ch, values); err != nil {
		return "", err
	}
	in := action.NewInstall(&action.Configuration{})
	in.ReleaseName, in.Namespace = ingressChart, "vela-system"
	in.ClientOnly, in.DryRun = true, true
	rel, err := in.Run(ch, values)
	if err != nil {
		return "", err
	}
	return rel.Manifest, nil
}

func TestIngressChartLints(t *testing.T) {
	l := lint.AllWithKubeVersionAndSchemaValidation("../"+ingressChart, nil, "vela-system", nil, false)
	for _, m := range l.Messages {
		if m.Severity >= support.WarningSev {
			t.Errorf("helm lint: %s", m)
		}
	}
}

// What the chart renders with its defaults is pinned in a golden file;
// the default certificate is new at every render, so it is redacted.
func TestIngressChartRenders(t *testing.T) {
	manifest, err := renderIngress(t)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`image: "docker.io/velad/traefik:v3.6.0"`,
		"hostPort: 80,", "hostPort: 443,",
		`ingressclass.kubernetes.io/is-default-class: "true"`,
		"controller: traefik.io/ingress-controller",
		"controllerName: traefik.io/gateway-controller",
	} {
		if !strings.Contains(manifest, want) {
			t.Errorf("rendered chart lacks %q", want)
		}
	}
	golden.Assert(t, "testdata/ingress.golden.yaml", []byte(certData.ReplaceAllString(manifest, "$1: <redacted>")))
}

// The Gateway API CRDs (standard channel) come with the chart.
func TestIngressChartCarriesGatewayAPICRDs(t *testing.T) {
	ch, err := release.Load(charts.FS(), ingressChart)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, crd := range ch.CRDObjects() {
		kinds[crd.Name] = true
	}
	for _, want := range []string{"gateway.networking.k8s.io_gatewayclasses.yaml", "gateway.networking.k8s.io_gateways.yaml",
		"gateway.networking.k8s.io_httproutes.yaml", "gateway.networking.k8s.io_referencegrants.yaml"} {
		if !kinds["crds/"+want] {
			t.Errorf("chart lacks CRD %s (have %v); scripts/build-traefik.sh (make payload) puts them there", want, kinds)
		}
	}
}

func TestIngressChartValues(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sets    []string
		want    []string // in the manifest
		wantErr string
	}{
		{name: "ports", sets: []string{"ports.web.hostPort=8081,ports.websecure.hostPort=8443"},
			want: []string{"hostPort: 8081,", "hostPort: 8443,"}},
		{name: "replicas and resources", sets: []string{"replicas=2,resources.limits.memory=1Gi"},
			want: []string{"replicas: 2", "memory: 1Gi"}},
		{name: "own certificate", sets: []string{"gateway.certificateSecret=my-cert"},
			want: []string{"name: my-cert"}},
		{name: "same host port", sets: []string{"ports.websecure.hostPort=80"},
			wantErr: "ports.web.hostPort and ports.websecure.hostPort are both 80"},
		{name: "same container port", sets: []string{"ports.traefik.containerPort=8000"},
			wantErr: "three different containerPorts"},
		{name: "port out of range", sets: []string{"ports.web.hostPort=70000"},
			wantErr: "ports.web.hostPort"},
		{name: "unknown value", sets: []string{"replica=2"},
			wantErr: "replica"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			manifest, err := renderIngress(t, tc.sets...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(manifest, w) {
					t.Errorf("rendered chart lacks %q", w)
				}
			}
		})
	}
}

// The chart runs the Traefik image scripts/build-traefik.sh builds.
func TestIngressChartRunsTheBuiltTraefik(t *testing.T) {
	script, err := os.ReadFile("../../scripts/build-traefik.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^TRAEFIK_VERSION=(\S+)$`).FindSubmatch(script)
	if m == nil {
		t.Fatal("no TRAEFIK_VERSION= line in scripts/build-traefik.sh")
	}
	ch, err := release.Load(charts.FS(), ingressChart)
	if err != nil {
		t.Fatal(err)
	}
	if got := ch.AppVersion(); got != string(m[1]) {
		t.Fatalf("charts/ingress appVersion %s, but scripts/build-traefik.sh builds Traefik %s", got, m[1])
	}
}
