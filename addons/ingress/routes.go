// Package ingress reads what the ingress addon serves: its Traefik and
// the routes it takes (Ingresses of its class, HTTPRoutes on its
// Gateways), for `velad status` and `velad addon status ingress`.
package ingress

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// What the addon's chart (charts/ingress) names.
const (
	Namespace  = "vela-system"
	Deployment = "traefik"
	// Class is the IngressClass the chart makes (and marks default).
	Class = "traefik"
	// GatewayClass is the chart's GatewayClass.
	GatewayClass = "traefik"
)

// Route is one Ingress or HTTPRoute the addon's Traefik serves.
type Route struct {
	Kind      string // Ingress or HTTPRoute
	Namespace string
	Name      string
	// App is the application that rendered it ("" when none).
	App string
	// Hosts are the host names ("*" for every host).
	Hosts []string
	// Paths are "path → service:port" (with the weight when it has one).
	Paths []string
	// Address is where Traefik says it serves it (Ingress status, or
	// whether the Gateway accepted the HTTPRoute).
	Address string
}

// Status is the addon's Traefik as `velad status` shows it.
type Status struct {
	Installed bool
	Available bool
	// Detail is one line: ports and routes, or what is wrong.
	Detail string
}

// ReadStatus reads Traefik's Deployment and counts its routes.
func ReadStatus(ctx context.Context, cs kubernetes.Interface) Status {
	d, err := cs.AppsV1().Deployments(Namespace).Get(ctx, Deployment, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return Status{}
	}
	if err != nil {
		return Status{Installed: true, Detail: err.Error()}
	}
	st := Status{Installed: true, Available: d.Status.AvailableReplicas > 0 && d.Status.ObservedGeneration >= d.Generation}
	ports := hostPorts(d)
	if !st.Available {
		st.Detail = fmt.Sprintf("Traefik not available (%d/%d replicas ready)", d.Status.ReadyReplicas, d.Status.Replicas)
		return st
	}
	routes, err := Routes(ctx, cs)
	if err != nil {
		st.Detail = fmt.Sprintf("Traefik on the node's ports %s; routes unknown: %v", ports, err)
		return st
	}
	n := map[string]int{}
	for _, r := range routes {
		n[r.Kind]++
	}
	st.Detail = fmt.Sprintf("Traefik on the node's ports %s, %d Ingress(es), %d HTTPRoute(s)", ports, n["Ingress"], n["HTTPRoute"])
	return st
}

func hostPorts(d *appsv1.Deployment) string {
	var ports []string
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort != 0 {
				ports = append(ports, fmt.Sprint(p.HostPort))
			}
		}
	}
	if len(ports) == 0 {
		return "(none)"
	}
	return strings.Join(ports, ", ")
}

// Routes lists the Ingresses Traefik serves (class traefik, named in
// spec or by the legacy annotation, or no class while traefik is the
// default) and the HTTPRoutes attached to Gateways of its GatewayClass,
// sorted by kind, namespace and name.
func Routes(ctx context.Context, cs kubernetes.Interface) ([]Route, error) {
	ings, err := cs.NetworkingV1().Ingresses("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list Ingresses: %w", err)
	}
	var out []Route
	for i := range ings.Items {
		if r, ok := ingressRoute(&ings.Items[i]); ok {
			out = append(out, r)
		}
	}
	routes, err := httpRoutes(ctx, cs)
	if err != nil {
		return nil, err
	}
	out = append(out, routes...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return out, nil
}

func ingressRoute(ing *networkingv1.Ingress) (Route, bool) {
	class := ing.Annotations["kubernetes.io/ingress.class"]
	if ing.Spec.IngressClassName != nil {
		class = *ing.Spec.IngressClassName
	}
	if class != "" && class != Class {
		return Route{}, false
	}
	r := Route{Kind: "Ingress", Namespace: ing.Namespace, Name: ing.Name, App: ing.Labels["app.oam.dev/name"]}
	for _, rule := range ing.Spec.Rules {
		host := rule.Host
		if host == "" {
			host = "*"
		}
		r.Hosts = appendNew(r.Hosts, host)
		if rule.HTTP == nil {
			continue
		}
		for _, p := range rule.HTTP.Paths {
			if s := p.Backend.Service; s != nil {
				port := s.Port.Name
				if s.Port.Number != 0 {
					port = fmt.Sprint(s.Port.Number)
				}
				r.Paths = append(r.Paths, fmt.Sprintf("%s%s → %s:%s", host, orSlash(p.Path), s.Name, port))
			}
		}
	}
	for _, lb := range ing.Status.LoadBalancer.Ingress {
		r.Address = lb.IP + lb.Hostname
	}
	if r.Address == "" {
		r.Address = "not served yet"
	}
	return r, true
}

