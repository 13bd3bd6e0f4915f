package task

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/workflow"
)

// Steps that need no cluster: control actions, variables, HTTP to a
// loopback server, outputs, and templates that are wrong.
func TestRun(t *testing.T) {
	var got struct{ method, body, auth string }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.method, got.body, got.auth = r.Method, string(b), r.Header.Get("Authorization")
		switch r.URL.Path {
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", MaxResponse+1)))
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		default:
			_, _ = w.Write([]byte(`{"ok":true,"n":3}`))
		}
	}))
	defer srv.Close()
	cases := []struct {
		name     string
		template string
		params   map[string]any
		outputs  []v1beta1.OutputItem
		check    func(t *testing.T, o workflow.Outcome)
	}{
		{"wait while continue is false", `import "vela/builtin"
parameter: ready: bool
w: builtin.#ConditionalWait & {$params: {continue: parameter.ready, message: "not ready"}}
f: builtin.#Fail & {$params: message: "never reached"}`, map[string]any{"ready": false}, nil,
			func(t *testing.T, o workflow.Outcome) {
				if o.Done || o.Failed || o.Message != "not ready" || o.RequeueAfter == 0 {
					t.Errorf("got %+v, want waiting with its message", o)
				}
			}},
		{"legacy wait passes, fail fails", `import "vela/op"
parameter: ready: bool
w: op.#ConditionalWait & {continue: parameter.ready}
f: op.#Steps & {
	if parameter.ready {
		stop: op.#Fail & {message: "stopped on purpose"}
	}
}`, map[string]any{"ready": true}, nil,
			func(t *testing.T, o workflow.Outcome) {
				if !o.Failed || o.Message != "stopped on purpose" {
					t.Errorf("got %+v, want failed with the message", o)
				}
			}},
		{"message, log, variables and an output", `import "vela/builtin"
put: builtin.#DoVar & {$params: {method: "Put", path: "a.b", value: {x: 1}}}
get: builtin.#DoVar & {$params: {path: "a.b"}}
msg: builtin.#Message & {$params: message: "got \(get.$returns.value.x)"}
log: builtin.#Log & {$params: data: {seen: get.$returns.value.x}}`, nil, []v1beta1.OutputItem{{Name: "x", ValueFrom: "get.$returns.value.x + 1"}},
			func(t *testing.T, o workflow.Outcome) {
				if !o.Done || o.Message != "got 1" || len(o.Logs) != 1 || o.Logs[0] != `{"seen":1}` {
					t.Errorf("got %+v, want done, message and log", o)
				}
				if v, _ := o.Outputs["x"].(float64); v != 2 {
					t.Errorf("output x = %#v, want 2", o.Outputs["x"])
				}
			}},
		{"http post, the response used later", `import (
	"vela/http"
	"vela/builtin"
	"encoding/json"
)
parameter: url: string
req: http.#Post & {$params: {url: parameter.url, request: {body: json.Marshal({text: "hi"}), header: "Authorization": "Bearer t0ken"}}}
resp: json.Unmarshal(req.$returns.body)
check: builtin.#ConditionalWait & {$params: continue: resp.ok}`, map[string]any{"url": srv.URL + "/x"}, []v1beta1.OutputItem{{Name: "n", ValueFrom: "resp.n"}, {Name: "code", ValueFrom: "req.$returns.statusCode"}},
			func(t *testing.T, o workflow.Outcome) {
				if !o.Done || got.method != "POST" || got.body != `{"text":"hi"}` || got.auth != "Bearer t0ken" {
					t.Errorf("got %+v, server saw %+v", o, got)
				}
				if o.Outputs["code"] != 200.0 || o.Outputs["n"] != 3.0 {
					t.Errorf("outputs = %v", o.Outputs)
				}
			}},
		{"legacy http fills response", `import "vela/op"
parameter: url: string
req: op.#HTTPGet & {url: parameter.url}
ok: op.#ConditionalWait & {continue: req.response.statusCode == 200}`, map[string]any{"url": srv.URL}, nil,
			func(t *testing.T, o workflow.Outcome) {
				if !o.Done {
					t.Errorf("got %+v, want done", o)
				}
			}},
		{"a response too large fails", `import "vela/http"
parameter: url: string
req: http.#Get & {$params: url: parameter.url}`, map[string]any{"url": srv.URL + "/big"}, nil,
			func(t *testing.T, o workflow.Outcome) {
				if !o.Failed || !strings.Contains(o.Message, "larger than") {
					t.Errorf("got %+v, want failed: too large", o)
				}
			}},
		{"a request past its timeout fails", `import "vela/http"
parameter: url: string
req: http.#Get & {$params: {url: parameter.url, request: timeout: "50ms"}}`, map[string]any{"url": srv.URL + "/slow"}, nil,
			func(t *testing.T, o workflow.Outcome) {
				if !o.Failed || !strings.Contains(o.Message, "no response within 50ms") {
					t.Errorf("got %+v, want failed: timeout", o)
				}
			}},
		{"a template that does not compile", `import "vela/builtin"
x: builtin.#Nope & {}`, nil, nil,
			func(t *testing.T, o workflow.Outcome) {
				if !o.Failed || o.Reason != "CompileFailed" {
					t.Errorf("got %+v, want CompileFailed", o)
				}
			}},
		{"properties that do not match", `parameter: n: int`, map[string]any{"n": "x"}, nil,
			func(t *testing.T, o workflow.Outcome) {
				if !o.Failed || o.Reason != "InvalidProperties" {
					t.Errorf("got %+v, want InvalidProperties", o)
				}
			}},
		{"too many actions", `import (
	"vela/builtin"
	"list"
)
steps: {for i in list.Range(0, 300, 1) {"m\(i)": builtin.#Message & {$params: message: "\(i)"}}}`, nil, nil,
			func(t *testing.T, o workflow.Outcome) {
				if !o.Failed || o.Reason != "TooManyActions" {
					t.Errorf("got %+v, want TooManyActions", o)
				}
			}},
		{"an output that is not there", `x: 1`, nil, []v1beta1.OutputItem{{Name: "y", ValueFrom: "nope.value"}},
			func(t *testing.T, o workflow.Outcome) {
				if !o.Failed || o.Reason != "OutputFailed" {
					t.Errorf("got %+v, want OutputFailed", o)
				}
			}},
		{"a remote cluster is refused", `import "vela/kube"
r: kube.#Read & {$params: {cluster: "far", value: {apiVersion: "v1", kind: "ConfigMap", metadata: name: "x"}}}`, nil, nil,
			func(t *testing.T, o workflow.Outcome) {
				if !o.Failed || o.Reason != "UnsupportedCluster" {
					t.Errorf("got %+v, want UnsupportedCluster", o)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := &Env{Namespace: "default", Context: workflow.NewContext("v1")}
			o, err := Run(context.Background(), Step{Name: "s", Template: tc.template, Parameter: tc.params, Outputs: tc.outputs,
				Context: map[string]any{"name": "app", "namespace": "default"}}, env)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, o)
		})
	}
}

// A waiting step is evaluated again sooner at first, later the longer it
// waits.
func TestWaitBackoff(t *testing.T) {
	now := time.Unix(10000, 0)
	for _, tc := range []struct {
		waited time.Duration
		want   time.Duration
	}{{0, WaitPoll}, {5 * time.Second, WaitPoll}, {60 * time.Second, 6 * time.Second}, {time.Hour, MaxWaitPoll}} {
		r := &runner{now: now, step: Step{Started: now.Add(-tc.waited)}}
		if got := r.backoff(); got != tc.want {
			t.Errorf("after %s: %s, want %s", tc.waited, got, tc.want)
		}
	}
}
