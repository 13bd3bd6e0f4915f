package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/appcli"
	"github.com/velad-dev/velad/controller/workflow"
)

// stepDef creates a WorkflowStepDefinition in ns.
func stepDef(t *testing.T, c client.Client, ns, name, template string) {
	t.Helper()
	d := &v1beta1.WorkflowStepDefinition{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1beta1.WorkflowStepDefinitionSpec{Schematic: &v1beta1.Schematic{CUE: &v1beta1.CUE{Template: template}}}}
	if err := c.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
}

// A step in the style of KubeVela's: apply a ConfigMap, read it back,
// wait until data.ready is set (by the test, later), log, and output it.
const waitForReady = `
import (
	"vela/kube"
	"vela/builtin"
)

apply: kube.#Apply & {
	$params: value: {
		apiVersion: "v1"
		kind:       "ConfigMap"
		metadata: {
			name:      parameter.name
			namespace: context.namespace
		}
		data: seed: parameter.seed
	}
}
read: kube.#Read & {
	$params: value: {
		apiVersion: "v1"
		kind:       "ConfigMap"
		metadata: {
			name:      parameter.name
			namespace: context.namespace
		}
	}
}
wait: builtin.#ConditionalWait & {
	$params: {
		continue: read.$returns.value.data.ready != _|_
		message:  "waiting for \(parameter.name) to have data.ready"
	}
}
log: builtin.#Log & {
	$params: data: "ready is \(read.$returns.value.data.ready)"
}
parameter: {
	name: string
	seed: *"s" | string
}
`

func setReady(t *testing.T, c client.Client, ns, name, value string) {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["ready"] = value
	if err := c.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
}

func configMap(c client.Client, ns, name string) (*corev1.ConfigMap, error) {
	cm := &corev1.ConfigMap{}
	return cm, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, cm)
}

func waitStep(t *testing.T, c client.Client, ns, app, step string, phase v1beta1.WorkflowStepPhase) *v1beta1.Application {
	t.Helper()
	var got *v1beta1.Application
	eventually(t, fmt.Sprintf("step %s %s", step, phase), func() (bool, string) {
		got = getApp(t, c, ns, app)
		if got.Status.Workflow == nil {
			return false, describe(got)
		}
		for _, s := range got.Status.Workflow.Steps {
			if s.Name == step && s.Phase == phase {
				return true, ""
			}
		}
		return false, describe(got)
	})
	return got
}

// receiver is a loopback HTTP server recording what it is sent.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies map[string]string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{bodies: map[string]string{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies[req.URL.Path] = string(b)
		r.mu.Unlock()
		if req.URL.Path == "/refuse" {
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) body(path string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bodies[path]
}

