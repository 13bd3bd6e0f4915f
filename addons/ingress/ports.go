package ingress

import (
	"fmt"

	"github.com/velad-dev/velad/charts"
	"github.com/velad-dev/velad/charts/release"
)

// Chart is the addon's chart folder under charts/.
const Chart = "ingress"

// DefaultHostPorts are the node ports Traefik takes with the chart's
// default values (ports.web.hostPort and ports.websecure.hostPort):
// what `velad install` checks are free before it enables the addon.
func DefaultHostPorts() ([]int, error) {
	ch, err := release.Load(charts.FS(), Chart)
	if err != nil {
		return nil, err
	}
	return hostPortsOf(ch.Values)
}

func hostPortsOf(values map[string]any) ([]int, error) {
	ports, _ := values["ports"].(map[string]any)
	var out []int
	for _, entry := range []string{"web", "websecure"} {
		p, _ := ports[entry].(map[string]any)
		switch n := p["hostPort"].(type) {
		case float64:
			out = append(out, int(n))
		case int:
			out = append(out, n)
		case int64:
			out = append(out, int(n))
		case nil:
		default:
			return nil, fmt.Errorf("chart %s: ports.%s.hostPort is %v, not a port number", Chart, entry, n)
		}
	}
	return out, nil
}
