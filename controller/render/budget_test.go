package render_test

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/velad-dev/velad/controller/builtins"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/render"
)

func TestMain(m *testing.M) {
	// The test binary is its own render sandbox process.
	if os.Getenv(render.SandboxEnv) == "1" {
		if err := render.ServeSandbox(os.Stdin, os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testSandbox starts this test binary as the sandbox, counting starts.
func testSandbox(b render.Budget, started *atomic.Int32) *render.Sandbox {
	return &render.Sandbox{Budget: b, Command: func() *exec.Cmd {
		started.Add(1)
		c := exec.Command(os.Args[0])
		c.Env = append(os.Environ(), render.SandboxEnv+"=1")
		return c
	}}
}

const bombDef = `import "list"

"bomb": {type: "component"}
template: {
	output: {
		apiVersion: "v1"
		kind:       "ConfigMap"
		metadata: name: context.name
		data: n: "\(len(list.Range(0, parameter.count, 1)))"
	}
	parameter: count: int
}`

const constantBombDef = `import "list"

"always": {type: "component"}
template: {
	output: {
		apiVersion: "v1"
		kind:       "ConfigMap"
		data: n: "\(len(list.Range(0, 1000000000, 1)))"
	}
}`

func bombApp(t *testing.T, typ string, n int64) []byte {
	t.Helper()
	return []byte(appHeader + "  components:\n    - name: c\n      type: " + typ + "\n      properties: {count: " + strconv.FormatInt(n, 10) + "}\n")
}

func peakRSS(t *testing.T) uint64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// A definition whose CUE explodes for some input (list.Range over a
// parameter) fails the app that uses it with a message naming the
// definition, within the time budget, without taking the memory of this
// process; other apps keep rendering, and the same input fails at once the
// next time. Built-in templates are trusted: no sandbox starts for them.
func TestRenderBudget(t *testing.T) {
	bi, err := builtins.Load()
	if err != nil {
		t.Fatal(err)
	}
	var started atomic.Int32
	sb := testSandbox(render.Budget{Time: 5 * time.Second, Memory: 128 << 20}, &started)
	all, err := bi.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sb.Trust(all)
	r := render.NewRenderer()
	r.SetSandbox(sb)
	src := definition.Chain{definition.NewSet(loadCUE(t, "bomb.cue", bombDef), loadCUE(t, "always.cue", constantBombDef)), bi}
	render1 := func(y []byte) ([]render.RenderedComponent, error) {
		app, err := render.ParseApplication(y)
		if err != nil {
			t.Fatal(err)
		}
		return r.RenderApp(context.Background(), app, src, render.Options{})
	}

	// Built-ins: trusted, no sandbox.
	if _, err := render1([]byte(appHeader + "  components:\n    - {name: web, type: webservice, properties: {image: nginx}}\n")); err != nil {
		t.Fatal(err)
	}
	if n := started.Load(); n != 0 {
		t.Fatalf("%d sandbox processes started for a built-in definition", n)
	}

	// Cheap input: renders.
	comps, err := render1(bombApp(t, "bomb", 10))
	if err != nil {
		t.Fatal(err)
	}
	if v, _, _ := unstructured.NestedString(comps[0].Workload.Object, "data", "n"); v != "10" {
		t.Fatalf("n = %q, want 10", v)
	}

	// The bomb: fails with the definition named, within the budget.
	begin := time.Now()
	_, err = render1(bombApp(t, "bomb", 1_000_000_000))
	took := time.Since(begin)
	if err == nil || !strings.Contains(err.Error(), `component definition "bomb" is over its render budget`) {
		t.Fatalf("bomb: err = %v, want over budget naming the definition", err)
	}
	t.Logf("bomb refused after %s: %v", took.Round(time.Millisecond), err)
	if took > 8*time.Second {
		t.Errorf("bomb took %s to refuse, budget 5s", took)
	}

	// Another app still renders; the same bomb again fails at once.
	if _, err := render1(bombApp(t, "bomb", 20)); err != nil {
		t.Fatalf("app after the bomb: %v", err)
	}
	begin = time.Now()
	if _, err := render1(bombApp(t, "bomb", 1_000_000_000)); err == nil || !strings.Contains(err.Error(), "over its render budget") {
		t.Fatalf("bomb again: %v", err)
	}
	if again := time.Since(begin); again > time.Second {
		t.Errorf("the known bomb took %s to refuse again, want at once", again)
	}

	// A template that explodes whatever the input fails when compiled.
	if _, err := render1(bombApp(t, "always", 1)); err == nil || !strings.Contains(err.Error(), `component definition "always" is over its render budget: compiling it`) {
		t.Fatalf("constant bomb: err = %v", err)
	}

	// This process never held the bomb (a billion-element list is tens of
	// GiB).
	if peak := peakRSS(t); peak > 1<<30 {
		t.Errorf("peak RSS of the test process %d MiB", peak>>20)
	}
}

// The time budget holds on its own: a render that is slow (before it is
// big) is cut off when its time is up.
func TestRenderBudgetTime(t *testing.T) {
	var started atomic.Int32
	r := render.NewRenderer()
	r.SetSandbox(testSandbox(render.Budget{Time: time.Second, Memory: 4 << 30}, &started))
	app, err := render.ParseApplication(bombApp(t, "bomb", 1_000_000_000))
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	_, err = r.RenderApp(context.Background(), app, definition.NewSet(loadCUE(t, "bomb.cue", bombDef)), render.Options{})
	if err == nil || !strings.Contains(err.Error(), `component definition "bomb" is over its render budget: evaluating it for these properties took longer than 1s`) {
		t.Fatalf("err = %v, want the time budget", err)
	}
	if took := time.Since(begin); took > 4*time.Second {
		t.Errorf("refused after %s, budget 1s", took)
	}
}
