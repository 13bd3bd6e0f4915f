package task

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/workflow"
)

// Env is what a step's actions reach.
type Env struct {
	// Reader reads objects (from the API server, not a cache).
	Reader client.Reader
	// Client writes objects (delete, patch, configs).
	Client client.Client
	// Apply applies an object on behalf of the application (its labels,
	// its resource tracker) and returns the live object. A permanent
	// error (invalid object) is reported by IsPermanent.
	Apply func(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error)
	// IsPermanent tells apply errors that retrying will not fix.
	IsPermanent func(error) bool
	// Namespace is the application's (the default of objects).
	Namespace string
	// App runs the application's components (op.#ApplyComponent,
	// op.#Load); nil: those actions fail.
	App App
	// Context is the workflow's context (#DoVar variables).
	Context *workflow.Context
	// HTTP is the client of vela/http; nil: a default one. Requests time
	// out after HTTPTimeout (a request's own timeout, up to
	// MaxHTTPTimeout) and responses are read up to MaxResponse bytes.
	HTTP *http.Client
	Now  func() time.Time
	// Clusters lists the clusters (vela/multicluster); nil: local only.
	Clusters func(ctx context.Context) ([]string, error)
	// Placements resolves the named topology policies into [cluster,
	// namespace] pairs (namespace "": the application's); nil: local.
	Placements func(ctx context.Context, policies []string) ([][2]string, error)
}

// Limits of HTTP from steps.
const (
	HTTPTimeout    = 10 * time.Second
	MaxHTTPTimeout = 60 * time.Second
	MaxResponse    = 1 << 20
)

// App is the application a step belongs to.
type App interface {
	// Components are the application's components as written in it
	// (name → component), for op.#Load.
	Components() map[string]any
	// ApplyComponent applies component name and reports whether it is
	// healthy (done), waiting, or failed; output and outputs are its
	// rendered objects.
	ApplyComponent(ctx context.Context, name string) (o workflow.Outcome, output map[string]any, outputs map[string]any, err error)
	// Deploy applies every component and reports whether all are
	// healthy (done), waiting, or failed.
	Deploy(ctx context.Context) (workflow.Outcome, error)
}

// permanent is an error that running the action again will not fix:
// the step fails with it.
type permanent struct {
	reason, msg string
}

func (p *permanent) Error() string { return p.msg }

func permanentf(reason, format string, args ...any) error {
	return &permanent{reason: reason, msg: fmt.Sprintf(format, args...)}
}

func asPermanent(err error, p **permanent) bool { return errors.As(err, p) }

// local checks that cluster names the cluster velad runs: kube actions
// of workflow steps act there only (deploy steps deliver to joined
// clusters through topology policies).
func local(cluster string) error {
	if cluster == "" || cluster == "local" {
		return nil
	}
	return permanentf("UnsupportedCluster", "cluster %q: kube actions in workflow steps act on the local cluster only; deliver to joined clusters with a deploy step and a topology policy", cluster)
}
