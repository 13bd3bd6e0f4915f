// Package patch applies a trait's CUE `patch` onto a rendered object the
// way OAM definition authors expect: structs merge field by field, lists
// merge by index unless a `// +patchKey=KEY` comment asks to merge items
// with equal KEY, and `// +patchStrategy=` comments select retainKeys
// (overwrite the field), replace (replace a list), jsonMergePatch (RFC
// 7386) or jsonPatch (RFC 6902, the patch holds `operations`).
package patch

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	jsonpatch "github.com/evanphx/json-patch/v5"
)

// Strategy names accepted in `// +patchStrategy=` comments.
const (
	StrategyRetainKeys     = "retainKeys"
	StrategyReplace        = "replace"
	StrategyJSONMergePatch = "jsonMergePatch"
	StrategyJSONPatch      = "jsonPatch"
	// StrategyOpen is accepted for compatibility and behaves as the default.
	StrategyOpen = "open"
)

// Apply patches base (a decoded JSON object) with the CUE value patch and
// returns the result; base is not modified. Strategy markers are read
// from the doc comments of patch itself and of every field beneath it.
func Apply(base map[string]any, patch cue.Value) (map[string]any, error) {
	if !patch.Exists() {
		return base, nil
	}
	if err := patch.Err(); err != nil {
		return nil, err
	}
	m := markers(patch)
	// `patch: operations: [...]` puts the marker on the operations field.
	if ops := patch.LookupPath(pathOperations); m.strategy == "" && ops.Exists() && markers(ops).strategy == StrategyJSONPatch {
		m.strategy = StrategyJSONPatch
	}
	out, err := merge(base, patch, m, "", nil)
	if err != nil {
		return nil, err
	}
	obj, ok := out.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("patch turned the object into %s", describe(out))
	}
	return obj, nil
}

var (
	pathOperations = cue.ParsePath("operations")
	pathEach       = cue.MakePath(cue.AnyIndex)
)

// parsedPaths remembers cue.ParsePath of +patchKey values (parsing costs
// more than the lookup); at most maxParsedPaths of them.
var (
	parsedPaths    sync.Map
	parsedPathsLen atomic.Int32
)

const maxParsedPaths = 256

func parsePath(s string) cue.Path {
	if p, ok := parsedPaths.Load(s); ok {
		return p.(cue.Path)
	}
	p := cue.ParsePath(s)
	if parsedPathsLen.Add(1) <= maxParsedPaths {
		parsedPaths.Store(s, p)
	}
	return p
}

type marks struct {
	key      string
	strategy string
}

// markers reads `+patchKey=` and `+patchStrategy=` from v's doc comments.
func markers(v cue.Value) marks {
	return parseMarkers(v.Doc())
}

func parseMarkers(groups []*ast.CommentGroup) marks {
	var m marks
	for _, g := range groups {
		for _, c := range g.List {
			line := strings.TrimSpace(strings.TrimPrefix(c.Text, "//"))
			k, val, ok := strings.Cut(strings.TrimPrefix(line, "+"), "=")
			if !ok || !strings.HasPrefix(line, "+") {
				continue
			}
			val = strings.TrimSpace(val)
			switch strings.TrimSpace(k) {
			case "patchKey":
				m.key = val
			case "patchStrategy":
				m.strategy = val
			}
		}
	}
	return m
}

