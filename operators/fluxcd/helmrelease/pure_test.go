package helmrelease

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestReleaseName(t *testing.T) {
	long := strings.Repeat("a", 30) + "-" + strings.Repeat("b", 30) // 61 chars
	cases := []struct {
		name, releaseName, targetNS, objName, want string
	}{
		{name: "object name", objName: "podinfo", want: "podinfo"},
		{name: "target namespace prefix", objName: "podinfo", targetNS: "apps", want: "apps-podinfo"},
		{name: "explicit", releaseName: "mine", targetNS: "apps", objName: "podinfo", want: "mine"},
		{name: "53 kept", objName: strings.Repeat("x", 53), want: strings.Repeat("x", 53)},
		// first 40 characters, a dash, 12 hex digits of sha256(name)
		{name: "long hashed", objName: long, want: long[:40] + "-" + "ff21cb3ded1a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Name: c.objName, Namespace: "ns"},
				Spec: helmv2.HelmReleaseSpec{ReleaseName: c.releaseName, TargetNamespace: c.targetNS}}
			got := ReleaseName(hr)
			if c.name == "long hashed" {
				if len(got) != 53 || !strings.HasPrefix(got, long[:40]+"-") {
					t.Fatalf("got %q (%d chars), want %s-<12 hex>", got, len(got), long[:40])
				}
				if got != shortenName(long) || shortenName(long+"x") == got {
					t.Fatalf("hash is not a function of the full name: %q", got)
				}
				return
			}
			if got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func ref(kind, name, key, target string, literal bool) meta.ValuesReference {
	return meta.ValuesReference{Kind: kind, Name: name, ValuesKey: key, TargetPath: target, Literal: literal}
}

func TestMergeValues(t *testing.T) {
	cases := []struct {
		name    string
		sources []valuesSource
		inline  map[string]any
		want    map[string]any
		wantErr string
	}{
		{name: "list order, later wins, nested merge",
			sources: []valuesSource{
				{ref: ref("ConfigMap", "a", "", "", false), data: "x: 1\nnested: {a: 1, b: 1}\n"},
				{ref: ref("Secret", "b", "", "", false), data: "x: 2\nnested: {b: 2}\n"},
			},
			want: map[string]any{"x": float64(2), "nested": map[string]any{"a": float64(1), "b": float64(2)}}},
		{name: "inline over references",
			sources: []valuesSource{{ref: ref("ConfigMap", "a", "", "", false), data: "x: 1\nz: 1\n"}},
			inline:  map[string]any{"x": "inline"},
			want:    map[string]any{"x": "inline", "z": float64(1)}},
		{name: "targetPath over inline and later references",
			sources: []valuesSource{
				{ref: ref("Secret", "s", "key", "tls.crt", false), data: "from-secret"},
				{ref: ref("ConfigMap", "a", "", "", false), data: "tls: {crt: from-cm, key: k}\n"},
			},
			inline: map[string]any{"tls": map[string]any{"crt": "inline"}},
			want:   map[string]any{"tls": map[string]any{"crt": "from-secret", "key": "k"}}},
		{name: "targetPath into a list item", // Flux's "target path precedence over all"
			sources: []valuesSource{
				{ref: ref("Secret", "s", "key", "nested.configuration[0]", false), data: "value"},
				{ref: ref("ConfigMap", "a", "", "", false), data: "flat: value\nnested: {configuration: [one, two, three]}\n"},
			},
			inline: map[string]any{"nested": map[string]any{"configuration": []any{"list", "item", "option"}}},
			want:   map[string]any{"flat": "value", "nested": map[string]any{"configuration": []any{"value", "item", "option"}}}},
		{name: "targetPath typed and quoted",
			sources: []valuesSource{
				{ref: ref("Secret", "s", "n", "a.n", false), data: "3"},
				{ref: ref("Secret", "s", "q", "a.q", false), data: `"true"`},
				{ref: ref("Secret", "s", "b", "a.b", false), data: "true"},
			},
			want: map[string]any{"a": map[string]any{"n": int64(3), "q": "true", "b": true}}},
		{name: "literal keeps commas and equals",
			sources: []valuesSource{{ref: ref("ConfigMap", "c", "app.yml", `cfg.app\.yml`, true), data: "a=b,c=[d]"}},
			want:    map[string]any{"cfg": map[string]any{"app.yml": "a=b,c=[d]"}}},
		{name: "bad yaml names the reference",
			sources: []valuesSource{{ref: ref("ConfigMap", "broken", "", "", false), data: "x: [\n"}},
			wantErr: "ConfigMap 'broken' key 'values.yaml'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := mergeValues(c.sources, c.inline)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got  %#v\nwant %#v", got, c.want)
			}
		})
	}
}