// httpRoute is the part of a gateway.networking.k8s.io/v1 HTTPRoute read
// here.
type httpRoute struct {
	Metadata struct {
		Namespace string            `json:"namespace"`
		Name      string            `json:"name"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		ParentRefs []struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"parentRefs"`
		Hostnames []string `json:"hostnames"`
		Rules     []struct {
			Matches []struct {
				Path *struct {
					Value string `json:"value"`
				} `json:"path"`
			} `json:"matches"`
			BackendRefs []struct {
				Name   string `json:"name"`
				Port   *int   `json:"port"`
				Weight *int   `json:"weight"`
			} `json:"backendRefs"`
		} `json:"rules"`
	} `json:"spec"`
	Status struct {
		Parents []struct {
			Conditions []metav1.Condition `json:"conditions"`
		} `json:"parents"`
	} `json:"status"`
}

type gateway struct {
	Metadata struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		GatewayClassName string `json:"gatewayClassName"`
	} `json:"spec"`
}

// list reads a Gateway API list; a cluster without the CRDs has none.
func list[T any](ctx context.Context, cs kubernetes.Interface, resource string) ([]T, error) {
	raw, err := cs.Discovery().RESTClient().Get().AbsPath("/apis/gateway.networking.k8s.io/v1", resource).Do(ctx).Raw()
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", resource, err)
	}
	var l struct {
		Items []T `json:"items"`
	}
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, fmt.Errorf("list %s: %w", resource, err)
	}
	return l.Items, nil
}

func httpRoutes(ctx context.Context, cs kubernetes.Interface) ([]Route, error) {
	gws, err := list[gateway](ctx, cs, "gateways")
	if err != nil {
		return nil, err
	}
	ours := map[string]bool{}
	for _, g := range gws {
		if g.Spec.GatewayClassName == GatewayClass {
			ours[g.Metadata.Namespace+"/"+g.Metadata.Name] = true
		}
	}
	hrs, err := list[httpRoute](ctx, cs, "httproutes")
	if err != nil {
		return nil, err
	}
	var out []Route
	for _, h := range hrs {
		attached := false
		for _, p := range h.Spec.ParentRefs {
			ns := p.Namespace
			if ns == "" {
				ns = h.Metadata.Namespace
			}
			attached = attached || ours[ns+"/"+p.Name]
		}
		if !attached {
			continue
		}
		r := Route{Kind: "HTTPRoute", Namespace: h.Metadata.Namespace, Name: h.Metadata.Name, App: h.Metadata.Labels["app.oam.dev/name"]}
		r.Hosts = h.Spec.Hostnames
		if len(r.Hosts) == 0 {
			r.Hosts = []string{"*"}
		}
		for _, rule := range h.Spec.Rules {
			path := "/"
			if len(rule.Matches) > 0 && rule.Matches[0].Path != nil {
				path = rule.Matches[0].Path.Value
			}
			var backends []string
			for _, b := range rule.BackendRefs {
				s := b.Name
				if b.Port != nil {
					s += fmt.Sprintf(":%d", *b.Port)
				}
				if b.Weight != nil {
					s += fmt.Sprintf(" (weight %d)", *b.Weight)
				}
				backends = append(backends, s)
			}
			r.Paths = append(r.Paths, fmt.Sprintf("%s → %s", orSlash(path), strings.Join(backends, ", ")))
		}
		r.Address = "not accepted yet"
		for _, p := range h.Status.Parents {
			for _, c := range p.Conditions {
				if c.Type == "Accepted" {
					r.Address = "accepted"
					if c.Status != metav1.ConditionTrue {
						r.Address = "refused: " + c.Message
					}
				}
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func orSlash(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func appendNew(l []string, s string) []string {
	for _, x := range l {
		if x == s {
			return l
		}
	}
	return append(l, s)
}
