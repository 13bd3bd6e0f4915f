package patch

import (
	"reflect"
	"testing"

	"cuelang.org/go/cue/cuecontext"
)

// TestDecodeMatchesJSON checks Decode against DecodeJSON(MarshalJSON).
func TestDecodeMatchesJSON(t *testing.T) {
	srcs := []string{
		`null`, `true`, `1`, `-7`, `1.0`, `2.5`, `1e3`, `1e400`, `123456789012345678901234567890`,
		`"s"`, `"<&>\u00e9"`, `[]`, `{}`, `[1, "a", null, [2], {a: 1}]`,
		`{a: *1 | int, b: "x" | *"y", c?: 1, _h: 1, #D: 1, d: [...int], e: {f: {g: [1.5]}}}`,
		`{a: int}`, `{a: [1, int]}`, `{a: 1 & 2}`, `{a: b, b: 1}`, `{a!: 1}`, `'bytes'`,
		`{"a-b": 1, "\(1+1)": 2, a: [for x in [1, 2] {x * 2}]}`,
		`{a: {if true {b: 1}}, c: [if false {1}]}`,
		`*{a: 1} | {b: 2}`, `{a: 1} | {b: 2}`, `{a: float & 2}`, `{a: 4.0 / 2}`,
	}
	ctx := cuecontext.New()
	for _, src := range srcs {
		v := ctx.CompileString(src)
		got, gerr := Decode(v)
		want, werr := decodeViaJSON(v)
		if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
			t.Errorf("%s: error %v, want %v", src, gerr, werr)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", src, got, want)
		}
	}
}
