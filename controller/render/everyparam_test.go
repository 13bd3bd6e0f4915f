package render_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"strconv"
	"strings"
	"testing"

	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
)

// Every documented parameter changes the output: for each built-in
// component and trait, each top-level field of its `parameter` is set to
// a value other than its default, and the rendered objects must differ
// from those of the base properties. A parameter the definition accepts
// but drops would pass silently otherwise.
//
// Values are made from the parameter's type (a string, a number, the
// other bool, another enum member, a one-element list or map); structs,
// lists of structs and fields whose type is a pattern (quantities) take
// theirs from paramCase.values. A parameter with neither fails the test:
// give it a value, or an exception with its reason.

type paramCase struct {
	kind definition.Kind
	name string
	// base are the properties every variant starts from (the required
	// ones); for a trait, the trait's properties on traitHost.
	base map[string]any
	// values are what each named parameter is set to, where the type
	// alone does not give one.
	values map[string]any
	// needs are parameters that take effect only beside others (limit
	// beside cpu): both renders compared have those others.
	needs map[string]map[string]any
	// exceptions are parameters that do not change the objects, with why.
	exceptions map[string]string
	// objects is a file of the objects a ref-objects component reads.
	objects string
}

// traitHost is the component traits are rendered on: a webservice with a
// port (and so a Service), so traits that need either find it.
var traitHost = map[string]any{"image": "nginx:1.27", "ports": []any{map[string]any{"port": 80, "expose": true}}}

