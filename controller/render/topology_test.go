package render

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

func TestPlacements(t *testing.T) {
	clusters := []ClusterInfo{
		{Name: "local", Labels: map[string]string{}},
		{Name: "edge-1", Labels: map[string]string{"region": "edge", "zone": "a"}},
		{Name: "edge-2", Labels: map[string]string{"region": "edge", "zone": "b"}},
		{Name: "prod", Labels: map[string]string{"region": "core"}},
	}
	l := func(c string) Placement { return Placement{Cluster: c} }
	cases := []struct {
		name     string
		policies map[string]string // name → topology properties (JSON); "override:" prefix: an override
		step     []string
		want     []Placement
		err      string
	}{
		{name: "no topology is local", policies: map[string]string{"o": "override:{}"}, step: []string{"o"}, want: []Placement{l("local")}},
		{name: "no policies is local", want: []Placement{l("local")}},
		{name: "clusters", policies: map[string]string{"t": `{"clusters":["edge-2","local"]}`}, step: []string{"t"}, want: []Placement{l("edge-2"), l("local")}},
		{name: "clusters win over the selector", policies: map[string]string{"t": `{"clusters":["prod"],"clusterLabelSelector":{"region":"edge"}}`}, step: []string{"t"}, want: []Placement{l("prod")}},
		{name: "selector", policies: map[string]string{"t": `{"clusterLabelSelector":{"region":"edge"}}`}, step: []string{"t"}, want: []Placement{l("edge-1"), l("edge-2")}},
		{name: "selector with two labels", policies: map[string]string{"t": `{"clusterLabelSelector":{"region":"edge","zone":"b"}}`}, step: []string{"t"}, want: []Placement{l("edge-2")}},
		{name: "empty selector is every cluster, local included", policies: map[string]string{"t": `{"clusterLabelSelector":{}}`}, step: []string{"t"}, want: []Placement{l("local"), l("edge-1"), l("edge-2"), l("prod")}},
		{name: "deprecated clusterSelector", policies: map[string]string{"t": `{"clusterSelector":{"region":"core"}}`}, step: []string{"t"}, want: []Placement{l("prod")}},
		{name: "neither field is local", policies: map[string]string{"t": `{"namespace":"web"}`}, step: []string{"t"}, want: []Placement{{Cluster: "local", Namespace: "web"}}},
		{name: "namespace", policies: map[string]string{"t": `{"clusters":["edge-1"],"namespace":"shop"}`}, step: []string{"t"}, want: []Placement{{Cluster: "edge-1", Namespace: "shop"}}},
		{name: "two topologies, listed once", policies: map[string]string{"a": `{"clusters":["edge-1"]}`, "b": `{"clusterLabelSelector":{"region":"edge"}}`}, step: []string{"a", "b"}, want: []Placement{l("edge-1"), l("edge-2")}},
		{name: "selector matching nothing", policies: map[string]string{"t": `{"clusterLabelSelector":{"region":"moon"}}`}, step: []string{"t"}, err: "failed to find any cluster matches given labels"},
		{name: "selector matching nothing, allowEmpty", policies: map[string]string{"t": `{"clusterLabelSelector":{"region":"moon"},"allowEmpty":true}`}, step: []string{"t"}, want: nil},
		{name: "unknown cluster", policies: map[string]string{"t": `{"clusters":["edge-3"]}`}, step: []string{"t"}, err: `cluster "edge-3" is not joined`},
		{name: "unknown policy", step: []string{"nope"}, err: `policy "nope" not found`},
		{name: "only the step's topologies", policies: map[string]string{"a": `{"clusters":["edge-1"]}`, "b": `{"clusters":["prod"]}`}, step: []string{"b"}, want: []Placement{l("prod")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := &v1beta1.Application{}
			for n, p := range tc.policies {
				typ := PolicyTopology
				if s, ok := strings.CutPrefix(p, "override:"); ok {
					typ, p = PolicyOverride, s
				}
				app.Spec.Policies = append(app.Spec.Policies, v1beta1.AppPolicy{Name: n, Type: typ, Properties: &runtime.RawExtension{Raw: []byte(p)}})
			}
			got, err := Placements(app, tc.step, clusters)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("placements %v, want %v", got, tc.want)
			}
		})
	}
}