// A custom step waits for a field the test sets, its output feeds a
// component (rendered then) and export2config; export2secret writes a
// Secret from a value read from a Secret, which never shows; the
// notification reaches a loopback Slack-style receiver; logs and
// messages land in the context and the status.
func TestWorkflowCUESteps(t *testing.T) {
	c, ns := start(t)
	rcv := newReceiver(t)
	stepDef(t, c, ns, "wait-ready", waitForReady)
	stepDef(t, c, ns, "leak", `import (
	"vela/kube"
	"vela/builtin"
	"encoding/base64"
)
s: kube.#Read & {$params: value: {apiVersion: "v1", kind: "Secret", metadata: {name: "token", namespace: context.namespace}}}
log: builtin.#Log & {$params: data: "hook is \(base64.Decode(null, s.$returns.value.data.hook))"}
msg: builtin.#Message & {$params: message: "hook is \(base64.Decode(null, s.$returns.value.data.hook))"}
`)
	// The legacy package: op.#Load and op.#ApplyComponent fill their
	// results into their own fields.
	stepDef(t, c, ns, "legacy-apply", `import "vela/op"
load: op.#Load & {}
apply: op.#ApplyComponent & {value: load.value[parameter.component]}
done: op.#Message & {message: "applied \(apply.output.metadata.name)"}
parameter: component: string
`)
	token := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "token", Namespace: ns}, StringData: map[string]string{"hook": rcv.URL + "/slack"}}
	if err := c.Create(ctx, token); err != nil {
		t.Fatal(err)
	}
	app := parseApp(t, ns, `
metadata: {name: flow}
spec:
  components:
  - name: settings
    type: k8s-objects
    inputs: [{from: ready, parameterKey: "objects[0].data.image"}]
    properties:
      objects:
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: web-settings}, data: {kind: web}}
  - name: extra
    type: k8s-objects
    properties:
      objects: [{apiVersion: v1, kind: ConfigMap, metadata: {name: extra-cm}}]
  workflow:
    steps:
    - name: prepare
      type: wait-ready
      properties: {name: gate}
      outputs: [{name: ready, valueFrom: read.$returns.value.data.ready}]
    - name: settings
      type: apply-component
      properties: {component: settings}
    - name: extra
      type: legacy-apply
      properties: {component: extra}
    - name: copy
      type: export2config
      inputs: [{from: ready, parameterKey: data.image}]
      properties: {configName: copied, data: {from: flow}}
    - name: secret
      type: export2secret
      properties: {secretName: flow-secret, data: {user: admin}}
    - name: notify
      type: notification
      properties:
        slack:
          url: {secretRef: {name: token, key: hook}}
          message: {text: "flow deployed"}
    - name: leak
      type: leak
    - name: read-token
      type: read-object
      properties: {apiVersion: v1, kind: Secret, name: token}
      outputs: [{name: hook, valueFrom: output.$returns.value.data.hook}]
    - name: say
      type: print-message-in-status
      inputs: [{from: ready}]
      if: inputs.ready == "nginx:1.27"
      properties: {message: all done}
`)
	up(t, c, app)
	got := waitStep(t, c, ns, "flow", "prepare", v1beta1.WorkflowStepRunning)
	if !strings.Contains(describe(got), "waiting for gate to have data.ready") {
		t.Errorf("the waiting step shows no message: %s", describe(got))
	}
	if _, err := configMap(c, ns, "web-settings"); err == nil {
		t.Fatalf("the component waiting for its input was applied early")
	}
	setReady(t, c, ns, "gate", "nginx:1.27")
	got = waitStep(t, c, ns, "flow", "say", v1beta1.WorkflowStepSucceeded)
	if got.Status.Workflow.Phase != string(workflow.PhaseSucceeded) {
		t.Errorf("workflow: %s", describe(got))
	}
	if cm, err := configMap(c, ns, "web-settings"); err != nil || cm.Data["image"] != "nginx:1.27" || cm.Data["kind"] != "web" {
		t.Errorf("component rendered with its input: %v %v", cm.Data, err)
	}
	if cm, err := configMap(c, ns, "copied"); err != nil || cm.Data["image"] != "nginx:1.27" || cm.Data["from"] != "flow" {
		t.Errorf("export2config: %v %v", cm.Data, err)
	}
	s := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "flow-secret"}, s); err != nil || string(s.Data["user"]) != "admin" {
		t.Errorf("export2secret: %v %v", s.Data, err)
	}
	var slack map[string]any
	if err := json.Unmarshal([]byte(rcv.body("/slack")), &slack); err != nil || slack["text"] != "flow deployed" {
		t.Errorf("slack payload = %q (%v)", rcv.body("/slack"), err)
	}
	for _, st := range got.Status.Workflow.Steps {
		if st.Name == "say" && st.Message != "all done" {
			t.Errorf("print-message-in-status: %q", st.Message)
		}
		if st.Name == "extra" && st.Message != "applied extra-cm" {
			t.Errorf("legacy-apply: %q", st.Message)
		}
		if strings.Contains(st.Message, rcv.URL) {
			t.Errorf("a secret shows in the status of %s: %q", st.Name, st.Message)
		}
	}
	// What velad workflow logs and velad status --detail show.
	wc, err := appcli.WorkflowContext(ctx, c, got)
	if err != nil {
		t.Fatal(err)
	}
	logs, err := appcli.StepLogs(got, wc, "prepare")
	if err != nil || len(logs["prepare"]) != 1 || logs["prepare"][0] != "ready is nginx:1.27" {
		t.Errorf("logs of prepare: %v (%v)", logs, err)
	}
	if l := wc.Logs["leak"]; len(l) != 1 || l[0] != "hook is ******" {
		t.Errorf("a secret logged: %q", l)
	}
	for _, st := range got.Status.Workflow.Steps {
		if st.Name == "leak" && st.Message != "hook is ******" {
			t.Errorf("a secret in a message: %q", st.Message)
		}
	}
	if wc.Show("hook") != "(sensitive)" {
		t.Errorf("an output read from a Secret shows: %s", wc.Show("hook"))
	}
	if _, err := appcli.StepLogs(got, wc, "nope"); err == nil {
		t.Errorf("logs of an unknown step: no error")
	}
	io := fmt.Sprint(appcli.WorkflowIO(got, wc))
	for _, want := range []string{`{component settings [{ready "nginx:1.27"}] []}`, `{prepare [] [{ready "nginx:1.27"}]}`, `{say [{ready "nginx:1.27"}] []}`} {
		if !strings.Contains(io, want) {
			t.Errorf("inputs and outputs: %s, want %s", io, want)
		}
	}
}

