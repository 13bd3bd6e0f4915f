package patch

import (
	"bytes"
	"encoding/json"

	"cuelang.org/go/cue"
)

// Decode turns a concrete CUE value into JSON-like Go data
// (map[string]any, []any, string, bool, int64, float64, nil), the form
// unstructured objects use.
func Decode(v cue.Value) (any, error) {
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
