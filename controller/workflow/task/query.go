package task

import (
	"context"
	"fmt"
	"slices"

	"cuelang.org/go/cue"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/tracker"
)

// The query provider: what an application applied (its resource tracker
// of the latest revision), and the endpoints of its Services. The
// multicluster provider: the local cluster only.

type queryParams struct {
	App struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
		Filter    struct {
			Components []string `json:"components"`
		} `json:"filter"`
	} `json:"app"`
}

type appResource struct {
	component string
	object    *unstructured.Unstructured
}

// appResources reads the objects app applied (components filtered).
func (r *runner) appResources(ctx context.Context, a *action) ([]appResource, error) {
	var p queryParams
	if err := a.decode(&p); err != nil {
		return nil, err
	}
	app := &v1beta1.Application{}
	if err := r.env.Reader.Get(ctx, client.ObjectKey{Namespace: p.App.Namespace, Name: p.App.Name}, app); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, permanentf("NotFound", "application %s/%s does not exist", p.App.Namespace, p.App.Name)
		}
		return nil, err
	}
	if app.Status.LatestRevision == nil {
		return nil, nil
	}
	rt := &v1beta1.ResourceTracker{}
	if err := r.env.Reader.Get(ctx, client.ObjectKey{Name: tracker.Name(app, app.Status.LatestRevision.Name)}, rt); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	var out []appResource
	for _, m := range rt.Spec.ManagedResources {
		if len(p.App.Filter.Components) > 0 && !slices.Contains(p.App.Filter.Components, m.Component) {
			continue
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(schema.FromAPIVersionAndKind(m.APIVersion, m.Kind))
		if err := r.env.Reader.Get(ctx, client.ObjectKey{Namespace: m.Namespace, Name: m.Name}, u); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, err
		}
		r.noteSecret(u)
		out = append(out, appResource{component: m.Component, object: u})
	}
	return out, nil
}

func (r *runner) listResources(ctx context.Context, a *action) (map[string]any, error) {
	res, err := r.appResources(ctx, a)
	if err != nil {
		return nil, err
	}
	list := []any{}
	for _, x := range res {
		list = append(list, map[string]any{"cluster": "local", "component": x.component, "object": x.object.Object})
	}
	return map[string]any{"list": list}, nil
}

// serviceEndpoints lists an endpoint per port of the application's
// Services: <name>.<namespace> inside the cluster, and the load
// balancer's address outside when it has one.
func (r *runner) serviceEndpoints(ctx context.Context, a *action) (map[string]any, error) {
	res, err := r.appResources(ctx, a)
	if err != nil {
		return nil, err
	}
	list := []any{}
	for _, x := range res {
		if x.object.GetKind() != "Service" || x.object.GetAPIVersion() != "v1" {
			continue
		}
		svc := &corev1.Service{}
		if err := runtimeConvert(x.object, svc); err != nil {
			continue
		}
		ref := map[string]any{"apiVersion": "v1", "kind": "Service", "name": svc.Name, "namespace": svc.Namespace}
		for _, port := range svc.Spec.Ports {
			ep := func(host string, inner bool) map[string]any {
				e := map[string]any{"protocol": string(port.Protocol), "host": host, "port": port.Port, "inner": inner, "portName": port.Name}
				if port.AppProtocol != nil {
					e["appProtocol"] = *port.AppProtocol
				}
				return map[string]any{"endpoint": e, "ref": ref, "cluster": "local", "component": x.component}
			}
			list = append(list, ep(fmt.Sprintf("%s.%s", svc.Name, svc.Namespace), true))
			for _, in := range svc.Status.LoadBalancer.Ingress {
				host := in.IP
				if host == "" {
					host = in.Hostname
				}
				if host != "" {
					list = append(list, ep(host, false))
				}
			}
		}
	}
	return map[string]any{"list": list}, nil
}

func (r *runner) listClusters(ctx context.Context, _ *action) (map[string]any, error) {
	clusters := []string{"local"}
	if r.env.Clusters != nil {
		var err error
		if clusters, err = r.env.Clusters(ctx); err != nil {
			return nil, err
		}
	}
	return map[string]any{"outputs": map[string]any{"clusters": clusters}}, nil
}

func (r *runner) placements(ctx context.Context, a *action) (map[string]any, error) {
	var policies []string
	if err := a.params.LookupPath(cue.ParsePath("policies")).Decode(&policies); err != nil {
		return nil, fmt.Errorf("policies: %w", err)
	}
	if r.env.Placements == nil {
		return map[string]any{"placements": []any{map[string]any{"cluster": "local", "namespace": r.env.Namespace}}}, nil
	}
	ps, err := r.env.Placements(ctx, policies)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(ps))
	for i, p := range ps {
		ns := p[1]
		if ns == "" {
			ns = r.env.Namespace
		}
		out[i] = map[string]any{"cluster": p[0], "namespace": ns}
	}
	return map[string]any{"placements": out}, nil
}
