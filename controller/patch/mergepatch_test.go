package patch

import (
	"encoding/json"
	"math/rand"
	"reflect"
	"testing"
)

// TestMergeJSONMatchesJSONRoute compares mergeJSON with the JSON merge
// patch route on hand-picked and random documents.
func TestMergeJSONMatchesJSONRoute(t *testing.T) {
	docs := []string{
		`{}`, `{"a":1}`, `{"a":{"b":null,"c":[1,null,{"d":null}]},"e":2.5,"f":3.0}`,
		`{"metadata":{"labels":{"x":"1"}},"spec":{"replicas":1,"template":{"metadata":{"labels":{"x":"1"}}}}}`,
		`[1,2]`, `"s"`, `1.5`, `true`, `{"a":null}`, `{"n":1e22,"m":-0.0,"big":9223372036854775807}`,
	}
	patches := []string{
		`{}`, `null`, `{"a":null}`, `{"a":{"b":1,"x":null}}`, `{"a":[{"z":null},null]}`, `{"new":{"p":null,"q":{"r":null}}}`,
		`[{"a":null},null]`, `"str"`, `2`, `{"e":{"x":null}}`, `{"f":{"g":[null]}}`, `{"a":"<&>"}`,
		`{"metadata":{"labels":{"x":null,"team":"shop"}},"spec":{"template":{"metadata":{"labels":{"team":"shop"}}}}}`,
	}
	var cases [][2]any
	for _, d := range docs {
		for _, p := range patches {
			cases = append(cases, [2]any{mustJSON(t, d), mustJSON(t, p)})
		}
	}
	rnd := rand.New(rand.NewSource(1))
	for i := 0; i < 3000; i++ {
		cases = append(cases, [2]any{randValue(rnd, 4), randValue(rnd, 4)})
	}
	for _, c := range cases {
		got, ok := mergeJSON(c[0], c[1])
		if !ok {
			t.Fatalf("mergeJSON(%v, %v) declined plain data", c[0], c[1])
		}
		want, err := mergePatchJSON(c[0], c[1], nil)
		if err != nil {
			continue // not reachable from mergePatch: base is never null
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("mergeJSON(%s, %s)\n got %#v\nwant %#v", js(c[0]), js(c[1]), got, want)
		}
	}
}

func TestMergeJSONDeclines(t *testing.T) {
	for _, v := range []any{"\xff", map[string]any{"\xff": 1}, 1, []string{"a"}} {
		if _, ok := mergeJSON(map[string]any{}, v); ok {
			t.Errorf("mergeJSON accepted %#v", v)
		}
	}
}

func TestMergeJSONDoesNotModifyInputs(t *testing.T) {
	doc := map[string]any{"a": map[string]any{"b": int64(1), "c": 2.0}}
	p := map[string]any{"a": map[string]any{"b": nil, "d": int64(3)}}
	mergeJSON(doc, p)
	want := map[string]any{"a": map[string]any{"b": int64(1), "c": 2.0}}
	if !reflect.DeepEqual(doc, want) {
		t.Errorf("doc changed to %v", doc)
	}
}

func mustJSON(t *testing.T, s string) any {
	v, err := DecodeJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func randValue(r *rand.Rand, depth int) any {
	k := r.Intn(9)
	if depth == 0 {
		k = r.Intn(6)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return r.Intn(2) == 0
	case 2:
		return int64(r.Intn(5) - 2)
	case 3:
		return []float64{0.5, 2.0, -1.0, 1e21, 3e20, 1e-7}[r.Intn(6)]
	case 4, 5:
		return []string{"a", "b", "<x>", ""}[r.Intn(4)]
	case 6:
		l := make([]any, r.Intn(3))
		for i := range l {
			l[i] = randValue(r, depth-1)
		}
		return l
	}
	m := map[string]any{}
	for i := r.Intn(4); i > 0; i-- {
		m[[]string{"a", "b", "c", "d"}[r.Intn(4)]] = randValue(r, depth-1)
	}
	return m
}
