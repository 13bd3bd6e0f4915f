package controller

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func TestObservedGeneration(t *testing.T) {
	cases := []struct {
		name   string
		status string
		seen   int64
		served bool
	}{
		{"nobody serves the route", `{}`, -1, false},
		{"parents without conditions", `{parents: [{parentRef: {name: gw}}]}`, -1, false},
		{"one parent", `{parents: [{conditions: [{type: Accepted, observedGeneration: 4}, {type: ResolvedRefs, observedGeneration: 5}]}]}`, 5, true},
		{"the oldest parent counts", `{parents: [{conditions: [{type: Accepted, observedGeneration: 7}]}, {conditions: [{type: Accepted, observedGeneration: 6}]}]}`, 6, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := map[string]any{}
			if err := yaml.Unmarshal([]byte(c.status), &st); err != nil {
				t.Fatal(err)
			}
			u := &unstructured.Unstructured{Object: map[string]any{"status": st}}
			seen, served := observedGeneration(u)
			if seen != c.seen || served != c.served {
				t.Fatalf("observedGeneration = %d, %v; want %d, %v", seen, served, c.seen, c.served)
			}
		})
	}
}
