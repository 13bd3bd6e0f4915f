package controller

import (
	"context"
	"fmt"
	"reflect"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/velad-dev/velad/operators/rollout/api/v1beta1"
)

// HTTPRouteGVK is Gateway API's HTTPRoute (read as unstructured: the
// controller needs only its rules' backendRefs).
var HTTPRouteGVK = schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"}

// The ingress addon's default Gateway, where the HTTPRoute made for an
// Ingress's traffic attaches.
const (
	DefaultGatewayNamespace = "vela-system"
	DefaultGatewayName      = "traefik-gateway"
	DefaultGatewayListener  = "web"
)

// canaryService is the name of the canary Service of a stable Service.
func canaryService(s string) string { return s + "-canary" }

// ingressRoute is the name of the HTTPRoute that carries an Ingress's
// traffic during a release.
func ingressRoute(ing string) string { return ing + "-canary" }

// ensureCanaryService makes <service>-canary: the stable Service's ports,
// selecting only the canary Deployment's pods.
func (r *Reconciler) ensureCanaryService(ctx context.Context, ro *v1beta1.Rollout, stable *corev1.Service, workloadName string) error {
	c := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: canaryService(stable.Name), Namespace: stable.Namespace}}
	_, err := controllerutil.CreateOrUpdate(ctx, r.Client, c, func() error {
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		c.Labels[LabelRollout] = ro.Name
		sel := map[string]string{}
		for k, v := range stable.Spec.Selector {
			if k != podTemplateHash {
				sel[k] = v
			}
		}
		sel[LabelCanary] = workloadName
		c.Spec.Selector = sel
		ports := make([]corev1.ServicePort, 0, len(stable.Spec.Ports))
		for _, p := range stable.Spec.Ports {
			p.NodePort = 0
			ports = append(ports, p)
		}
		c.Spec.Ports = ports
		return controllerutil.SetControllerReference(ro, c, r.Client.Scheme())
	})
	if err != nil {
		return fmt.Errorf("create or update canary Service %s: %w", c.Name, err)
	}
	return nil
}

// pinStable makes the stable Service select only the stable pods (their
// pod-template-hash), or ("" hash) gives the selector back as it was. Server-
// side apply with the controller's field manager: the application's own
// apply of the Service leaves that one selector key alone.
func (r *Reconciler) pinStable(ctx context.Context, svc *corev1.Service, hash string) error {
	if svc.Spec.Selector[podTemplateHash] == hash {
		return nil
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": svc.Name, "namespace": svc.Namespace},
	}}
	if hash != "" {
		u.Object["spec"] = map[string]any{"selector": map[string]any{podTemplateHash: hash}}
	}
	if err := r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("select stable pods with Service %s: %w", svc.Name, err)
	}
	if hash == "" {
		delete(svc.Spec.Selector, podTemplateHash)
	} else {
		svc.Spec.Selector[podTemplateHash] = hash
	}
	return nil
}

