package render_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
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
	// host replaces traitHost's properties.
	host map[string]any
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

var volumeMounts = obj(
	"emptyDir", list(obj("name", "cache", "mountPath", "/cache")),
	"pvc", list(obj("name", "data", "mountPath", "/data", "claimName", "data")),
	"configMap", list(obj("name", "conf", "mountPath", "/conf", "cmName", "conf", "items", list(obj("key", "a", "path", "a")))),
	"secret", list(obj("name", "tls", "mountPath", "/tls", "secretName", "tls", "items", list(obj("key", "crt", "path", "crt")))),
	"hostPath", list(obj("name", "log", "mountPath", "/log", "path", "/var/log")),
)

var volumes = list(obj("name", "cache", "mountPath", "/cache", "type", "configMap", "cmName", "conf", "items", list(obj("key", "a", "path", "a"))))

var envList = list(obj("name", "MODE", "value", "prod"))

// workloadExceptions are the nested parameters of the workload
// components that do not change the objects alone.
var workloadExceptions = map[string]string{
	"exposeType":            "the Service's type: there is no Service without an exposed port",
	"volumes[].type":        "another type needs its own name field (claimName, cmName, secretName); the golden files render each type",
	"ports[].expose":        "exposes the port in a Service: the case's port is exposed already, and not exposing it removes a Service (covered by ports)",
	"volumes[].items[].key": "the key read from the ConfigMap (a new key without a path is an error); volumeMounts' items cover key",
	"volumes[].claimName":   "read only with type pvc (the case's volume is a configMap one); the golden files render each type",
	"volumes[].secretName":  "read only with type secret (the case's volume is a configMap one); the golden files render each type",
	"volumes[].medium":      "read only with type emptyDir (the case's volume is a configMap one); the golden files render each type",
}

// nodePortNeeds: a port's nodePort is used only in a NodePort Service.
var nodePortNeeds = map[string]map[string]any{"ports[].nodePort": obj("exposeType", "NodePort")}

func withNeeds(m, more map[string]map[string]any) map[string]map[string]any {
	out := maps.Clone(m)
	maps.Copy(out, more)
	return out
}

var workloadValues = map[string]any{
	"cpu": "250m", "memory": "256Mi", "limit": obj("cpu", "1", "memory", "1Gi"),
	"ports": list(obj("port", 8080, "expose", true)), "port": 8080,
	"env": envList, "volumeMounts": volumeMounts, "volumes": volumes,
	"livenessProbe": probe, "readinessProbe": probe,
	"hostAliases": list(obj("ip", "10.0.0.1", "hostnames", list("db.local"))),
	// Nested fields.
	"ports[].nodePort": 30080, "volumes[].items[].mode": 256,
	"imagePullSecrets": list("registry"),
	"schedule":         "*/5 * * * *", "timeZone": "Europe/Paris",
}

// limitNeeds: limit caps what cpu and memory request, as KubeVela's.
var limitNeeds = map[string]map[string]any{"limit": obj("cpu", "250m", "memory", "256Mi")}

