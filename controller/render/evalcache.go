package render

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"math"
	"sort"

	"cuelang.org/go/cue"

	"github.com/velad-dev/velad/internal/fifo"
)

// evalCacheSize bounds the evaluations an evalCache keeps.
const evalCacheSize = 256

// evalCache keeps evaluated templates whose result depends only on their
// parameters (and on which context paths exist), such as a scaler with 3
// replicas or labels {team: shop}: these repeat across components and
// applications. Templates that read context values (names, the rendered
// workload) are evaluated every time; remembering those is the memo's job.
// Entries are evicted first in, first out.
type evalCache struct {
	c fifo.Cache[[32]byte, evalResult]
}

func newEvalCache() evalCache {
	return evalCache{c: fifo.New[[32]byte, evalResult](evalCacheSize)}
}

type evalResult struct {
	v      cue.Value
	params map[string]any
}

// evalKey hashes what an evaluation of t depends on; ok is false when the
// evaluation is not cached.
func evalKey(t *Template, ctxMap, props map[string]any) (key [32]byte, ok bool) {
	if t.use == nil || t.use.readsValues() {
		return key, false
	}
	h := sha256.New()
	h.Write(t.key[:])
	if !hashValue(h, props) || !hashValue(h, ctxMap) {
		return key, false
	}
	h.Sum(key[:0])
	return key, true
}

func (c *evalCache) get(key [32]byte) (cue.Value, map[string]any, bool) {
	e, ok := c.c.Get(key)
	if !ok {
		return cue.Value{}, nil, false
	}
	return e.v, copyMap(e.params), true
}

func (c *evalCache) put(key [32]byte, v cue.Value, params map[string]any) {
	if _, ok := c.c.Get(key); ok {
		return // the first result stays: no copy to make
	}
	c.c.Put(key, evalResult{v: v, params: copyMap(params)})
}

// readsValues reports whether a template reads any context value, beyond
// testing whether a path exists.
func (u *ctxUse) readsValues() bool {
	if u.whole {
		return true
	}
	for _, c := range u.fields {
		if c.readsValues() {
			return true
		}
	}
	return false
}

// hashValue writes JSON-like data to h with its Go types (int64 3 and
// float64 3 differ for CUE). It returns false for other types.
func hashValue(h hash.Hash, v any) bool {
	var buf [9]byte
	switch x := v.(type) {
	case nil:
		h.Write([]byte{'n'})
	case bool:
		buf[0] = 'f'
		if x {
			buf[0] = 't'
		}
		h.Write(buf[:1])
	case int64:
		buf[0] = 'i'
		binary.LittleEndian.PutUint64(buf[1:], uint64(x))
		h.Write(buf[:])
	case int:
		buf[0] = 'i'
		binary.LittleEndian.PutUint64(buf[1:], uint64(int64(x)))
		h.Write(buf[:])
	case float64:
		buf[0] = 'd'
		binary.LittleEndian.PutUint64(buf[1:], math.Float64bits(x))
		h.Write(buf[:])
	case string:
		hashString(h, 's', x)
	case []any:
		buf[0] = 'l'
		binary.LittleEndian.PutUint64(buf[1:], uint64(len(x)))
		h.Write(buf[:])
		for _, e := range x {
			if !hashValue(h, e) {
				return false
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf[0] = 'm'
		binary.LittleEndian.PutUint64(buf[1:], uint64(len(x)))
		h.Write(buf[:])
		for _, k := range keys {
			hashString(h, 'k', k)
			if !hashValue(h, x[k]) {
				return false
			}
		}
	default:
		return false
	}
	return true
}

func hashString(h hash.Hash, tag byte, s string) {
	var buf [9]byte
	buf[0] = tag
	binary.LittleEndian.PutUint64(buf[1:], uint64(len(s)))
	h.Write(buf[:])
	h.Write([]byte(s))
}
