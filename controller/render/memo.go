package render

import (
	"crypto/sha256"
	"encoding/json"

	"github.com/velad-dev/velad/controller/api/v1beta1"
	"github.com/velad-dev/velad/internal/fifo"
)

// DefaultMemoSize is how many rendered components a Renderer remembers
// unless told otherwise (SetMemoSize), in the controller as in the CLI.
// The controller decides the figure: entries leave first in, first out, so a
// component is found again at its application's next resync only if the
// memo holds the components of every application the controller keeps
// (512 missed every time with the 1,000 one-component applications of the
// controller benchmark; 4096 holds them with room for bigger apps). An
// entry is a few kB, so a full memo costs tens of MB; it fills only as
// components are rendered, so a CLI rendering one application pays nothing
// for the bound.
const DefaultMemoSize = 4096

// memo remembers rendered components by a hash of everything their
// rendering depends on, so that re-rendering an unchanged application
// (every reconcile of a controller) does not evaluate CUE again. Entries
// are evicted first in, first out.
type memo = fifo.Cache[[32]byte, *RenderedComponent]

func newMemo(size int) memo { return fifo.New[[32]byte, *RenderedComponent](size) }

// SetMemoSize sets how many rendered components are remembered; 0 turns
// remembering off (every render evaluates CUE).
func (r *Renderer) SetMemoSize(n int) {
	r.memoMu.Lock()
	defer r.memoMu.Unlock()
	r.memo = newMemo(n)
}

// memoKey hashes the inputs of a component render: the context, the
// properties, and the definitions with the spec fields that affect
// rendering. PostDispatch traits rendered against live objects are not
// remembered.
func (r *Renderer) memoKey(app *v1beta1.Application, it workItem, cctx map[string]any, t *Template, traits []*Template, opts Options) ([32]byte, bool) {
	r.memoMu.Lock()
	size := r.memo.Size()
	r.memoMu.Unlock()
	if size == 0 {
		return [32]byte{}, false
	}
	type traitKey struct {
		Key        [32]byte
		Name       string
		AppliesTo  []string
		Conflicts  []string
		Stage      string
		Properties map[string]any
	}
	in := struct {
		Context    map[string]any
		Name       string
		Type       string
		DependsOn  []string
		Key        [32]byte
		Def        string
		Workload   any
		Properties map[string]any
		Traits     []traitKey
	}{Context: cctx, Name: it.comp.Name, Type: it.comp.Type, DependsOn: it.comp.DependsOn, Key: t.key, Def: t.Def.Name, Properties: it.props}
	if cd := t.Def.Component(); cd != nil {
		in.Workload = cd.Spec.Workload
	}
	for i, tt := range traits {
		spec := tt.Def.Trait().Spec
		if spec.Stage == v1beta1.StagePostDispatch && opts.Live != nil {
			return [32]byte{}, false
		}
		in.Traits = append(in.Traits, traitKey{tt.key, tt.Def.Name, spec.AppliesToWorkloads, spec.ConflictsWith, spec.Stage, it.traitProps[i]})
	}
	b, err := json.Marshal(in)
	if err != nil {
		return [32]byte{}, false
	}
	return sha256.Sum256(append(b, app.Name...)), true
}

func (r *Renderer) memoGet(key [32]byte) *RenderedComponent {
	r.memoMu.Lock()
	c, ok := r.memo.Get(key)
	r.memoMu.Unlock()
	if !ok {
		return nil
	}
	return c.deepCopy() // entries are never modified once stored
}

func (r *Renderer) memoPut(key [32]byte, c *RenderedComponent) {
	c = c.deepCopy()
	r.memoMu.Lock()
	defer r.memoMu.Unlock()
	r.memo.Put(key, c)
}

// deepCopy copies everything a caller may modify.
func (c *RenderedComponent) deepCopy() *RenderedComponent {
	out := *c
	if c.Workload != nil {
		out.Workload = c.Workload.DeepCopy()
	}
	out.Auxiliaries = make([]Auxiliary, len(c.Auxiliaries))
	for i, a := range c.Auxiliaries {
		a.Object = a.Object.DeepCopy()
		out.Auxiliaries[i] = a
	}
	out.Traits = make([]RenderedTrait, len(c.Traits))
	for i, t := range c.Traits {
		t.Properties = copyMap(t.Properties)
		out.Traits[i] = t
	}
	out.Properties = copyMap(c.Properties)
	out.Context = copyMap(c.Context)
	out.DependsOn = append([]string(nil), c.DependsOn...)
	return &out
}

func copyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return copyValue(m).(map[string]any)
}

func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = copyValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyValue(e)
		}
		return out
	}
	return v // scalars are immutable
}