func obj(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func list(v ...any) []any { return append([]any{}, v...) }

var probe = obj("httpGet", obj("path", "/ready", "port", 8080), "periodSeconds", 5)

var volumeMounts = obj("emptyDir", list(obj("name", "cache", "mountPath", "/cache")))

var volumes = list(obj("name", "cache", "mountPath", "/cache", "type", "emptyDir"))

var envList = list(obj("name", "MODE", "value", "prod"))

var workloadValues = map[string]any{
	"cpu": "250m", "memory": "256Mi", "limit": obj("cpu", "1", "memory", "1Gi"),
	"ports": list(obj("port", 8080, "expose", true)), "port": 8080,
	"env": envList, "volumeMounts": volumeMounts, "volumes": volumes,
	"livenessProbe": probe, "readinessProbe": probe,
	"hostAliases":      list(obj("ip", "10.0.0.1", "hostnames", list("db.local"))),
	"imagePullSecrets": list("registry"),
	"schedule":         "*/5 * * * *", "timeZone": "Europe/Paris",
}

// limitNeeds: limit caps what cpu and memory request, as KubeVela's.
var limitNeeds = map[string]map[string]any{"limit": obj("cpu", "250m", "memory", "256Mi")}

var paramCases = []paramCase{
	{kind: definition.KindComponent, name: "webservice", base: obj("image", "nginx:1.27"), values: workloadValues, needs: limitNeeds,
		exceptions: map[string]string{
			"exposeType": "the Service's type: there is no Service without an exposed port",
		}},
	{kind: definition.KindComponent, name: "worker", base: obj("image", "nginx:1.27"), values: workloadValues},
	{kind: definition.KindComponent, name: "daemon", base: obj("image", "nginx:1.27"), values: workloadValues,
		exceptions: map[string]string{
			"exposeType": "the Service's type: there is no Service without an exposed port",
		}},
	{kind: definition.KindComponent, name: "statefulset", base: obj("image", "nginx:1.27"), values: workloadValues,
		exceptions: map[string]string{
			"exposeType": "the Service's type: there is no Service without an exposed port",
		}},
	{kind: definition.KindComponent, name: "task", base: obj("image", "busybox"), values: workloadValues, needs: limitNeeds},
	{kind: definition.KindComponent, name: "cron-task", base: obj("image", "busybox", "schedule", "0 * * * *"), values: workloadValues, needs: limitNeeds},
	{kind: definition.KindComponent, name: "k8s-objects",
		base: obj("objects", list(obj("apiVersion", "v1", "kind", "ConfigMap", "metadata", obj("name", "a")))),
		values: map[string]any{
			"objects": list(obj("apiVersion", "v1", "kind", "ConfigMap", "metadata", obj("name", "b"))),
		}},
	{kind: definition.KindComponent, name: "ref-objects", objects: "testdata/objects/ref-objects.yaml",
		base:   obj("objects", list(obj("resource", "configmap", "name", "web-flags"))),
		values: map[string]any{"objects": list(obj("resource", "deployment"))}},

	{kind: definition.KindTrait, name: "affinity", base: obj(), values: map[string]any{
		"podAffinity":     obj("required", list(obj("labelSelector", obj("matchLabels", obj("app", "db")), "topologyKey", "kubernetes.io/hostname"))),
		"podAntiAffinity": obj("required", list(obj("labelSelector", obj("matchLabels", obj("app", "web")), "topologyKey", "kubernetes.io/hostname"))),
		"nodeAffinity":    obj("required", obj("nodeSelectorTerms", list(obj("matchExpressions", list(obj("key", "disk", "values", list("ssd"))))))),
		"tolerations":     list(obj("key", "gpu", "operator", "Exists", "effect", "NoSchedule")),
	}},
	{kind: definition.KindTrait, name: "annotations", base: obj("a", "1"), values: map[string]any{"<key>": "2"}},
	{kind: definition.KindTrait, name: "labels", base: obj("a", "1"), values: map[string]any{"<key>": "2"}},
	{kind: definition.KindTrait, name: "command", base: obj("command", list("sleep")), values: map[string]any{
		"containerName": "proxy", "addArgs": list("-v"), "delArgs": list("-q"),
	}, exceptions: map[string]string{
		"containerName": "names a container; tested with the sidecar in trait-container-image-containers (another name is an error)",
		"delArgs":       "removes arguments: without args to remove it changes nothing; the command golden covers it",
	}},
	{kind: definition.KindTrait, name: "container-image", base: obj("image", "nginx:1.28"), values: map[string]any{
		"containers": list(obj("containerName", "web", "image", "nginx:1.29")),
	}, exceptions: map[string]string{
		"containerName": "names a container; another name is an error (container not found)",
	}},
	{kind: definition.KindTrait, name: "container-ports", base: obj("ports", list(obj("containerPort", 80, "hostPort", 8080))), values: map[string]any{
		"ports":      list(obj("containerPort", 9090)),
		"containers": list(obj("containerName", "web", "ports", list(obj("containerPort", 81)))),
	}, exceptions: map[string]string{
		"containerName": "names a container; another name is an error (container not found)",
	}},
	{kind: definition.KindTrait, name: "cpuscaler", base: obj(), values: map[string]any{"targetKind": "StatefulSet"}},
	{kind: definition.KindTrait, name: "hpa", base: obj(), values: map[string]any{
		"cpu": obj("type", "Utilization", "value", 60), "mem": obj("type", "Utilization", "value", 70),
		"podCustomMetrics": list(obj("name", "qps", "value", "100")), "targetKind": "StatefulSet",
	}},
	{kind: definition.KindTrait, name: "env", base: obj("env", obj("A", "1")), values: map[string]any{
		"env": obj("B", "2"), "unset": list("A"), "containers": list(obj("containerName", "web", "env", obj("C", "3"))),
	}, exceptions: map[string]string{
		"containerName": "names a container; another name is an error (container not found)",
		"replace":       "replaces the container's env: the base container has none, so adding and replacing give the same objects; trait-env covers it",
	}},
	{kind: definition.KindTrait, name: "expose", base: obj("port", list(80)), values: map[string]any{
		"port": list(81), "ports": list(obj("port", 82)), "annotations": obj("a", "1"), "type": "NodePort",
	}},
	{kind: definition.KindTrait, name: "gateway", base: obj("domain", "shop.example", "http", obj("/", 80)), values: map[string]any{
		"http": obj("/api", 80), "annotations": obj("a", "1"), "labels": obj("a", "1"),
		"pathType": "Prefix",
	}},
	{kind: definition.KindTrait, name: "hostalias", base: obj("hostAliases", list(obj("ip", "10.0.0.1", "hostnames", list("a")))), values: map[string]any{
		"hostAliases": list(obj("ip", "10.0.0.2", "hostnames", list("b"))),
	}},
	{kind: definition.KindTrait, name: "init-container", base: obj("name", "init", "image", "busybox", "appMountPath", "/data", "initMountPath", "/init"), values: map[string]any{
		"env":               envList,
		"extraVolumeMounts": list(obj("name", "cache", "mountPath", "/cache")),
	}},
	{kind: definition.KindTrait, name: "json-merge-patch", base: obj("metadata", obj("labels", obj("a", "1"))), values: map[string]any{"<key>": obj("b", "2")}},
	{kind: definition.KindTrait, name: "json-patch", base: obj("operations", list()), values: map[string]any{
		"operations": list(obj("op", "add", "path", "/spec/replicas", "value", 3)),
	}},
	{kind: definition.KindTrait, name: "k8s-update-strategy", base: obj(), values: map[string]any{
		"strategy": obj("type", "Recreate"), "targetKind": "StatefulSet",
	}, exceptions: map[string]string{
		"targetAPIVersion": "declared as in KubeVela's definition, which does not use it either: targetKind alone chooses the patch",
	}},
	{kind: definition.KindTrait, name: "lifecycle", base: obj(), values: map[string]any{
		"postStart": obj("exec", obj("command", list("true"))), "preStop": obj("sleep", obj("seconds", 5)),
	}},
	{kind: definition.KindTrait, name: "podsecuritycontext", base: obj(), values: map[string]any{
		"appArmorProfile": obj("type", "RuntimeDefault"), "seccompProfile": obj("type", "RuntimeDefault"),
	}},
	{kind: definition.KindTrait, name: "resource", base: obj(), values: map[string]any{
		"cpu": "2", "memory": "4Gi", "requests": obj("cpu", "100m"), "limits": obj("memory", "1Gi"),
	}},
	{kind: definition.KindTrait, name: "scaler", base: obj()},
	{kind: definition.KindTrait, name: "securitycontext", base: obj(), values: map[string]any{
		"containers": list(obj("containerName", "web", "privileged", true)),
	}, exceptions: map[string]string{
		"containerName": "names a container; another name is an error (container not found)",
	}},
	{kind: definition.KindTrait, name: "service-account", base: obj("name", "robot"), values: nil},
	{kind: definition.KindTrait, name: "sidecar", base: obj("name", "proxy", "image", "envoy"), values: map[string]any{
		"env": envList, "volumes": list(obj("name", "cache", "path", "/cache")),
		"livenessProbe": probe, "readinessProbe": probe,
	}},
	{kind: definition.KindTrait, name: "startup-probe", base: obj("exec", obj("command", list("true"))), values: map[string]any{
		"exec": obj("command", list("false")), "httpGet": obj("path", "/", "port", 80), "grpc": obj("port", 9000),
		"tcpSocket": obj("port", 80),
	}, exceptions: map[string]string{
		"containerName": "names a container; another name is an error (container not found)",
	}},
	{kind: definition.KindTrait, name: "storage", base: obj(), values: map[string]any{
		"pvc":       list(obj("name", "data", "mountPath", "/data")),
		"configMap": list(obj("name", "conf", "mountPath", "/conf")),
		"secret":    list(obj("name", "tls", "mountPath", "/tls")),
		"emptyDir":  list(obj("name", "tmp", "mountPath", "/tmp")),
		"hostPath":  list(obj("name", "log", "mountPath", "/log", "path", "/var/log")),
	}},
	{kind: definition.KindTrait, name: "topologyspreadconstraints", base: obj(), values: map[string]any{
		"constraints": list(obj("maxSkew", 1, "topologyKey", "zone", "labelSelector", obj("matchLabels", obj("app", "web")))),
	}},
}

// notCovered are built-ins this test leaves out, with why.
var notCovered = map[string]string{
	"helmchart": "renders a chart from a repository; helmchart_test.go covers its parameters against a chart repository on loopback",
}

func TestEveryParameterChangesTheOutput(t *testing.T) {
	b, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	all, err := b.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]paramCase{}
	for _, c := range paramCases {
		cases[string(c.kind)+"/"+c.name] = c
	}
	r := render.NewRenderer()
	for _, d := range all {
		if d.Kind != definition.KindComponent && d.Kind != definition.KindTrait || notCovered[d.Name] != "" {
			continue
		}
		c, ok := cases[string(d.Kind)+"/"+d.Name]
		if !ok {
			t.Errorf("%s %q has no case in paramCases", d.Kind, d.Name)
			continue
		}
		t.Run(d.Name, func(t *testing.T) {
			params, err := r.Parameters(d)
			if err != nil {
				t.Fatal(err)
			}
			base := renderWith(t, r, b, c, c.base)
			for _, p := range params {
				if strings.ContainsAny(p.Name, ".[") {
					continue // nested fields: their parent is set as a whole
				}
				if why := c.exceptions[p.Name]; why != "" {
					continue
				}
				v, ok := c.values[p.Name]
				if !ok {
					if v, ok = valueFor(p); !ok {
						t.Errorf("parameter %q (%s): no value to set it to: add one to values or an exception", p.Name, p.Type)
						continue
					}
				}
				props := maps.Clone(c.base)
				maps.Copy(props, c.needs[p.Name])
				want := base
				if c.needs[p.Name] != nil {
					want = renderWith(t, r, b, c, props)
				}
				switch p.Name {
				case "<key>":
					props["changed"] = v
				case "containers": // the other form of the parameter
					props = map[string]any{"containers": v}
				default:
					props[p.Name] = v
				}
				if got := renderWith(t, r, b, c, props); got == want {
					t.Errorf("parameter %q set to %v does not change the rendered objects", p.Name, v)
				}
			}
		})
	}
}

