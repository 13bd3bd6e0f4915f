package task

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/workflow"
	"github.com/velad-dev/velad/operators/fluxcd/fluxtest"
)

// vela/helm renders a chart of an HTTP repository with values; a chart
// that is not there fails the step.
func TestHelmRender(t *testing.T) {
	tgz, err := fluxtest.Chart("demo", "0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := loader.LoadArchive(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	idx := repo.NewIndexFile()
	if err := idx.MustAdd(ch.Metadata, "demo-0.1.0.tgz", srv.URL, "sha256:x"); err != nil {
		t.Fatal(err)
	}
	index, _ := yaml.Marshal(idx)
	mux.HandleFunc("/index.yaml", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(index) })
	mux.HandleFunc("/demo-0.1.0.tgz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(tgz) })

	tmpl := `import "vela/helm"
parameter: {repo: string, version: string}
render: helm.#Render & {$params: {
	chart: {source: "demo", repoURL: parameter.repo, version: parameter.version}
	release: name: "r1"
	values: data: color: "blue"
}}`
	o, err := Run(context.Background(), Step{Name: "helm", Template: tmpl, Parameter: map[string]any{"repo": srv.URL, "version": "0.1.0"},
		Outputs: outputsOf("cm", "render.$returns.resources[0]")}, &Env{Namespace: "apps", Context: workflow.NewContext("")})
	if err != nil || !o.Done {
		t.Fatalf("outcome %+v, %v", o, err)
	}
	cm, _ := o.Outputs["cm"].(map[string]any)
	data, _ := cm["data"].(map[string]any)
	md, _ := cm["metadata"].(map[string]any)
	if cm["kind"] != "ConfigMap" || md["name"] != "r1-cm" || data["color"] != "blue" || data["greeting"] != "hello" || data["chartVersion"] != "0.1.0" {
		t.Errorf("rendered %v", cm)
	}
	o, err = Run(context.Background(), Step{Name: "helm", Template: tmpl, Parameter: map[string]any{"repo": srv.URL, "version": "9.9.9"}},
		&Env{Namespace: "apps", Context: workflow.NewContext("")})
	if err != nil || !o.Failed || o.Reason != "ChartNotFound" {
		t.Errorf("a missing version: %+v, %v", o, err)
	}
}

func outputsOf(name, from string) []v1beta1.OutputItem {
	return []v1beta1.OutputItem{{Name: name, ValueFrom: from}}
}