var paramCases = []paramCase{
	{kind: definition.KindComponent, name: "webservice", base: obj("image", "nginx:1.27"), values: workloadValues,
		needs: withNeeds(limitNeeds, nodePortNeeds), exceptions: workloadExceptions},
	{kind: definition.KindComponent, name: "worker", base: obj("image", "nginx:1.27"), values: workloadValues, exceptions: workloadExceptions},
	{kind: definition.KindComponent, name: "daemon", base: obj("image", "nginx:1.27"), values: workloadValues,
		needs: nodePortNeeds, exceptions: workloadExceptions},
	{kind: definition.KindComponent, name: "statefulset", base: obj("image", "nginx:1.27"), values: workloadValues,
		needs: nodePortNeeds, exceptions: workloadExceptions},
	{kind: definition.KindComponent, name: "task", base: obj("image", "busybox"), values: workloadValues, needs: limitNeeds, exceptions: workloadExceptions},
	{kind: definition.KindComponent, name: "cron-task", base: obj("image", "busybox", "schedule", "0 * * * *"), values: workloadValues, needs: limitNeeds, exceptions: workloadExceptions},
	{kind: definition.KindComponent, name: "k8s-objects",
		base: obj("objects", list(obj("apiVersion", "v1", "kind", "ConfigMap", "metadata", obj("name", "a")))),
		values: map[string]any{
			"objects": list(obj("apiVersion", "v1", "kind", "ConfigMap", "metadata", obj("name", "b"))),
		}},
	{kind: definition.KindComponent, name: "ref-objects", objects: "testdata/objects/ref-objects.yaml",
		base:   obj("objects", list(obj("resource", "configmap", "name", "web-flags"))),
		values: map[string]any{"objects": list(obj("resource", "configmap", "name", "web-settings")), "objects[].name": "web-flags"},
		exceptions: map[string]string{
			"objects[].resource":      "another resource needs objects of it: the top-level case reads a Deployment instead",
			"objects[].group":         "the test's objects are all in the core and apps groups, which resource names alone",
			"objects[].namespace":     "the test's objects that the case reads are in one namespace; testdata/ref-objects.yaml reads another",
			"objects[].cluster":       "reading another cluster needs a joined one (controller/app tests)",
			"objects[].labelSelector": "cannot be set beside name (an error); the golden file and TestRefObjectsLastEntryWins read by labels",
		}},

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
		"containerName":              "names a container; another name is an error (container not found)",
		"containers[].containerName": "names a container; another name is an error (container not found)",
	}},
	{kind: definition.KindTrait, name: "container-ports", base: obj("ports", list(obj("containerPort", 80, "hostPort", 8080))), values: map[string]any{
		"ports":      list(obj("containerPort", 9090)),
		"containers": list(obj("containerName", "web", "ports", list(obj("containerPort", 81)))),
	}, exceptions: map[string]string{
		"containerName":              "names a container; another name is an error (container not found)",
		"containers[].containerName": "names a container; another name is an error (container not found)",
	}},
	{kind: definition.KindTrait, name: "cpuscaler", base: obj(), values: map[string]any{"targetKind": "StatefulSet"}},
	{kind: definition.KindTrait, name: "hpa", base: obj(), values: map[string]any{
		"cpu": obj("type", "Utilization", "value", 60), "mem": obj("type", "Utilization", "value", 70),
		"podCustomMetrics": list(obj("name", "qps", "value", "100")), "targetKind": "StatefulSet",
	}},
	{kind: definition.KindTrait, name: "env", base: obj("env", obj("A", "1")), values: map[string]any{
		"env": obj("B", "2"), "unset": list("A"), "containers": list(obj("containerName", "web", "env", obj("C", "3"))),
	}, exceptions: map[string]string{
		"containerName":              "names a container; another name is an error (container not found)",
		"containers[].containerName": "names a container; another name is an error (container not found)",
		"containers[].replace":       "as replace",
		"containers[].unset":         "removes variables: the container has none to remove; the env golden covers unset",
		"replace":                    "replaces the container's env: the base container has none, so adding and replacing give the same objects; trait-env covers it",
	}},
	{kind: definition.KindTrait, name: "expose", base: obj("port", list(80)), values: map[string]any{
		"port": list(81), "ports": list(obj("port", 82)), "annotations": obj("a", "1"), "type": "NodePort",
	}, needs: map[string]map[string]any{"ports[].nodePort": obj("type", "NodePort")}},
	{kind: definition.KindTrait, name: "gateway", base: obj("domain", "shop.example", "http", obj("/", 80)), values: map[string]any{
		"http": obj("/api", 80), "annotations": obj("a", "1"), "labels": obj("a", "1"),
		"pathType": "Prefix", "http{}": 8080,
	}, host: map[string]any{"image": "nginx:1.27", "ports": []any{
		map[string]any{"port": 80, "expose": true}, map[string]any{"port": 8080, "expose": true},
	}}},
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
		"requests.memory": "512Mi", "limits.memory": "2Gi", "limits.cpu": "2",
	}},
	{kind: definition.KindTrait, name: "scaler", base: obj()},
	{kind: definition.KindTrait, name: "securitycontext", base: obj(), values: map[string]any{
		"containers": list(obj("containerName", "web", "privileged", true)),
	}, exceptions: map[string]string{
		"containerName":              "names a container; another name is an error (container not found)",
		"containers[].containerName": "names a container; another name is an error (container not found)",
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
		"configMap": list(obj("name", "conf", "mountPath", "/conf", "items", list(obj("key", "a", "path", "a")))),
		"secret":    list(obj("name", "tls", "mountPath", "/tls", "items", list(obj("key", "crt", "path", "crt")))),
		"emptyDir":  list(obj("name", "tmp", "mountPath", "/tmp")),
		"hostPath":  list(obj("name", "log", "mountPath", "/log", "path", "/var/log")),
	}},
	{kind: definition.KindTrait, name: "topologyspreadconstraints", base: obj(), values: map[string]any{
		"constraints": list(obj("maxSkew", 1, "topologyKey", "zone", "labelSelector", obj("matchLabels", obj("app", "web")))),
	}},
}

