// Package charttest serves a Helm chart repository on loopback for tests:
// an index.yaml and a packaged chart it makes.
package charttest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"
)

// Placeholder in a testdata file stands for the URL of the Repo a test
// starts (golden files have it in place of the URL).
const Placeholder = "http://CHART_REPO"

// Repo serves a Helm chart repository on loopback until the test
// ends, and returns its URL: index.yaml and hello-1.0.0.tgz, the chart
// "hello" 1.0.0 (a Deployment and a Service named after the release, and
// a test hook).
func Repo(t testing.TB) string {
	t.Helper()
	ch := &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: "hello", Version: "1.0.0", AppVersion: "1.0.0", Type: "application"},
		Values:   map[string]any{"replicas": 1, "image": "busybox:1.36", "port": 80},
		Raw:      []*chart.File{{Name: chartutil.ValuesfileName, Data: []byte("replicas: 1\nimage: busybox:1.36\nport: 80\n")}},
		Templates: []*chart.File{
			{Name: "templates/deployment.yaml", Data: []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    app: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels:
      app: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ .Release.Name }}
    spec:
      containers:
        - name: web
          image: {{ .Values.image }}
          command: ["sleep", "3600"]
          ports:
            - containerPort: {{ .Values.port }}
`)},
			{Name: "templates/service.yaml", Data: []byte(`apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    app: {{ .Release.Name }}
  ports:
    - port: {{ .Values.port }}
`)},
			{Name: "templates/tests/ping.yaml", Data: []byte(`apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-ping
  annotations:
    helm.sh/hook: test
spec:
  restartPolicy: Never
  containers:
    - name: ping
      image: {{ .Values.image }}
      command: ["wget", "{{ .Release.Name }}"]
`)},
		},
	}
	path, err := chartutil.Save(ch, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tgz, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	idx := repo.NewIndexFile()
	if err := idx.MustAdd(ch.Metadata, "hello-1.0.0.tgz", srv.URL, "sha256:unchecked"); err != nil {
		t.Fatal(err)
	}
	index, err := yaml.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("/index.yaml", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(index) })
	mux.HandleFunc("/hello-1.0.0.tgz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(tgz) })
	return srv.URL
}
