package bootstrap

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/charts"
	"github.com/velad-dev/velad/charts/release"
	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/install"
	"github.com/velad-dev/velad/embedded/assets"
)

// The application controller's Helm release.
const (
	ControllerNamespace = definition.DefaultNamespace // vela-system
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

// installController applies the OAM CRDs (Helm installs a chart's CRDs
// only once and never upgrades them, so velad applies them itself), then
// installs or upgrades the controller's release.
func installController(ctx context.Context, kubeconfig string, cc *ControllerChart, timeout time.Duration) error {
	c, err := runtimeClient(kubeconfig)
	if err != nil {
		return err
	}
	if err := install.CRDs(ctx, c, timeout); err != nil {
		return err
	}
	rc, err := release.New(kubeconfig, ControllerNamespace)
	if err != nil {
		return err
	}
	_, err = rc.Apply(ctx, ControllerRelease, cc.Chart, cc.Values, timeout)
	return err
}

// ControllerReady reports whether the controller's Deployment is rolled
// out and the built-in definitions it installs at start are all there, so
// that `velad up` works as soon as install returns.
func ControllerReady(ctx context.Context, cs kubernetes.Interface, c client.Client) (bool, string) {
	if ok, state := DeploymentAvailable(ctx, cs, ControllerNamespace, ControllerRelease); !ok {
		return false, "deployment " + state
	}
	missing, err := missingDefinitions(ctx, c)
	if err != nil {
		return false, err.Error()
	}
	if len(missing) > 0 {
		return false, fmt.Sprintf("%d built-in definitions not installed yet (%s)", len(missing), strings.Join(missing[:min(3, len(missing))], ", "))
	}
	return true, "available"
}

// missingDefinitions lists the built-in definitions not yet in vela-system.
func missingDefinitions(ctx context.Context, c client.Client) ([]string, error) {
	defs, err := builtinDefinitions()
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{}  // kinds listed so far
	present := map[string]bool{} // "Kind/name" in vela-system
	var missing []string
	for _, d := range defs {
		kind := d.Kind.CRDKind()
		if !listed[kind] {
			list := &unstructured.UnstructuredList{}
			list.SetAPIVersion("core.oam.dev/v1beta1")
			list.SetKind(kind + "List")
			if err := c.List(ctx, list, client.InNamespace(ControllerNamespace)); err != nil && !apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("list %ss: %w", kind, err)
			}
			listed[kind] = true
			for _, item := range list.Items {
				present[kind+"/"+item.GetName()] = true
			}
		}
		if !present[kind+"/"+d.Name] {
			missing = append(missing, d.Name)
		}
	}
	sort.Strings(missing)
	return missing, nil
}

// builtinDefinitions are the definitions the controller installs; they
// are compiled once, not at every poll of the wait.
var builtinDefinitions = sync.OnceValues(func() ([]*definition.Definition, error) {
	set, err := builtins.Load()
	if err != nil {
		return nil, err
	}
	return set.List(context.Background())
})

func runtimeClient(kubeconfig string) (client.Client, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig %s: %w", kubeconfig, err)
	}
	cfg.Timeout = 30 * time.Second
	return client.New(cfg, client.Options{})
}