// mustReach are nested parameters (NAME{} for the values of a map) each
// built-in's case must check.
var mustReach = map[string][]string{
	"webservice": {"ports[].name", "ports[].containerPort", "ports[].protocol", "env[].value", "limit.cpu",
		"volumeMounts.pvc[].subPath", "volumeMounts.configMap[].items[].path", "volumes[].items[].mode", "livenessProbe.httpGet.path"},
	"gateway":  {"http{}", "labels{}", "annotations{}"},
	"storage":  {"pvc[].subPath", "pvc[].accessModes", "configMap[].items[].key", "secret[].items[].path", "emptyDir[].medium"},
	"hpa":      {"cpu.type", "cpu.value", "mem.value", "podCustomMetrics[].value"},
	"affinity": {"tolerations[].operator", "podAffinity.required[].topologyKey"},
	"resource": {"requests.cpu", "limits.memory"},
	"sidecar":  {"env[].value", "volumes[].path"},
	"expose":   {"ports[].port"},
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
			reached := map[string]bool{}
			var unreached []string
			defer func() {
				for _, f := range mustReach[d.Name] {
					if !reached[f] {
						t.Errorf("nested parameter %q is not checked: its case's values do not reach it", f)
					}
				}
				t.Logf("%d nested parameters checked; not reached by the case's values: %v", len(reached), unreached)
			}()
			for _, p := range params {
				if strings.ContainsAny(p.Name, ".[") {
					if checkNested(t, r, b, c, p) {
						reached[p.Name] = true
					} else {
						unreached = append(unreached, p.Name)
					}
					continue
				}
				if (p.Type == "map[string]string" || p.Type == "map[string]int") && c.exceptions[p.Name+"{}"] == "" {
					checkMapValues(t, r, b, c, p)
					reached[p.Name+"{}"] = true
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

// checkNested checks a nested parameter (ports[].name, cpu.value, the
// values of a map such as gateway's http): in the value its top-level
// parameter is set to (values, else base), the field (in the first
// element of each list on the way) is set to another value, and the
// objects must change. A struct or list of structs is covered by its
// fields. The field's value is values[p.Name], else one made from its
// type that differs from the one there. It reports false when the
// top-level value does not reach the field's parent (no such object or
// list element in it): the values choose which nested fields are checked
// (mustReach lists those that must be).
func checkNested(t *testing.T, r *render.Renderer, b definition.Source, c paramCase, p render.Parameter) bool {
	t.Helper()
	if why := c.exceptions[p.Name]; why != "" || strings.HasSuffix(p.Type, "{...}") || p.Type == "map[string]any" {
		return true
	}
	path := strings.Split(strings.ReplaceAll(p.Name, "[]", ".[]"), ".")
	top := path[0]
	props := maps.Clone(c.base)
	maps.Copy(props, c.needs[top])
	maps.Copy(props, c.needs[p.Name])
	parent, ok := c.values[top]
	if !ok {
		parent, ok = props[top]
	}
	if !ok {
		return false
	}
	if top == "containers" { // the other form of the parameter
		props = map[string]any{}
	}
	changed := deepCopyJSON(parent)
	holder, key, ok := reach(changed, path[1:])
	if !ok {
		return false
	}
	cur, _ := holder[key]
	v, ok := c.values[p.Name]
	if !ok {
		if v, ok = valueOtherThan(p, cur); !ok {
			t.Errorf("nested parameter %q (%s): no value to set it to: add one to values or an exception", p.Name, p.Type)
			return true
		}
	}
	holder[key] = v
	props[top] = parent
	want := renderWith(t, r, b, c, props)
	props[top] = changed
	if got := renderWith(t, r, b, c, props); got == want {
		t.Errorf("nested parameter %q set to %v (was %v) does not change the rendered objects", p.Name, v, cur)
	}
	return true
}

// checkMapValues checks that the values of a map parameter matter: the
// first entry (by key) of its value gets another value of its type.
func checkMapValues(t *testing.T, r *render.Renderer, b definition.Source, c paramCase, p render.Parameter) {
	t.Helper()
	props := maps.Clone(c.base)
	maps.Copy(props, c.needs[p.Name])
	m, ok := c.values[p.Name].(map[string]any)
	if !ok {
		if m, ok = props[p.Name].(map[string]any); !ok || len(m) == 0 {
			return
		}
	}
	keys := slices.Sorted(maps.Keys(m))
	changed := maps.Clone(m)
	changed[keys[0]] = other(m[keys[0]])
	if v, ok := c.values[p.Name+"{}"]; ok {
		changed[keys[0]] = v
	}
	props[p.Name] = m
	want := renderWith(t, r, b, c, props)
	props[p.Name] = changed
	if got := renderWith(t, r, b, c, props); got == want {
		t.Errorf("the value of %s[%q] set to %v does not change the rendered objects", p.Name, keys[0], changed[keys[0]])
	}
}

// reach walks path in v (a list step "[]" is its first element) to the
// object that holds the last field.
func reach(v any, path []string) (map[string]any, string, bool) {
	for len(path) > 1 {
		if path[0] == "[]" {
			l, ok := v.([]any)
			if !ok || len(l) == 0 {
				return nil, "", false
			}
			v, path = l[0], path[1:]
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, "", false
		}
		v, path = m[path[0]], path[1:]
	}
	m, ok := v.(map[string]any)
	if !ok || path[0] == "[]" {
		return nil, "", false
	}
	return m, path[0], true
}

// valueOtherThan makes a value of p's type other than cur (and than its
// default).
func valueOtherThan(p render.Parameter, cur any) (any, bool) {
	if strings.HasPrefix(p.Type, `"`) || strings.HasPrefix(p.Type, `[]"`) {
		list := strings.HasPrefix(p.Type, "[]")
		for _, o := range strings.Split(strings.TrimPrefix(p.Type, "[]"), "|") {
			s, err := strconv.Unquote(o)
			if err != nil || s == "" || s == cur || cur == nil && strings.Contains(p.Default, o) {
				continue
			}
			if l, ok := cur.([]any); ok && len(l) == 1 && l[0] == s {
				continue
			}
			if list {
				return []any{s}, true
			}
			return s, true
		}
		return nil, false
	}
	v, ok := valueFor(p)
	if ok && reflect.DeepEqual(v, cur) {
		v = other(v)
	}
	return v, ok
}

// other is another value of x's type.
func other(x any) any {
	switch y := x.(type) {
	case string:
		return y + "-other"
	case int:
		return y + 1
	case float64:
		return y + 1
	case bool:
		return !y
	}
	return x
}

func deepCopyJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
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
	case "number|string":
		return "3", true
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
		host := traitHost
		if c.host != nil {
			host = c.host
		}
		comp = map[string]any{"name": "web", "type": "webservice", "properties": host,
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
