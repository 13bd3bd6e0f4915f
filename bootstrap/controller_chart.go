package bootstrap

import (
	"fmt"
	"strings"

	"helm.sh/helm/v3/pkg/chart"

	"github.com/velad-dev/velad/charts"
	"github.com/velad-dev/velad/charts/release"
	"github.com/velad-dev/velad/controller/install"
	"github.com/velad-dev/velad/embedded/assets"
)

// The application controller's Helm release (its Deployment has the same
// name).
const (
	ControllerNamespace = install.Namespace // vela-system
	ControllerRelease   = "velad-controller"
	controllerChart     = "velad-controller"
)

// ControllerChart is the controller's chart with the values install
// applies: the image this velad carries, then the user's --set flags,
// checked against the chart's values schema.
type ControllerChart struct {
	Chart  *chart.Chart
	Values map[string]any
}

// PrepareControllerChart loads the embedded chart and checks the values,
// before install touches anything, so a bad --set changes nothing.
func PrepareControllerChart(sets []string) (*ControllerChart, error) {
	ch, err := release.Load(charts.FS(), controllerChart)
	if err != nil {
		return nil, err
	}
	ref, err := assets.ControllerImage()
	if err != nil {
		return nil, err
	}
	repo, tag, err := splitImage(ref)
	if err != nil {
		return nil, err
	}
	values := map[string]any{"image": map[string]any{"repository": repo, "tag": tag}}
	if err := release.ParseSet(values, sets); err != nil {
		return nil, err
	}
	if err := release.Validate(ch, values); err != nil {
		return nil, fmt.Errorf("%w (the chart's values: charts/velad-controller/values.yaml in velad's source)", err)
	}
	return &ControllerChart{Chart: ch, Values: values}, nil
}

// splitImage splits repo:tag (the repo may hold a registry port).
func splitImage(ref string) (string, string, error) {
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return "", "", fmt.Errorf("controller image %q has no tag; rebuild velad with 'make build'", ref)
	}
	return ref[:i], ref[i+1:], nil
}
