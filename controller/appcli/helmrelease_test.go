package appcli

import (
	"context"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// decodeRelease reads what Helm's own Secret storage driver writes.
func TestDecodeReleaseReadsHelmsRecords(t *testing.T) {
	secrets := fake.NewClientset().CoreV1().Secrets("demo")
	rel := &helmrelease.Release{
		Name: "web", Namespace: "apps", Version: 3,
		Info:     &helmrelease.Info{Status: helmrelease.StatusDeployed},
		Chart:    &chart.Chart{Metadata: &chart.Metadata{Name: "hello", Version: "0.2.0"}},
		Manifest: "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n",
	}
	if err := driver.NewSecrets(secrets).Create("sh.helm.release.v1.web.v3", rel); err != nil {
		t.Fatal(err)
	}
	s, err := secrets.Get(context.Background(), "sh.helm.release.v1.web.v3", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeRelease(s.Data["release"])
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "web" || got.Version != 3 || got.Manifest != rel.Manifest || got.Chart.Metadata.Version != "0.2.0" {
		t.Errorf("decoded %+v", got)
	}
	if _, err := decodeRelease([]byte("not base64!")); err == nil {
		t.Error("garbage decoded")
	}
}

func TestAPIGroup(t *testing.T) {
	for in, want := range map[string]string{"helm.toolkit.fluxcd.io/v2": "helm.toolkit.fluxcd.io", "v1": "", "apps/v1": "apps"} {
		if got := apiGroup(in); got != want {
			t.Errorf("apiGroup(%q) = %q, want %q", in, got, want)
		}
	}
}
