package addons_test

import (
	"regexp"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"

	"github.com/velad-dev/velad/addons"
	"github.com/velad-dev/velad/addons/lifecycle"
	"github.com/velad-dev/velad/internal/golden"
)

// testImages stands for the image payload: every image an addon names
// gets a reference with a fixed tag.
func testImages(name string) (string, error) {
	return "docker.io/velad/" + name + ":0.1.0-0123456789ab", nil
}

// Every addon's chart passes Helm's linter with the values velad installs
// it with, and renders to its golden file (testdata/charts/NAME.golden.yaml).
func TestAddonChartsRender(t *testing.T) {
	reg, err := addons.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range reg.List() {
		t.Run(a.Name, func(t *testing.T) {
			p, err := lifecycle.Prepare(a, testImages, nil)
			if err != nil {
				t.Fatal(err)
			}
			l := lint.AllWithKubeVersionAndSchemaValidation("../charts/"+a.Chart, p.Values, a.Namespace, nil, false)
			for _, m := range l.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("helm lint: %s", m)
				}
			}
			in := action.NewInstall(&action.Configuration{})
			in.ReleaseName, in.Namespace = a.ReleaseName(), a.Namespace
			in.ClientOnly, in.DryRun = true, true
			rel, err := in.Run(p.Chart, p.Values)
			if err != nil {
				t.Fatal(err)
			}
			for _, img := range a.Images {
				ref, _ := testImages(img.Name)
				if !strings.Contains(rel.Manifest, ref) {
					t.Errorf("the chart does not run image %s (value %s)", ref, img.Value)
				}
			}
			for _, d := range a.Health.Deployments {
				if !strings.Contains(rel.Manifest, "kind: Deployment\nmetadata:\n  name: "+d+"\n") {
					t.Errorf("health names Deployment %s, which the chart does not make", d)
				}
			}
			for _, d := range a.Health.DaemonSets {
				if !strings.Contains(rel.Manifest, "kind: DaemonSet\nmetadata:\n  name: "+d+"\n") {
					t.Errorf("health names DaemonSet %s, which the chart does not make", d)
				}
			}
			golden.Assert(t, "testdata/charts/"+a.Name+".golden.yaml", []byte(generatedKeys.ReplaceAllString(rel.Manifest, "$1: <generated>")))
		})
	}
}

// generatedKeys are certificate and key fields a chart makes anew on each
// render (genSelfSignedCert): left out of golden files.
var generatedKeys = regexp.MustCompile(`(?m)^(\s+(?:tls\.crt|tls\.key|ca\.crt)): [A-Za-z0-9+/=]{100,}$`)
