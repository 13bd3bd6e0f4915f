package render

import (
	"encoding/json"
	"fmt"

	"github.com/velad-dev/velad/controller/api/v1beta1"
)

// PolicyTopology is the policy that says where a deploy step delivers.
const PolicyTopology = "topology"

// LocalCluster is the cluster velad runs.
const LocalCluster = "local"

// Placement is one place a deploy step delivers the components to: a
// cluster and the namespace there ("": the application's).
type Placement struct {
	Cluster   string
	Namespace string
}

// ClusterInfo is what topology resolution knows of a cluster.
type ClusterInfo struct {
	Name   string
	Labels map[string]string
}

// Placements resolves the topology policies among names (a deploy step's
// policies) over clusters, as KubeVela's topology policy: `clusters`
// names clusters that must exist and wins over `clusterLabelSelector`,
// which selects the clusters carrying all its labels (`{}` selects every
// cluster, local included) and must select one unless `allowEmpty`;
// neither field, or no topology policy at all, is local. `namespace`
// replaces the application's. Placements are listed once each, in order.
func Placements(app *v1beta1.Application, names []string, clusters []ClusterInfo) ([]Placement, error) {
	byName := map[string]v1beta1.AppPolicy{}
	for _, p := range app.Spec.Policies {
		if p.Name != "" {
			byName[p.Name] = p
		}
	}
	known := map[string]bool{}
	for _, c := range clusters {
		known[c.Name] = true
	}
	var out []Placement
	seen := map[Placement]bool{}
	add := func(p Placement) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	topologies := 0
	for _, n := range names {
		p, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("policy %q not found: the deploy step names a policy the application does not have", n)
		}
		if p.Type != PolicyTopology {
			continue
		}
		topologies++
		props, err := DecodeProperties(p.Properties)
		if err != nil {
			return nil, fmt.Errorf("policy %q: %w", n, err)
		}
		var t struct {
			Clusters             []string          `json:"clusters"`
			ClusterLabelSelector map[string]string `json:"clusterLabelSelector"`
			ClusterSelector      map[string]string `json:"clusterSelector"`
			AllowEmpty           bool              `json:"allowEmpty"`
			Namespace            string            `json:"namespace"`
		}
		if err := remarshal(props, &t); err != nil {
			return nil, fmt.Errorf("policy %q: %w", n, err)
		}
		selector, hasSelector := t.ClusterLabelSelector, props["clusterLabelSelector"] != nil
		if !hasSelector && props["clusterSelector"] != nil {
			selector, hasSelector = t.ClusterSelector, true
		}
		var picked []string
		switch {
		case len(t.Clusters) > 0:
			for _, c := range t.Clusters {
				if !known[c] {
					return nil, fmt.Errorf("policy %q: cluster %q is not joined: join it with 'velad cluster join', or fix the name ('velad cluster list')", n, c)
				}
				picked = append(picked, c)
			}
		case hasSelector:
			for _, c := range clusters {
				if matches(c.Labels, selector) {
					picked = append(picked, c.Name)
				}
			}
			if len(picked) == 0 && !t.AllowEmpty {
				return nil, fmt.Errorf("policy %q: failed to find any cluster matches given labels %v: label a cluster ('velad cluster labels add'), or set allowEmpty", n, selector)
			}
		default:
			picked = []string{LocalCluster}
		}
		for _, c := range picked {
			add(Placement{Cluster: c, Namespace: t.Namespace})
		}
	}
	if topologies == 0 {
		return []Placement{{Cluster: LocalCluster}}, nil
	}
	return out, nil
}

func matches(labels, selector map[string]string) bool {
	for k, v := range selector {
		if have, ok := labels[k]; !ok || have != v {
			return false
		}
	}
	return true
}

// remarshal decodes a properties map into a typed struct.
func remarshal(in map[string]any, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
