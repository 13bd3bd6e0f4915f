package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"

	"cuelang.org/go/cue"
)

// Decode turns a concrete CUE value into JSON-like Go data
// (map[string]any, []any, string, bool, int64, float64, nil), the form
// unstructured objects use. It gives what DecodeJSON(v.MarshalJSON())
// gives, without the JSON in between; values that are not concrete get
// MarshalJSON's error.
func Decode(v cue.Value) (any, error) {
	if out, err := decodeValue(v); err == nil {
		return out, nil
	}
	return decodeViaJSON(v)
}

// errFallback makes Decode take the JSON route, which reports the error
// (or decodes what the walk does not handle) exactly as before.
var errFallback = errors.New("decode through JSON")

func decodeValue(v cue.Value) (any, error) {
	if d, ok := v.Default(); ok {
		v = d
	}
	switch v.Kind() {
	case cue.NullKind:
		return nil, nil
	case cue.BoolKind:
		return v.Bool()
	case cue.IntKind:
		i, err := v.Int64()
		if err != nil {
			return nil, errFallback // out of int64 range
		}
		return i, nil
	case cue.FloatKind, cue.NumberKind:
		return decodeViaJSON(v) // keep DecodeJSON's reading of the digits
	case cue.StringKind:
		s, err := v.String()
		if err != nil || !utf8.ValidString(s) {
			return nil, errFallback
		}
		return s, nil
	case cue.ListKind:
		it, err := v.List()
		if err != nil {
			return nil, errFallback
		}
		out := []any{}
		for it.Next() {
			e, err := decodeValue(it.Value())
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	case cue.StructKind:
		it, err := v.Fields()
		if err != nil {
			return nil, errFallback
		}
		out := map[string]any{}
		for it.Next() {
			e, err := decodeValue(it.Value())
			if err != nil {
				return nil, err
			}
			out[it.Selector().Unquoted()] = e
		}
		return out, nil
	}
	return nil, errFallback // not concrete, an error, or bytes
}

func decodeViaJSON(v cue.Value) (any, error) {
	b, err := v.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return DecodeJSON(b)
}

// DecodeJSON decodes JSON keeping integers as int64.
func DecodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out any
	if err := d.Decode(&out); err != nil {
		return nil, err
	}
	return normalize(out), nil
}

func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String() // out of float64 range: keep the digits
	}
	return v
}