func merge(base any, p cue.Value, m marks, inheritedKey string, path []string) (any, error) {
	switch m.strategy {
	case "", StrategyOpen:
	case StrategyRetainKeys, StrategyReplace:
		if p.IncompleteKind() == cue.ListKind && m.key != "" && m.strategy == StrategyRetainKeys {
			break // keyed list whose matched items are replaced whole
		}
		return concrete(p, path)
	case StrategyJSONMergePatch:
		return mergePatch(base, p, path)
	case StrategyJSONPatch:
		return jsonPatch(base, p, path)
	default:
		return nil, fmt.Errorf("%s: unknown patchStrategy %q: want retainKeys, replace, jsonMergePatch or jsonPatch", where(path), m.strategy)
	}
	if base == nil {
		return concrete(p, path)
	}
	switch p.IncompleteKind() {
	case cue.StructKind:
		bm, ok := base.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: cannot patch %s with a struct", where(path), describe(base))
		}
		return mergeStruct(bm, p, inheritedKey, path)
	case cue.ListKind:
		bl, ok := base.([]any)
		if !ok {
			return nil, fmt.Errorf("%s: cannot patch %s with a list", where(path), describe(base))
		}
		key := m.key
		if key == "" {
			key = inheritedKey
		}
		return mergeList(bl, p, key, m.strategy == StrategyRetainKeys, path)
	}
	return mergeLeaf(base, p, path)
}

func mergeStruct(base map[string]any, p cue.Value, inheritedKey string, path []string) (any, error) {
	out := make(map[string]any, len(base))
	for k, v := range base {
		out[k] = v
	}
	it, err := p.Fields()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where(path), err)
	}
	for it.Next() {
		name := it.Selector().Unquoted()
		fv := it.Value()
		r, err := merge(out[name], fv, markers(fv), inheritedKey, append(path, name))
		if err != nil {
			return nil, err
		}
		out[name] = r
	}
	return out, nil
}

func mergeList(base []any, p cue.Value, key string, retain bool, path []string) (any, error) {
	var elems []cue.Value
	it, err := p.List()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where(path), err)
	}
	for it.Next() {
		elems = append(elems, it.Value())
	}
	each := p.LookupPath(pathEach) // [...X] applies X to every item
	out := make([]any, len(base))
	copy(out, base)

	if key != "" && keyed(elems, key) {
		for _, e := range elems {
			kv := keyOf(e, key)
			idx := -1
			for i, b := range out {
				if s, ok := lookupKey(b, key); ok && s == kv {
					idx = i
					break
				}
			}
			label := strings.Trim(kv, `"`)
			if idx < 0 {
				r, err := concrete(e, append(path, label))
				if err != nil {
					return nil, err
				}
				out = append(out, r)
				continue
			}
			var r any
			if retain {
				r, err = concrete(e, append(path, label))
			} else {
				r, err = merge(out[idx], e, markers(e), key, append(path, label))
			}
			if err != nil {
				return nil, err
			}
			out[idx] = r
		}
	} else {
		if !each.Exists() && len(elems) != len(out) {
			return nil, fmt.Errorf("%s: cannot merge a list of %d items into a list of %d items: mark the field with // +patchKey=<field> to merge by key, or // +patchStrategy=replace", where(path), len(elems), len(out))
		}
		if len(elems) > len(out) {
			return nil, fmt.Errorf("%s: cannot merge a list of %d items into a list of %d items", where(path), len(elems), len(out))
		}
		for i, e := range elems {
			r, err := merge(out[i], e, markers(e), key, append(path, fmt.Sprint(i)))
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
	}
	if each.Exists() && isConstraining(each) {
		for i := range out {
			r, err := merge(out[i], each, marks{}, key, append(path, fmt.Sprint(i)))
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
	}
	return out, nil
}

// isConstraining reports whether an element constraint does anything
// ([...] and [..._] do not).
func isConstraining(v cue.Value) bool {
	return v.IncompleteKind() != cue.TopKind
}

// keyed reports whether every element has a concrete scalar at key.
func keyed(elems []cue.Value, key string) bool {
	if len(elems) == 0 {
		return false
	}
	for _, e := range elems {
		if keyOf(e, key) == "" {
			return false
		}
	}
	return true
}

// keyOf is the JSON of the scalar at key in a patch element ("" if none),
// so string and number keys (name, port) compare alike.
func keyOf(e cue.Value, key string) string {
	v := e.LookupPath(parsePath(key))
	if d, ok := v.Default(); ok {
		v = d
	}
	if !v.IsConcrete() || v.IncompleteKind()&(cue.StructKind|cue.ListKind) != 0 {
		return ""
	}
	b, err := v.MarshalJSON()
	if err != nil {
		return ""
	}
	return string(b)
}

func lookupKey(item any, key string) (string, bool) {
	cur := item
	for _, part := range strings.Split(key, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		cur = m[part]
	}
	switch cur.(type) {
	case string, int64, float64, bool:
		b, err := json.Marshal(cur)
		return string(b), err == nil
	}
	return "", false
}

// mergeLeaf unifies a scalar (or a non-concrete constraint) with base.
func mergeLeaf(base any, p cue.Value, path []string) (any, error) {
	if p.IsConcrete() {
		v, err := Decode(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where(path), err)
		}
		if !equal(base, v) {
			return nil, fmt.Errorf("%s: conflicting values %s and %s: mark the field with // +patchStrategy=retainKeys to overwrite it", where(path), describe(base), describe(v))
		}
		return base, nil
	}
	if f, ok := base.(float64); ok && f == float64(int64(f)) {
		base = int64(f) // JSON numbers without a fraction are CUE ints
	}
	u := p.Context().Encode(base).Unify(p)
	if err := u.Validate(cue.Concrete(true)); err != nil {
		return nil, fmt.Errorf("%s: %s does not satisfy the patch: %w", where(path), describe(base), err)
	}
	return base, nil
}

