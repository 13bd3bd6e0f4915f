package render

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"cuelang.org/go/cue"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/controller/definition"
	"github.com/velad-dev/velad/controller/patch"
	"github.com/velad-dev/velad/internal/fifo"
)

// A render budget. CUE cannot interrupt an evaluation (cue-lang/cue#1104):
// a template that is expensive for some input (a list.Range over a
// parameter) would run in the controller until it is done or the
// controller is killed for its memory. So a template that is not one of
// the built-ins is first compiled and evaluated for the same inputs in a
// sandbox process, which is killed when it takes longer than the budget's
// time or holds more than its memory; only what passed there is evaluated
// in the controller. The verdict is remembered per template and inputs: an
// app that exceeds its budget fails at once on later reconciles, and what
// passed is not evaluated twice again.

// Budget bounds one compile, or one evaluation of one template for one set
// of inputs.
type Budget struct {
	Time time.Duration
	// Memory is the most the sandbox process may hold (resident).
	Memory uint64
}

// The default budget: a built-in definition renders in milliseconds and a
// few MiB.
const (
	DefaultBudgetTime   = 5 * time.Second
	DefaultBudgetMemory = 256 << 20
)

// SandboxEnv, set to 1, makes RunSandbox serve in a process started by
// Sandbox.Command (test binaries look at it in TestMain).
const SandboxEnv = "VELAD_RENDER_SANDBOX"

// ErrOverBudget is wrapped by the error of a render over its budget.
var ErrOverBudget = errors.New("over its render budget")

// Sandbox evaluates templates in separate processes under a Budget.
type Sandbox struct {
	Budget Budget
	// Command starts a process that runs ServeSandbox on its stdin and
	// stdout (cmd/controller: itself with the argument "render-sandbox").
	Command func() *exec.Cmd

	once     sync.Once
	idle     chan *sandboxProc
	mu       sync.Mutex // guards verdicts and trusted
	verdicts fifo.Cache[[32]byte, string]
	trusted  map[[32]byte]bool
}

// verdictsSize bounds the remembered verdicts.
const verdictsSize = 4096

// sandboxProcs bounds the sandbox processes alive at once.
const sandboxProcs = 2

func (s *Sandbox) init() {
	s.once.Do(func() {
		if s.Budget.Time <= 0 {
			s.Budget.Time = DefaultBudgetTime
		}
		if s.Budget.Memory == 0 {
			s.Budget.Memory = DefaultBudgetMemory
		}
		s.idle = make(chan *sandboxProc, sandboxProcs)
		for range sandboxProcs {
			s.idle <- nil // a slot; the process starts when first used
		}
		s.verdicts = fifo.New[[32]byte, string](verdictsSize)
		s.trusted = map[[32]byte]bool{}
	})
}

// Trust exempts templates (by their kind and text, as engine.sourceHash
// keys them) from the sandbox: the built-in definitions.
func (s *Sandbox) Trust(defs []*definition.Definition) {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range defs {
		s.trusted[templateHash(d)] = true
	}
}

func templateHash(d *definition.Definition) [32]byte {
	h := sha256.New()
	h.Write([]byte(d.Kind))
	h.Write([]byte{0})
	h.Write([]byte(d.Template()))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// sandboxRequest is one check: compile the definition and, unless
// Compile, evaluate it with Context and Parameter as evaluate would.
type sandboxRequest struct {
	Kind    definition.Kind `json:"kind"`
	Object  json.RawMessage `json:"object"`
	Compile bool            `json:"compile,omitempty"`
	// Inputs are context and parameter, numbers kept as written (an
	// integral float stays a float).
	Inputs json.RawMessage `json:"inputs,omitempty"`
}

type sandboxResponse struct {
	Error string `json:"error,omitempty"`
}

// check runs req for d in a sandbox process unless d is trusted or the
// verdict is known. Only a budget overrun is an error: what else fails
// fails again in the controller, with the renderer's own message.
func (s *Sandbox) check(d *definition.Definition, compileOnly bool, ctxMap, props map[string]any) error {
	s.init()
	th := templateHash(d)
	s.mu.Lock()
	trusted := s.trusted[th]
	s.mu.Unlock()
	if trusted {
		return nil
	}
	obj, err := json.Marshal(d.Object)
	if err != nil {
		return fmt.Errorf("%s %q: encode for the render sandbox: %w", d.Kind, d.Name, err)
	}
	req := sandboxRequest{Kind: d.Kind, Object: obj, Compile: compileOnly}
	if !compileOnly {
		if req.Inputs, err = json.Marshal(keepFloats(map[string]any{"context": ctxMap, "parameter": props})); err != nil {
			return fmt.Errorf("%s %q: encode for the render sandbox: %w", d.Kind, d.Name, err)
		}
	}
	line, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("%s %q: encode for the render sandbox: %w", d.Kind, d.Name, err)
	}
	key := sha256.Sum256(append(th[:], line...))
	s.mu.Lock()
	verdict, known := s.verdicts.Get(key)
	s.mu.Unlock()
	if !known {
		verdict = s.run(line)
		s.mu.Lock()
		s.verdicts.Put(key, verdict)
		s.mu.Unlock()
	}
	if verdict == "" {
		return nil
	}
	what := "evaluating it for these properties"
	if compileOnly {
		what = "compiling it"
	}
	return fmt.Errorf("%s definition %q is %w: %s %s; fix the definition (or the properties)", d.Kind, d.Name, ErrOverBudget, what, verdict)
}