// setTraffic gives the canary Service weight percent of the route's
// traffic to the stable Service; weight < 0 takes the canary out of the
// route (the route as the application made it).
func (r *Reconciler) setTraffic(ctx context.Context, ro *v1beta1.Rollout, tr v1beta1.TrafficRoutingRef, weight int32) error {
	name, err := r.routeName(ctx, ro, tr, weight)
	if err != nil || name == "" {
		return err
	}
	route := &unstructured.Unstructured{}
	route.SetGroupVersionKind(HTTPRouteGVK)
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ro.Namespace, Name: name}, route); err != nil {
		if apierrors.IsNotFound(err) && weight < 0 {
			return nil
		}
		return fmt.Errorf("read HTTPRoute %s: %w", name, err)
	}
	rules, _, _ := unstructured.NestedSlice(route.Object, "spec", "rules")
	found := false
	for i, rule := range rules {
		m, ok := rule.(map[string]any)
		if !ok {
			continue
		}
		refs, _, _ := unstructured.NestedSlice(m, "backendRefs")
		next, has := weighRefs(refs, tr.Service, canaryService(tr.Service), weight)
		found = found || has
		m["backendRefs"] = next
		rules[i] = m
	}
	if !found {
		return fmt.Errorf("HTTPRoute %s has no rule with a backendRef to Service %s: route the component's Service there", name, tr.Service)
	}
	old, _, _ := unstructured.NestedSlice(route.Object, "spec", "rules")
	ann := route.GetAnnotations()
	held, isHeld := ann[v1beta1.AnnotationBackendRefs]
	if reflect.DeepEqual(old, rules) && (weight < 0) == !isHeld && (weight < 0 || held == ro.Name) {
		return nil
	}
	if err := unstructured.SetNestedSlice(route.Object, rules, "spec", "rules"); err != nil {
		return err
	}
	// While the canary is in the route, its other appliers keep the
	// weighted backendRefs (v1beta1.AnnotationBackendRefs).
	if weight < 0 {
		delete(ann, v1beta1.AnnotationBackendRefs)
	} else {
		if ann == nil {
			ann = map[string]string{}
		}
		ann[v1beta1.AnnotationBackendRefs] = ro.Name
	}
	route.SetAnnotations(ann)
	if err := r.Client.Update(ctx, route); err != nil {
		return fmt.Errorf("set canary weight %d%% on HTTPRoute %s: %w", weight, name, err)
	}
	r.awaitRoute(ctx, ro.Namespace, name, route.GetGeneration())
	return nil
}

// routeWait bounds how long setTraffic waits for the Gateway controller
// to see a route's new weights.
const routeWait = 10 * time.Second

// awaitRoute waits until the Gateway controller that serves the route
// (Traefik) reports generation gen in its status (every parent's
// conditions' observedGeneration), so that the grace period that follows
// a change of weights starts once the proxy has the new weights, not
// before: pods are removed only after it. A route no controller reports
// on is not waited for; past routeWait the release goes on (the grace
// period still applies).
func (r *Reconciler) awaitRoute(ctx context.Context, ns, name string, gen int64) {
	deadline := time.Now().Add(routeWait)
	for {
		route := &unstructured.Unstructured{}
		route.SetGroupVersionKind(HTTPRouteGVK)
		if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, route); err != nil {
			return
		}
		seen, served := observedGeneration(route)
		if !served || seen >= gen || time.Now().After(deadline) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// observedGeneration is the oldest generation the route's parents report
// (status.parents[].conditions[].observedGeneration); served is false
// when no controller reports on the route.
func observedGeneration(route *unstructured.Unstructured) (seen int64, served bool) {
	parents, _, _ := unstructured.NestedSlice(route.Object, "status", "parents")
	seen = -1
	for _, p := range parents {
		pm, _ := p.(map[string]any)
		conds, _, _ := unstructured.NestedSlice(pm, "conditions")
		var newest int64
		for _, c := range conds {
			cm, _ := c.(map[string]any)
			var g int64
			switch v := cm["observedGeneration"].(type) {
			case int64:
				g = v
			case float64: // read from YAML or JSON without a schema
				g = int64(v)
			}
			newest = max(newest, g)
		}
		if len(conds) == 0 {
			continue
		}
		served = true
		if seen < 0 || newest < seen {
			seen = newest
		}
	}
	return seen, served
}

// weighRefs returns backendRefs with stable at 100-w and canary at w
// (canary dropped and stable's weight cleared when w < 0); has says
// whether the stable Service is among them.
func weighRefs(refs []any, stable, canary string, w int32) ([]any, bool) {
	var out []any
	var stableRef map[string]any
	for _, ref := range refs {
		m, ok := ref.(map[string]any)
		if !ok {
			out = append(out, ref)
			continue
		}
		if kind, _ := m["kind"].(string); kind != "" && kind != "Service" {
			out = append(out, m)
			continue
		}
		switch m["name"] {
		case canary:
			continue // put back below
		case stable:
			m = copyMap(m)
			if w < 0 {
				delete(m, "weight")
			} else {
				m["weight"] = int64(100 - w)
			}
			stableRef = m
		}
		out = append(out, m)
	}
	if stableRef == nil {
		return refs, false
	}
	if w >= 0 {
		c := copyMap(stableRef)
		c["name"] = canary
		c["weight"] = int64(w)
		out = append(out, c)
	}
	return out, true
}

func copyMap(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// routeName is the HTTPRoute whose weights move: the one named by
// gateway.httpRouteName, or for ingress.name one the controller makes
// beside the Ingress (same hosts and paths, on the ingress addon's
// Gateway) so Traefik weighs the two Services.
func (r *Reconciler) routeName(ctx context.Context, ro *v1beta1.Rollout, tr v1beta1.TrafficRoutingRef, weight int32) (string, error) {
	if tr.Gateway != nil && tr.Gateway.HTTPRouteName != nil {
		return *tr.Gateway.HTTPRouteName, nil
	}
	if tr.Ingress == nil {
		return "", nil
	}
	name := ingressRoute(tr.Ingress.Name)
	if weight < 0 {
		route := &unstructured.Unstructured{}
		route.SetGroupVersionKind(HTTPRouteGVK)
		route.SetNamespace(ro.Namespace)
		route.SetName(name)
		if err := r.Client.Delete(ctx, route); client.IgnoreNotFound(err) != nil {
			return "", fmt.Errorf("delete HTTPRoute %s: %w", name, err)
		}
		return "", nil
	}
	ing := &networkingv1.Ingress{}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ro.Namespace, Name: tr.Ingress.Name}, ing); err != nil {
		return "", fmt.Errorf("read Ingress %s: %w", tr.Ingress.Name, err)
	}
	route := routeForIngress(ing, tr.Service, name)
	if err := controllerutil.SetControllerReference(ro, route, r.Client.Scheme()); err != nil {
		return "", err
	}
	existing := &unstructured.Unstructured{}
	existing.SetGroupVersionKind(HTTPRouteGVK)
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: ro.Namespace, Name: name}, existing)
	if apierrors.IsNotFound(err) {
		if err := r.Client.Create(ctx, route); err != nil {
			return "", fmt.Errorf("create HTTPRoute %s for Ingress %s: %w", name, ing.Name, err)
		}
		return name, nil
	}
	return name, err
}