func concrete(p cue.Value, path []string) (any, error) {
	if d, ok := p.Default(); ok {
		p = d
	}
	if err := p.Validate(cue.Concrete(true)); err != nil {
		return nil, fmt.Errorf("%s: patch is not concrete: %w", where(path), err)
	}
	v, err := Decode(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where(path), err)
	}
	return v, nil
}

func mergePatch(base any, p cue.Value, path []string) (any, error) {
	pv, err := concrete(p, path)
	if err != nil {
		return nil, err
	}
	if base == nil {
		base = map[string]any{}
	}
	if out, ok := mergeJSON(base, pv); ok {
		return out, nil
	}
	return mergePatchJSON(base, pv, path)
}

// mergePatchJSON is mergeJSON by way of JSON, for data mergeJSON leaves.
func mergePatchJSON(base, pv any, path []string) (any, error) {
	bj, _ := json.Marshal(base)
	pj, _ := json.Marshal(pv)
	out, err := jsonpatch.MergePatch(bj, pj)
	if err != nil {
		return nil, fmt.Errorf("%s: json merge patch: %w", where(path), err)
	}
	return DecodeJSON(out)
}

func jsonPatch(base any, p cue.Value, path []string) (any, error) {
	ops := p.LookupPath(pathOperations)
	if !ops.Exists() {
		return nil, fmt.Errorf("%s: a jsonPatch patch needs `operations: [...]`", where(path))
	}
	ov, err := concrete(ops, path)
	if err != nil {
		return nil, err
	}
	oj, _ := json.Marshal(ov)
	decoded, err := jsonpatch.DecodePatch(oj)
	if err != nil {
		return nil, fmt.Errorf("%s: invalid json patch: %w", where(path), err)
	}
	if base == nil {
		base = map[string]any{}
	}
	bj, _ := json.Marshal(base)
	out, err := decoded.Apply(bj)
	if err != nil {
		return nil, fmt.Errorf("%s: apply json patch: %w", where(path), err)
	}
	return DecodeJSON(out)
}

func where(path []string) string {
	if len(path) == 0 {
		return "patch"
	}
	return "patch " + strings.Join(path, ".")
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "a struct"
	case []any:
		return fmt.Sprintf("a list of %d items", len(x))
	case string:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprint(v)
}

func equal(a, b any) bool {
	if fa, ok := toFloat(a); ok {
		if fb, ok := toFloat(b); ok {
			return fa == fb
		}
	}
	return reflect.DeepEqual(a, b)
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}
