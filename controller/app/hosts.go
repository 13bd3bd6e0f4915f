package app

import (
	"context"
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/render"
)

// ingressClassAnnotation is the legacy way to name an Ingress's class
// (KubeVela's gateway trait writes it by default).
const ingressClassAnnotation = "kubernetes.io/ingress.class"

// route is one host and path an Ingress sends somewhere, through a class.
type route struct{ class, host, path string }

// where is a route's host and path.
type where struct{ host, path string }

// claim is a route of this application's and who renders it.
type claim struct {
	class string
	owner routeOwner
}

// routeOwner names who holds a route: an Ingress and its application.
type routeOwner struct{ namespace, name, appNamespace, appName string }

func (o routeOwner) String() string {
	s := "Ingress " + o.namespace + "/" + o.name
	if o.appName != "" {
		s += " of application " + o.appNamespace + "/" + o.appName
	}
	return s
}

// checkHosts refuses an application whose Ingresses route a host and
// path that another application's Ingress (or anyone else's, or another
// of its own components') already routes through the same class: the
// ingress controller would serve only one of them. Nothing is applied
// when it fails.
func (r *Reconciler) checkHosts(ctx context.Context, app *v1beta1.Application, comps []render.RenderedComponent) error {
	mine := map[where][]claim{}
	for _, c := range comps {
		for _, o := range c.Objects() {
			if o.GetKind() != "Ingress" || o.GroupVersionKind().Group != networkingv1.GroupName {
				continue
			}
			ing := &networkingv1.Ingress{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, ing); err != nil {
				return fmt.Errorf("component %q: Ingress %s: %w", c.Name, o.GetName(), err)
			}
			ns := o.GetNamespace()
			if ns == "" {
				ns = app.Namespace
			}
			owner := routeOwner{namespace: ns, name: ing.Name, appNamespace: app.Namespace, appName: app.Name}
			for _, rt := range routesOf(ing) {
				w := where{rt.host, rt.path}
				for _, c := range mine[w] {
					if c.owner != owner && sameClass(c.class, rt.class) {
						return conflict(rt, owner, c.owner)
					}
				}
				mine[w] = append(mine[w], claim{class: rt.class, owner: owner})
			}
		}
	}
	if len(mine) == 0 {
		return nil
	}
	var live networkingv1.IngressList
	if err := r.Client.List(ctx, &live); err != nil {
		return fmt.Errorf("list Ingresses to check host names: %w", err)
	}
	for i := range live.Items {
		ing := &live.Items[i]
		l := ing.Labels
		other := routeOwner{namespace: ing.Namespace, name: ing.Name,
			appNamespace: l[v1beta1.LabelAppNamespace], appName: l[v1beta1.LabelAppName]}
		if other.appName == app.Name && other.appNamespace == app.Namespace {
			continue // this application's own, from an earlier revision
		}
		for _, rt := range routesOf(ing) {
			for _, c := range mine[where{rt.host, rt.path}] {
				if sameClass(c.class, rt.class) {
					return conflict(rt, c.owner, other)
				}
			}
		}
	}
	return nil
}

// routesOf lists the host and path pairs of an Ingress's rules.
func routesOf(ing *networkingv1.Ingress) []route {
	class := ing.Annotations[ingressClassAnnotation]
	if ing.Spec.IngressClassName != nil {
		class = *ing.Spec.IngressClassName
	}
	var out []route
	for _, rule := range ing.Spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		for _, p := range rule.HTTP.Paths {
			path := p.Path
			if path == "" {
				path = "/"
			}
			out = append(out, route{class: class, host: rule.Host, path: path})
		}
	}
	return out
}

// sameClass: the same ingress controller may serve both; an Ingress
// naming no class is served by the default class, which may be anyone's.
func sameClass(a, b string) bool { return a == b || a == "" || b == "" }

func conflict(rt route, mine, other routeOwner) error {
	host := rt.host
	if host == "" {
		host = "every host (no domain)"
	}
	return &renderError{err: fmt.Errorf("%s: host %s path %s is already routed by %s; choose another domain or path (the gateway trait's domain and http)",
		mine, host, rt.path, other)}
}