// routeForIngress is an HTTPRoute with the Ingress's hosts and the paths
// that lead to the stable Service.
func routeForIngress(ing *networkingv1.Ingress, stable, name string) *unstructured.Unstructured {
	var hosts []any
	var rules []any
	for _, ir := range ing.Spec.Rules {
		if ir.Host != "" {
			hosts = append(hosts, ir.Host)
		}
		if ir.HTTP == nil {
			continue
		}
		for _, p := range ir.HTTP.Paths {
			if p.Backend.Service == nil || p.Backend.Service.Name != stable {
				continue
			}
			port := int64(p.Backend.Service.Port.Number)
			typ := "PathPrefix"
			if p.PathType != nil && *p.PathType == networkingv1.PathTypeExact {
				typ = "Exact"
			}
			path := p.Path
			if path == "" {
				path = "/"
			}
			rules = append(rules, map[string]any{
				"matches":     []any{map[string]any{"path": map[string]any{"type": typ, "value": path}}},
				"backendRefs": []any{map[string]any{"name": stable, "port": port}},
			})
		}
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"spec": map[string]any{
			"parentRefs": []any{map[string]any{
				"group": "gateway.networking.k8s.io", "kind": "Gateway",
				"name": DefaultGatewayName, "namespace": DefaultGatewayNamespace, "sectionName": DefaultGatewayListener,
			}},
			"rules": rules,
		},
	}}
	if len(hosts) > 0 {
		u.Object["spec"].(map[string]any)["hostnames"] = hosts
	}
	u.SetGroupVersionKind(HTTPRouteGVK)
	u.SetNamespace(ing.Namespace)
	u.SetName(name)
	return u
}
