package fifo

import (
	"slices"
	"testing"
)

func TestCache(t *testing.T) {
	type put struct {
		k string
		v int
	}
	cases := []struct {
		name string
		size int
		puts []put
		want map[string]int // every key that must be present, with its value
		gone []string
	}{
		{name: "zero size keeps nothing", size: 0, puts: []put{{"a", 1}}, gone: []string{"a"}},
		{name: "negative size keeps nothing", size: -3, puts: []put{{"a", 1}}, gone: []string{"a"}},
		{name: "under the bound", size: 3, puts: []put{{"a", 1}, {"b", 2}}, want: map[string]int{"a": 1, "b": 2}},
		{name: "oldest goes first", size: 2, puts: []put{{"a", 1}, {"b", 2}, {"c", 3}},
			want: map[string]int{"b": 2, "c": 3}, gone: []string{"a"}},
		{name: "putting or getting a key again does not make it younger", size: 2, puts: []put{{"a", 1}, {"b", 2}, {"a", 9}, {"c", 3}},
			want: map[string]int{"b": 2, "c": 3}, gone: []string{"a"}},
		{name: "the first value put stays", size: 2, puts: []put{{"a", 1}, {"a", 2}}, want: map[string]int{"a": 1}},
		{name: "the ring wraps around", size: 3, puts: []put{{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}, {"e", 5}, {"f", 6}, {"g", 7}},
			want: map[string]int{"e": 5, "f": 6, "g": 7}, gone: []string{"a", "b", "c", "d"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := New[string, int](tc.size)
			for _, p := range tc.puts {
				c.Put(p.k, p.v)
				c.Get(p.k)
			}
			for k, want := range tc.want {
				if v, ok := c.Get(k); !ok || v != want {
					t.Errorf("Get(%q) = %d, %v; want %d, true", k, v, ok, want)
				}
			}
			for _, k := range tc.gone {
				if v, ok := c.Get(k); ok {
					t.Errorf("Get(%q) = %d, true; want it evicted", k, v)
				}
			}
			if c.Len() != len(tc.want) {
				t.Errorf("Len() = %d, want %d", c.Len(), len(tc.want))
			}
		})
	}
}

func TestZeroValueKeepsNothing(t *testing.T) {
	var c Cache[int, int]
	c.Put(1, 1)
	if _, ok := c.Get(1); ok || c.Len() != 0 || c.Size() != 0 {
		t.Fatalf("zero Cache kept an entry: Len %d, Size %d", c.Len(), c.Size())
	}
}

// TestBoundHolds puts many keys and checks that exactly the newest Size
// remain.
func TestBoundHolds(t *testing.T) {
	const size, n = 7, 100
	c := New[int, int](size)
	for i := range n {
		c.Put(i, i*i)
		if c.Len() > size {
			t.Fatalf("after %d puts Len() = %d > %d", i+1, c.Len(), size)
		}
	}
	var kept []int
	for i := range n {
		if v, ok := c.Get(i); ok {
			if v != i*i {
				t.Errorf("Get(%d) = %d, want %d", i, v, i*i)
			}
			kept = append(kept, i)
		}
	}
	want := []int{93, 94, 95, 96, 97, 98, 99}
	if !slices.Equal(kept, want) {
		t.Errorf("kept %v, want %v", kept, want)
	}
	if keys := slices.Collect(c.Keys()); !slices.Equal(keys, want) {
		t.Errorf("Keys() = %v, want %v (oldest first)", keys, want)
	}
}