// A workflow-only application: depends-on-app waits for another app,
// apply-application makes one and waits for it, collect-service-endpoints
// finds a Service, a webhook posts it; a
// refused webhook and #Fail fail the workflow with their messages.
func TestWorkflowOnlyApp(t *testing.T) {
	c, ns := start(t)
	rcv := newReceiver(t)
	stepDef(t, c, ns, "must-fail", `import "vela/builtin"
stop: builtin.#Fail & {$params: message: "stopped: \(parameter.why)"}
parameter: why: string
`)
	base := parseApp(t, ns, `
metadata: {name: base}
spec:
  components:
  - name: cfg
    type: k8s-objects
    properties:
      objects:
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: base-cfg}, data: {a: b}}
      - {apiVersion: v1, kind: Service, metadata: {name: base-svc}, spec: {ports: [{name: web, port: 8080}]}}
`)
	ops := parseApp(t, ns, fmt.Sprintf(`
metadata: {name: ops}
spec:
  components: []
  workflow:
    steps:
    - name: base
      type: depends-on-app
      properties: {name: base}
    - name: child
      type: apply-application
      properties:
        data:
          apiVersion: core.oam.dev/v1beta1
          kind: Application
          metadata: {name: child}
          spec:
            components:
            - name: c
              type: k8s-objects
              properties: {objects: [{apiVersion: v1, kind: ConfigMap, metadata: {name: child-cm}}]}
    - name: endpoints
      type: collect-service-endpoints
      properties: {name: base}
      outputs: [{name: url, valueFrom: value.url}]
    - name: hook
      type: webhook
      inputs: [{from: url, parameterKey: data.url}]
      properties: {url: {value: %[1]q}, data: {hello: world}}
    - name: cfg
      type: create-config
      properties: {name: db, namespace: %[3]s, template: database, config: {host: db.local}}
    - name: cfg-read
      type: read-config
      properties: {name: db, namespace: %[3]s}
      outputs: [{name: dbhost, valueFrom: output.$returns.config.host}]
    - name: cfg-list
      type: list-config
      properties: {template: database, namespace: %[3]s}
      outputs: [{name: dbs, valueFrom: "len(output.$returns.configs)"}]
    - name: cfg-drop
      type: delete-config
      properties: {name: db, namespace: %[3]s}
    - name: clean
      type: clean-jobs
    - name: refused
      type: webhook
      properties: {url: {value: %[2]q}}
    - name: fail
      type: must-fail
      if: always
      properties: {why: on purpose}
`, rcv.URL+"/hook", rcv.URL+"/refuse", ns))
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "old-job", Namespace: ns, Labels: map[string]string{v1beta1.LabelAppName: "ops"}},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{Name: "c", Image: "busybox:1.36"}}}}}}
	if err := c.Create(ctx, job); err != nil {
		t.Fatal(err)
	}
	up(t, c, ops)
	waitStep(t, c, ns, "ops", "base", v1beta1.WorkflowStepRunning)
	up(t, c, base)
	got := waitStep(t, c, ns, "ops", "fail", v1beta1.WorkflowStepFailed)
	if want := fmt.Sprintf(`{"hello":"world","url":"http://base-svc.%s:8080"}`, ns); rcv.body("/hook") != want {
		t.Errorf("webhook body = %q", rcv.body("/hook"))
	}
	for _, st := range got.Status.Workflow.Steps {
		want := map[string]string{"refused": "the webhook answered 403", "fail": "stopped: on purpose"}[st.Name]
		if want != "" && st.Message != want {
			t.Errorf("step %s: %q, want %q", st.Name, st.Message, want)
		}
	}
	eventually(t, "workflow failed", func() (bool, string) {
		got = getApp(t, c, ns, "ops")
		return got.Status.Workflow.Phase == string(workflow.PhaseFailed), describe(got)
	})
	if _, err := configMap(c, ns, "child-cm"); err != nil {
		t.Errorf("the application applied by apply-application did not deliver: %v", err)
	}
	wc, err := appcli.WorkflowContext(ctx, c, got)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := wc.Value("dbhost"); v != "db.local" || wc.Show("dbhost") != "(sensitive)" || wc.Show("dbs") != "1" {
		t.Errorf("configs: dbhost %v (%s), dbs %s", v, wc.Show("dbhost"), wc.Show("dbs"))
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "db"}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("delete-config left the config: %v", err)
	}
	j := &batchv1.Job{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(job), j); !apierrors.IsNotFound(err) && j.DeletionTimestamp.IsZero() {
		t.Errorf("clean-jobs left the job: %v", err)
	}
}