// run sends one request to a sandbox process and returns "" when it
// answered within the budget, else what it exceeded.
func (s *Sandbox) run(line []byte) string {
	p := <-s.idle
	defer func() { s.idle <- p }()
	if p == nil {
		var err error
		if p, err = startSandbox(s.Command); err != nil {
			// No sandbox: render in the controller rather than fail
			// every app; say so in the log of the caller's error path.
			fmt.Fprintf(os.Stderr, "render sandbox: %v\n", err)
			return ""
		}
	}
	verdict, ok := p.do(line, s.Budget)
	if !ok {
		p.kill()
		p = nil
	}
	return verdict
}

// sandboxProc is one sandbox process.
type sandboxProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startSandbox(command func() *exec.Cmd) (*sandboxProc, error) {
	if command == nil {
		return nil, errors.New("no command to start it with")
	}
	cmd := command()
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	// Should the container run out of memory before the budget kills it,
	// the kernel picks the sandbox, not the controller.
	_ = os.WriteFile("/proc/"+strconv.Itoa(cmd.Process.Pid)+"/oom_score_adj", []byte("1000"), 0o644)
	return &sandboxProc{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 64<<10)}, nil
}

// do sends one request and waits for the answer within the budget,
// watching the process's memory. ok is false when the process must go
// (killed, or it died).
func (p *sandboxProc) do(line []byte, b Budget) (verdict string, ok bool) {
	type answer struct {
		resp sandboxResponse
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		var a answer
		if _, err := p.in.Write(append(line, '\n')); err != nil {
			a.err = err
		} else if l, err := p.out.ReadBytes('\n'); err != nil {
			a.err = err
		} else {
			a.err = json.Unmarshal(l, &a.resp)
		}
		done <- a
	}()
	timer := time.NewTimer(b.Time)
	defer timer.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case a := <-done:
			if a.err != nil {
				// It died on its own (the Go runtime out of memory).
				return fmt.Sprintf("the sandbox process died (%v)", a.err), false
			}
			return a.resp.Error, true
		case <-timer.C:
			return fmt.Sprintf("took longer than %s", b.Time), false
		case <-tick.C:
			if rss := residentBytes(p.cmd.Process.Pid); rss > b.Memory {
				return fmt.Sprintf("used more than %d MiB of memory", b.Memory>>20), false
			}
		}
	}
}

func (p *sandboxProc) kill() {
	_ = p.cmd.Process.Kill()
	_ = p.in.Close()
	_ = p.cmd.Wait()
}

// residentBytes is the resident memory of a process (0 when unknown).
func residentBytes(pid int) uint64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// ServeSandbox answers sandbox requests from in on out until in closes:
// the body of a sandbox process. An answer's Error is a budget concern
// only, so evaluation errors are not reported (the controller finds them
// itself).
func ServeSandbox(in io.Reader, out io.Writer) error {
	r := newRenderer(1)
	dec := json.NewDecoder(bufio.NewReaderSize(in, 64<<10))
	enc := json.NewEncoder(out)
	for {
		var req sandboxRequest
		if err := dec.Decode(&req); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read request: %w", err)
		}
		_ = r.withEngine(func(e *engine) error {
			e.noActions = true
			e.sandboxed(req)
			return nil
		})
		if err := enc.Encode(sandboxResponse{}); err != nil {
			return err
		}
	}
}

// sandboxed does what the controller would do with req: compile, and
// evaluate everything it decodes (output, outputs, patch, patchOutputs).
func (e *engine) sandboxed(req sandboxRequest) {
	obj, err := definitionObject(req.Kind)
	if err != nil {
		return
	}
	if json.Unmarshal(req.Object, obj) != nil {
		return
	}
	d, err := definition.FromObject(obj, "sandbox")
	if err != nil {
		return
	}
	t, err := e.compile(d)
	if err != nil || req.Compile {
		return
	}
	in, err := patch.DecodeJSON(req.Inputs)
	if err != nil {
		return
	}
	m, _ := in.(map[string]any)
	ctxMap, _ := m["context"].(map[string]any)
	props, _ := m["parameter"].(map[string]any)
	v, _, err := e.evaluateInputs(t, ctxMap, props)
	if err != nil {
		return
	}
	_ = v.Validate()
	for _, p := range []cue.Path{pathOutput, pathOutputs, pathPatch, pathPatchOuts} {
		if x := v.LookupPath(p); x.Exists() {
			_, _ = patch.Decode(x)
		}
	}
}

// keepFloats copies JSON-like data with every float64 as a json.Number
// that reads back as a float ("3.0", not "3").
func keepFloats(v any) any {
	switch x := v.(type) {
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEnN") {
			s += ".0"
		}
		return json.Number(s)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = keepFloats(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = keepFloats(e)
		}
		return out
	}
	return v
}

func definitionObject(k definition.Kind) (client.Object, error) {
	switch k {
	case definition.KindComponent:
		return &v1beta1.ComponentDefinition{}, nil
	case definition.KindTrait:
		return &v1beta1.TraitDefinition{}, nil
	case definition.KindPolicy:
		return &v1beta1.PolicyDefinition{}, nil
	case definition.KindWorkflowStep:
		return &v1beta1.WorkflowStepDefinition{}, nil
	}
	return nil, fmt.Errorf("unknown kind %q", k)
}

// sandboxCheck is the sandbox check of the renderer's engine, if any.
func (r *engine) sandboxCheck(d *definition.Definition, compileOnly bool, ctxMap, props map[string]any) error {
	if r.r == nil || r.r.sandbox == nil {
		return nil
	}
	return r.r.sandbox.check(d, compileOnly, ctxMap, props)
}

// SetSandbox makes r check templates that are not trusted in s before
// compiling or evaluating them (nil: no sandbox).
func (r *Renderer) SetSandbox(s *Sandbox) { r.sandbox = s }