func TestMergeValuesDoesNotChangeInline(t *testing.T) {
	inline := map[string]any{"tls": map[string]any{"crt": "inline"}}
	_, err := mergeValues([]valuesSource{{ref: ref("Secret", "s", "k", "tls.crt", false), data: "x"}}, inline)
	if err != nil {
		t.Fatal(err)
	}
	if inline["tls"].(map[string]any)["crt"] != "inline" {
		t.Fatalf("inline values changed: %v", inline)
	}
}

func TestSelectVersion(t *testing.T) {
	versions := []string{"0.1.0", "0.2.0", "1.0.0", "1.1.0-rc.1", "1.0.1", "not-semver"}
	cases := []struct {
		constraint, want string
		err              error
	}{
		{"", "1.0.1", nil},
		{"*", "1.0.1", nil},
		{"0.1.0", "0.1.0", nil},
		{"~0.2", "0.2.0", nil},
		{">=1.0.0 <1.1.0", "1.0.1", nil},
		{">=1.1.0-0", "1.1.0-rc.1", nil},
		{"not-semver", "not-semver", nil},
		{"9.9.9", "", ErrNoVersion},
		{"2.x", "", ErrNoVersion},
	}
	for _, c := range cases {
		got, err := SelectVersion(versions, c.constraint)
		if !errors.Is(err, c.err) || got != c.want {
			t.Errorf("SelectVersion(%q) = %q, %v; want %q, %v", c.constraint, got, err, c.want, c.err)
		}
	}
	if _, err := SelectVersion(versions, ">>1"); err == nil || errors.Is(err, ErrNoVersion) {
		t.Errorf("invalid range: err = %v, want a parse error", err)
	}
}

func TestUnsupported(t *testing.T) {
	base := func() *helmv2.HelmRelease {
		return &helmv2.HelmRelease{Spec: helmv2.HelmReleaseSpec{Chart: &helmv2.HelmChartTemplate{
			Spec: helmv2.HelmChartTemplateSpec{Chart: "c", SourceRef: helmv2.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: "r"}}}}}
	}
	yes := true
	cases := []struct {
		name string
		mut  func(*helmv2.HelmRelease)
		want string
	}{
		{"supported", func(*helmv2.HelmRelease) {}, ""},
		{"git source", func(h *helmv2.HelmRelease) { h.Spec.Chart.Spec.SourceRef.Kind = "GitRepository" }, "spec.chart.spec.sourceRef.kind GitRepository"},
		{"chartRef", func(h *helmv2.HelmRelease) {
			h.Spec.ChartRef = &helmv2.CrossNamespaceSourceReference{Kind: "OCIRepository", Name: "x"}
		}, "spec.chartRef"},
		{"postRenderers", func(h *helmv2.HelmRelease) { h.Spec.PostRenderers = []helmv2.PostRenderer{{}} }, "spec.postRenderers"},
		{"drift enabled", func(h *helmv2.HelmRelease) {
			h.Spec.DriftDetection = &helmv2.DriftDetection{Mode: helmv2.DriftDetectionEnabled}
		}, "spec.driftDetection.mode enabled"},
		{"drift disabled is fine", func(h *helmv2.HelmRelease) {
			h.Spec.DriftDetection = &helmv2.DriftDetection{Mode: helmv2.DriftDetectionDisabled}
		}, ""},
		{"tests", func(h *helmv2.HelmRelease) { h.Spec.Test = &helmv2.Test{Enable: true} }, "spec.test.enable"},
		{"kubeConfig", func(h *helmv2.HelmRelease) { h.Spec.KubeConfig = &meta.KubeConfigReference{} }, "spec.kubeConfig"},
		{"readyExpr", func(h *helmv2.HelmRelease) {
			h.Spec.DependsOn = []helmv2.DependencyReference{{Name: "a"}, {Name: "b", ReadyExpr: "true"}}
		}, "spec.dependsOn[1].readyExpr"},
		{"install SSA", func(h *helmv2.HelmRelease) { h.Spec.Install = &helmv2.Install{ServerSideApply: &yes} }, "spec.install.serverSideApply"},
	}
	for _, c := range cases {
		hr := base()
		c.mut(hr)
		field, why := Unsupported(hr)
		if field != c.want || (field != "" && why == "") {
			t.Errorf("%s: Unsupported = %q (%q), want %q", c.name, field, why, c.want)
		}
	}
}

func TestConfigDigestEmpty(t *testing.T) {
	if ConfigDigest(nil) != ConfigDigest(map[string]any{}) {
		t.Fatal("nil and empty values must have one digest (Helm stores empty values as none)")
	}
	if ConfigDigest(map[string]any{"a": float64(1)}) != ConfigDigest(map[string]any{"a": int64(1)}) {
		t.Fatal("a number's Go type must not change the digest")
	}
}
