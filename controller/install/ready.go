package install

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/internal/rollout"
)

// Namespace is where the controller runs and the built-in definitions
// are installed.
const Namespace = definition.DefaultNamespace // vela-system

// ControllerReady reports whether the controller's Deployment (in
// Namespace) is rolled out and the built-in definitions it installs at
// start are all there, so that `velad up` works as soon as install
// returns.
func ControllerReady(ctx context.Context, cs kubernetes.Interface, c client.Client, deployment string) (bool, string) {
	if ok, state := rollout.DeploymentAvailable(ctx, cs, Namespace, deployment); !ok {
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

// missingDefinitions lists the built-in definitions not yet in Namespace.
func missingDefinitions(ctx context.Context, c client.Client) ([]string, error) {
	defs, err := builtinDefinitions()
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{}  // kinds listed so far
	present := map[string]bool{} // "Kind/name" in Namespace
	var missing []string
	for _, d := range defs {
		kind := d.Kind.CRDKind()
		if !listed[kind] {
			list := &unstructured.UnstructuredList{}
			list.SetAPIVersion("core.oam.dev/v1beta1")
			list.SetKind(kind + "List")
			if err := c.List(ctx, list, client.InNamespace(Namespace)); err != nil && !apierrors.IsNotFound(err) {
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
