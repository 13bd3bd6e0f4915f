package render

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/internal/charttest"
)

// GoldenApp is an app of testdata/ with the definitions it renders with
// (the built-ins, plus testdata/defs/NAME when present) and its golden
// file. (Exported for the render_test package's tests.)
type GoldenApp struct {
	Name, Path, Golden string
	Data               []byte
	Defs               definition.Source
	// ChartRepo is the URL of the charttest.Repo that stands for
	// charttest.Placeholder in Data ("" when Data has none).
	ChartRepo string
	// Read reads the objects of testdata/objects/NAME.yaml (the
	// cluster's, for ref-objects components); nil when there is none.
	Read ReadObjects
}

// GoldenApps loads every testdata/*.yaml app but the golden files.
func GoldenApps(t testing.TB) []GoldenApp {
	t.Helper()
	paths, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	builtins, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	var apps []GoldenApp
	for _, in := range paths {
		if strings.HasSuffix(in, ".golden.yaml") {
			continue
		}
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(in), ".yaml")
		var chartRepo string
		if strings.Contains(string(data), charttest.Placeholder) {
			chartRepo = charttest.Repo(t)
			data = []byte(strings.ReplaceAll(string(data), charttest.Placeholder, chartRepo))
		}
		var src definition.Source = builtins
		if extra := filepath.Join("testdata", "defs", name); isDir(extra) {
			defs, err := definition.LoadPaths(extra)
			if err != nil {
				t.Fatal(err)
			}
			src = definition.Chain{definition.NewSet(defs...), builtins}
		}
		var read ReadObjects
		if objs := filepath.Join("testdata", "objects", name+".yaml"); isFile(objs) {
			read = ObjectsReader(t, objs)
		}
		apps = append(apps, GoldenApp{Name: name, Path: in, Golden: strings.TrimSuffix(in, ".yaml") + ".golden.yaml", Data: data, Defs: src, ChartRepo: chartRepo, Read: read})
	}
	return apps
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// ObjectsReader reads ObjectRefs from the objects of a YAML file (a
// cluster's, as a test states them): by type (a resource is mapped to
// its kind as the API server's discovery does, singular or plural),
// namespace, and name or labels. A name not there is an error, as Get's.
func ObjectsReader(t testing.TB, path string) ReadObjects {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var objs []*unstructured.Unstructured
	mapper := meta.NewDefaultRESTMapper(nil)
	for _, doc := range strings.Split(string(data), "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		m := map[string]any{}
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		u := &unstructured.Unstructured{Object: m}
		mapper.Add(u.GroupVersionKind(), meta.RESTScopeNamespace)
		objs = append(objs, u)
	}
	return func(_ context.Context, ref ObjectRef) ([]*unstructured.Unstructured, error) {
		gvk, ok, err := ref.GroupVersionKind()
		if err != nil {
			return nil, err
		}
		if !ok {
			if gvk, err = mapper.KindFor(schema.GroupVersionResource{Group: ref.Group, Resource: ref.Resource}); err != nil {
				return nil, err
			}
		}
		var out []*unstructured.Unstructured
		for _, o := range objs {
			if o.GroupVersionKind() != gvk || o.GetNamespace() != ref.Namespace {
				continue
			}
			if ref.LabelSelector != nil && labels.SelectorFromSet(ref.LabelSelector).Matches(labels.Set(o.GetLabels())) ||
				ref.LabelSelector == nil && o.GetName() == ref.Name {
				out = append(out, o.DeepCopy())
			}
		}
		if ref.LabelSelector == nil && len(out) == 0 {
			return nil, fmt.Errorf("%s not found", ref)
		}
		return out, nil
	}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// Normalize turns the URL of the app's charttest.Repo in got back into
// charttest.Placeholder, as the golden file has it.
func (ga GoldenApp) Normalize(got string) string {
	if ga.ChartRepo == "" {
		return got
	}
	return strings.ReplaceAll(got, ga.ChartRepo, charttest.Placeholder)
}
