// Package fluxtest runs the fluxcd addon's controller for tests and the
// benchmark: Flux's CRDs on a real API server (internal/testenv), the
// manager in the test process, and Helm charts and repositories made with
// the Helm SDK (an HTTP index repository and an OCI registry).
package fluxtest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/repo"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/operators/fluxcd/manager"
)

// CRDDir is the chart's CRD folder, found from this file.
func CRDDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "charts", "fluxcd", "crds")
}

// InstallCRDs creates Flux's CRDs and waits until they are established.
func InstallCRDs(ctx context.Context, cfg *rest.Config) error {
	cs, err := apiextensionsclient.NewForConfig(cfg)
	if err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(CRDDir(), "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no CRDs in %s (run scripts/generate.sh): %v", CRDDir(), err)
	}
	var names []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(data, &crd); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if _, err := cs.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, &crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create CRD %s: %w", crd.Name, err)
		}
		names = append(names, crd.Name)
	}
	deadline := time.Now().Add(time.Minute)
	for _, n := range names {
		for {
			crd, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, n, metav1.GetOptions{})
			if err == nil && established(crd) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s not established: %v", n, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

func established(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
			return true
		}
	}
	return false
}

// StartManager runs the controller until ctx ends; the returned channel
// gets its result.
func StartManager(ctx context.Context, cfg *rest.Config, storagePath string) (<-chan error, error) {
	mgr, err := manager.New(cfg, manager.Options{
		MetricsAddr: "0", ProbeAddr: "0", StorageAddr: "0", StoragePath: storagePath,
		StorageAdvAddr: "localhost", Workers: 4, SkipNameValidation: true,
	})
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("controller cache did not sync")
	}
	return done, nil
}

// Chart packages a chart whose one template is a ConfigMap named
// `.Values.name` (default <release>-cm) holding `.Values.data`; a name the
// API server refuses makes an install or upgrade fail on demand.
func Chart(name, version string) ([]byte, error) {
	ch := &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: name, Version: version, AppVersion: version, Type: "application"},
		Values:   map[string]any{"data": map[string]any{"greeting": "hello"}},
		// chartutil.Save writes values.yaml from Raw.
		Raw: []*chart.File{{Name: chartutil.ValuesfileName, Data: []byte("data:\n  greeting: hello\n")}},
		Templates: []*chart.File{{Name: "templates/configmap.yaml", Data: []byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Values.name | default (printf "%s-cm" .Release.Name) }}
data:
  chartVersion: {{ .Chart.Version | quote }}
{{- range $k, $v := .Values.data }}
  {{ $k }}: {{ $v | toString | quote }}
{{- end }}
`)}},
	}
	dir, err := os.MkdirTemp("", "fluxtest-chart-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path, err := chartutil.Save(ch, dir)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

// Repository is a Helm HTTP repository of packaged charts.
type Repository struct {
	files map[string][]byte
	index []byte
	// Username and Password, when set, are required (basic auth).
	Username, Password string
}

// NewRepository makes a repository of charts (file name → archive).
func NewRepository(charts map[string][]byte) (*Repository, error) {
	idx := repo.NewIndexFile()
	for file, data := range charts {
		ch, err := loadArchive(data)
		if err != nil {
			return nil, err
		}
		if err := idx.MustAdd(ch.Metadata, file, "", digest(data)); err != nil {
			return nil, err
		}
	}
	idx.SortEntries()
	out, err := yaml.Marshal(idx)
	if err != nil {
		return nil, err
	}
	return &Repository{files: charts, index: out}, nil
}

func (r *Repository) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.Username != "" {
		u, p, ok := req.BasicAuth()
		if !ok || u != r.Username || p != r.Password {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	}
	name := strings.TrimPrefix(req.URL.Path, "/")
	if name == "index.yaml" {
		_, _ = w.Write(r.index)
		return
	}
	if data, ok := r.files[name]; ok {
		http.ServeContent(w, req, name, time.Time{}, bytes.NewReader(data))
		return
	}
	http.NotFound(w, req)
}
