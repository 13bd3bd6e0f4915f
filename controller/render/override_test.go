package render

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// summary is what a test checks of a planned component.
type summary struct {
	Name, Type string
	Props      map[string]any
	Traits     map[string]map[string]any
}

func TestOverride(t *testing.T) {
	base := func() []workItem {
		return []workItem{
			{comp: v1beta1.ApplicationComponent{Name: "web", Type: "webservice", Traits: []v1beta1.ApplicationTrait{{Type: "scaler"}, {Type: "labels"}}},
				props:      map[string]any{"image": "nginx", "env": map[string]any{"A": "1", "B": "2"}, "ports": []any{80.0}},
				traitProps: []map[string]any{{"replicas": 1.0}, {"team": "x"}}},
			{comp: v1beta1.ApplicationComponent{Name: "worker", Type: "worker"}, props: map[string]any{"image": "busybox"}},
		}
	}
	cases := []struct {
		name   string
		policy string
		want   []summary
		err    string
	}{
		{name: "an entry without name or type changes every component",
			policy: `{"components":[{"properties":{"image":"caddy"}}]}`,
			want: []summary{
				{"web", "webservice", map[string]any{"image": "caddy", "env": map[string]any{"A": "1", "B": "2"}, "ports": []any{80.0}}, map[string]map[string]any{"scaler": {"replicas": 1.0}, "labels": {"team": "x"}}},
				{"worker", "worker", map[string]any{"image": "caddy"}, map[string]map[string]any{}},
			}},
		{name: "maps merge key by key, lists are replaced, null is ignored",
			policy: `{"components":[{"name":"web","properties":{"env":{"B":"3","C":"4"},"ports":[8080],"image":null}}]}`,
			want: []summary{
				{"web", "webservice", map[string]any{"image": "nginx", "env": map[string]any{"A": "1", "B": "3", "C": "4"}, "ports": []any{8080.0}}, map[string]map[string]any{"scaler": {"replicas": 1.0}, "labels": {"team": "x"}}},
				{"worker", "worker", map[string]any{"image": "busybox"}, map[string]map[string]any{}},
			}},
		{name: "by type only",
			policy: `{"components":[{"type":"worker","properties":{"image":"alpine"}}]}`,
			want: []summary{
				{"web", "webservice", map[string]any{"image": "nginx", "env": map[string]any{"A": "1", "B": "2"}, "ports": []any{80.0}}, map[string]map[string]any{"scaler": {"replicas": 1.0}, "labels": {"team": "x"}}},
				{"worker", "worker", map[string]any{"image": "alpine"}, map[string]map[string]any{}},
			}},
		{name: "traits merged, added and disabled",
			policy: `{"components":[{"name":"web","traits":[{"type":"scaler","properties":{"replicas":3}},{"type":"labels","disable":true},{"type":"expose","properties":{"port":[80]}}]}]}`,
			want: []summary{
				{"web", "webservice", map[string]any{"image": "nginx", "env": map[string]any{"A": "1", "B": "2"}, "ports": []any{80.0}}, map[string]map[string]any{"scaler": {"replicas": 3.0}, "expose": {"port": []any{80.0}}}},
				{"worker", "worker", map[string]any{"image": "busybox"}, map[string]map[string]any{}},
			}},
		{name: "a pattern matches by name",
			policy: `{"components":[{"name":"w*","properties":{"image":"x"}}]}`,
			want: []summary{
				{"web", "webservice", map[string]any{"image": "x", "env": map[string]any{"A": "1", "B": "2"}, "ports": []any{80.0}}, map[string]map[string]any{"scaler": {"replicas": 1.0}, "labels": {"team": "x"}}},
				{"worker", "worker", map[string]any{"image": "x"}, map[string]map[string]any{}},
			}},
		{name: "another type replaces the component",
			policy: `{"components":[{"name":"worker","type":"task","properties":{"image":"job"}}]}`,
			want: []summary{
				{"web", "webservice", map[string]any{"image": "nginx", "env": map[string]any{"A": "1", "B": "2"}, "ports": []any{80.0}}, map[string]map[string]any{"scaler": {"replicas": 1.0}, "labels": {"team": "x"}}},
				{"worker", "task", map[string]any{"image": "job"}, map[string]map[string]any{}},
			}},
		{name: "a name that matches nothing adds a component of its type, selector keeps the listed",
			policy: `{"components":[{"name":"cache","type":"worker","properties":{"image":"redis"}}],"selector":["cache"]}`,
			want:   []summary{{"cache", "worker", map[string]any{"image": "redis"}, map[string]map[string]any{}}}},
		{name: "a name that matches nothing, without a type",
			policy: `{"components":[{"name":"cache","properties":{"image":"redis"}}]}`,
			err:    `adds component "cache" (no component matches the name) but gives it no type`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var params map[string]any
			if err := json.Unmarshal([]byte(tc.policy), &params); err != nil {
				t.Fatal(err)
			}
			items := base()
			orig := items[0].props
			got, err := override(items, params)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var sums []summary
			for _, it := range got {
				s := summary{it.comp.Name, it.comp.Type, it.props, map[string]map[string]any{}}
				for i, tr := range it.comp.Traits {
					s.Traits[tr.Type] = it.traitProps[i]
				}
				sums = append(sums, s)
			}
			if !reflect.DeepEqual(sums, tc.want) {
				t.Errorf("got %+v\nwant %+v", sums, tc.want)
			}
			if !reflect.DeepEqual(base()[0].props, orig) {
				t.Errorf("override changed the component's properties in place: %v", orig)
			}
		})
	}
}