// The controller restarts while a step waits: the workflow goes on with
// the outputs of the steps before it, read from its context.
func TestWorkflowResumesAfterRestart(t *testing.T) {
	c, ns := start(t)
	stepDef(t, c, ns, "wait-ready", waitForReady)
	app := parseApp(t, ns, `
metadata: {name: restart}
spec:
  components: []
  workflow:
    steps:
    - name: first
      type: wait-ready
      properties: {name: first, seed: one}
      outputs: [{name: first, valueFrom: "read.$returns.value.data.ready + \"-\" + read.$returns.value.data.seed"}]
    - name: second
      type: wait-ready
      properties: {name: second}
    - name: copy
      type: export2config
      inputs: [{from: first, parameterKey: data.first}]
      properties: {configName: restart-copy, data: {}}
`)
	up(t, c, app)
	waitStep(t, c, ns, "restart", "first", v1beta1.WorkflowStepRunning)
	setReady(t, c, ns, "first", "yes")
	waitStep(t, c, ns, "restart", "second", v1beta1.WorkflowStepRunning)
	stopController()
	setReady(t, c, ns, "second", "yes")
	if err := startController(); err != nil {
		t.Fatal(err)
	}
	waitStep(t, c, ns, "restart", "copy", v1beta1.WorkflowStepSucceeded)
	if cm, err := configMap(c, ns, "restart-copy"); err != nil || cm.Data["first"] != "yes-one" {
		t.Errorf("copy made after the restart: %v %v", cm.Data, err)
	}
	// The context goes with the application.
	if err := c.Delete(ctx, getApp(t, c, ns, "restart")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the workflow context deleted", func() (bool, string) {
		_, err := configMap(c, ns, workflow.ContextName("restart"))
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
}
