package patch

import (
	"math"
	"unicode/utf8"
)

// mergeJSON applies the JSON merge patch p (RFC 7386) to doc, both decoded
// JSON, without a JSON round trip. It gives what
// jsonpatch.MergePatch(json(doc), json(p)) decoded with DecodeJSON gives,
// quirks included: nulls are pruned from objects the patch adds (also
// inside lists), a list in the patch replaces the value whole, and numbers
// come out as DecodeJSON makes them (integral floats become int64). ok is
// false for data JSON would not carry unchanged (invalid UTF-8, NaN,
// other Go types): the caller then takes the JSON route.
func mergeJSON(doc, p any) (out any, ok bool) {
	if !plain(doc) || !plain(p) {
		return nil, false
	}
	pm, isObj := p.(map[string]any)
	if !isObj {
		if l, isList := p.([]any); isList {
			return pruneList(l), true
		}
		return normalizeNumbers(p), true
	}
	dm, isObj := doc.(map[string]any)
	if !isObj {
		return pruneObject(pm), true
	}
	return mergeObjects(normalizeNumbers(dm).(map[string]any), pm), true
}

// mergeObjects merges p into doc, a copy it owns.
func mergeObjects(doc, p map[string]any) map[string]any {
	for k, v := range p {
		if v == nil {
			delete(doc, k)
			continue
		}
		cur, exists := doc[k]
		if !exists || cur == nil {
			doc[k] = prune(v)
			continue
		}
		doc[k] = mergeValue(cur, v)
	}
	return doc
}

func mergeValue(cur, p any) any {
	cm, isObj := cur.(map[string]any)
	if !isObj {
		return prune(p)
	}
	pm, isObj := p.(map[string]any)
	if !isObj {
		return normalizeNumbers(p)
	}
	return mergeObjects(cm, pm)
}

// prune copies v without the null fields of its objects.
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return pruneObject(x)
	case []any:
		return pruneList(x)
	}
	return normalizeNumbers(v)
}

func pruneObject(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, e := range m {
		if e != nil {
			out[k] = prune(e)
		}
	}
	return out
}

func pruneList(l []any) []any {
	out := make([]any, len(l))
	for i, e := range l {
		out[i] = prune(e) // nulls in lists stay
	}
	return out
}

// normalizeNumbers copies v with numbers as a JSON round trip through
// DecodeJSON leaves them.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizeNumbers(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeNumbers(e)
		}
		return out
	case float64:
		// encoding/json writes integral floats below 1e21 without a
		// fraction or exponent; DecodeJSON reads those as int64 when
		// they fit.
		if x == math.Trunc(x) && x >= -(1<<63) && x < 1<<63 {
			return int64(x)
		}
	}
	return v
}

// plain reports whether v is decoded JSON that survives a JSON round trip
// (up to number normalisation).
func plain(v any) bool {
	switch x := v.(type) {
	case nil, bool, int64:
		return true
	case string:
		return utf8.ValidString(x)
	case float64:
		return !math.IsNaN(x) && !math.IsInf(x, 0)
	case map[string]any:
		for k, e := range x {
			if !utf8.ValidString(k) || !plain(e) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range x {
			if !plain(e) {
				return false
			}
		}
		return true
	}
	return false
}