// valueFor makes a value other than p's default from its type.
func valueFor(p render.Parameter) (any, bool) {
	switch p.Type {
	case "string":
		return "changed", true
	case "int", "number":
		n, err := strconv.Atoi(p.Default)
		if err != nil {
			return 7, true
		}
		return n + 1, true
	case "bool":
		return p.Default != "true", true
	case "[]string":
		return []any{"changed"}, true
	case "map[string]string":
		return map[string]any{"changed": "yes"}, true
	}
	if strings.HasPrefix(p.Type, `"`) {
		for _, o := range strings.Split(p.Type, "|") {
			if o != p.Default && o != `""` {
				s, err := strconv.Unquote(o)
				return s, err == nil
			}
		}
	}
	return nil, false
}

// renderWith renders the case's definition with props (a component, or a
// trait on traitHost) and returns what dry-run prints.
func renderWith(t *testing.T, r *render.Renderer, defs definition.Source, c paramCase, props map[string]any) string {
	t.Helper()
	comp := map[string]any{"name": "web", "type": c.name, "properties": props}
	if c.kind == definition.KindTrait {
		comp = map[string]any{"name": "web", "type": "webservice", "properties": traitHost,
			"traits": []any{map[string]any{"type": "sidecar", "properties": map[string]any{"name": "proxy", "image": "envoy"}},
				map[string]any{"type": c.name, "properties": props}}}
		if c.name == "sidecar" {
			comp["traits"] = []any{map[string]any{"type": c.name, "properties": props}}
		}
	}
	data, err := json.Marshal(map[string]any{
		"apiVersion": "core.oam.dev/v1beta1", "kind": "Application",
		"metadata": map[string]any{"name": "params", "namespace": "demo"},
		"spec":     map[string]any{"components": []any{comp}},
	})
	if err != nil {
		t.Fatal(err)
	}
	app, err := render.ParseApplication(data)
	if err != nil {
		t.Fatal(err)
	}
	var read render.ReadObjects
	if c.objects != "" {
		read = render.ObjectsReader(t, c.objects)
	}
	var out bytes.Buffer
	if err := r.DryRunReading(context.Background(), &out, app, defs, read); err != nil {
		t.Fatalf("properties %s: %v", data, err)
	}
	return out.String()
}
