package ingress

import (
	"reflect"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestIngressRoute(t *testing.T) {
	path := func(p string, svc string, port int32) networkingv1.HTTPIngressPath {
		return networkingv1.HTTPIngressPath{Path: p, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
			Name: svc, Port: networkingv1.ServiceBackendPort{Number: port}}}}
	}
	ing := func(class, annotation string, hosts ...string) *networkingv1.Ingress {
		i := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "hello",
			Labels: map[string]string{"app.oam.dev/name": "hello"}}}
		if class != "" {
			i.Spec.IngressClassName = &class
		}
		if annotation != "" {
			i.Annotations = map[string]string{"kubernetes.io/ingress.class": annotation}
		}
		for _, h := range hosts {
			i.Spec.Rules = append(i.Spec.Rules, networkingv1.IngressRule{Host: h, IngressRuleValue: networkingv1.IngressRuleValue{
				HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{path("/", "hello", 8000), path("/api", "api", 80)}}}})
		}
		return i
	}
	served := ing("", "traefik", "hello.local")
	served.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "10.0.0.5"}}
	for _, tc := range []struct {
		name string
		in   *networkingv1.Ingress
		want *Route
	}{
		{"annotation", served, &Route{Kind: "Ingress", Namespace: "default", Name: "hello", App: "hello",
			Hosts: []string{"hello.local"}, Paths: []string{"hello.local/ → hello:8000", "hello.local/api → api:80"}, Address: "10.0.0.5"}},
		{"class in spec, no host", ing("traefik", "", ""), &Route{Kind: "Ingress", Namespace: "default", Name: "hello", App: "hello",
			Hosts: []string{"*"}, Paths: []string{"*/ → hello:8000", "*/api → api:80"}, Address: "not served yet"}},
		{"no class: the default", ing("", "", "a.local"), &Route{Kind: "Ingress", Namespace: "default", Name: "hello", App: "hello",
			Hosts: []string{"a.local"}, Paths: []string{"a.local/ → hello:8000", "a.local/api → api:80"}, Address: "not served yet"}},
		{"another class", ing("nginx", "", "a.local"), nil},
		{"another class by annotation", ing("", "nginx", "a.local"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ingressRoute(tc.in)
			if tc.want == nil {
				if ok {
					t.Fatalf("got %+v, want not ours", got)
				}
				return
			}
			if !ok || !reflect.DeepEqual(got, *tc.want) {
				t.Fatalf("got %+v (%v)\nwant %+v", got, ok, *tc.want)
			}
		})
	}
}

// The chart's defaults take the node's ports 80 and 443: install checks
// exactly those.
func TestDefaultHostPorts(t *testing.T) {
	got, err := DefaultHostPorts()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != 80 || got[1] != 443 {
		t.Fatalf("DefaultHostPorts() = %v, want [80 443]", got)
	}
	if _, err := hostPortsOf(map[string]any{"ports": map[string]any{"web": map[string]any{"hostPort": "eighty"}}}); err == nil {
		t.Error("a hostPort that is not a number was accepted")
	}
}
