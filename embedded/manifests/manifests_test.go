package manifests

import (
	"strings"
	"testing"

	"github.com/velad-dev/velad/internal/golden"
)

func values() Values {
	return Values{
		ClusterDomain: "cluster.local", ClusterDNSIP: "10.43.0.10", StoragePath: "/var/lib/velad/storage",
		CoreDNSImage: "docker.io/velad/coredns:1.15.0", LocalPathImage: "docker.io/velad/local-path-provisioner:v0.0.30",
		VolumeHelperImage: "docker.io/velad/volume-helper:v1",
	}
}

func TestRenderGolden(t *testing.T) {
	objs, err := Render(values())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetLabels()[ManagedLabel] == "" {
			t.Errorf("%s %s has no %s label", o.GetKind(), o.GetName(), ManagedLabel)
		}
	}
	got, err := YAML(objs)
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "testdata/rendered.golden.yaml", got)
	for _, s := range []string{"clusterIP: 10.43.0.10", "kubernetes cluster.local in-addr.arpa", "/var/lib/velad/storage", "storageclass.kubernetes.io/is-default-class"} {
		if !strings.Contains(string(got), s) {
			t.Errorf("rendered manifests lack %q", s)
		}
	}
}

func TestRenderRefusesEmptyValues(t *testing.T) {
	v := values()
	v.CoreDNSImage = ""
	if _, err := Render(v); err == nil || !strings.Contains(err.Error(), "CoreDNSImage") {
		t.Fatalf("Render with an empty image = %v, want an error naming CoreDNSImage", err)
	}
}
