package mountinfo

import (
	"reflect"
	"testing"
)

// Seen on this project's machines after `ip netns add` ran while a pod
// sandbox's namespace was mounted: 44 is hidden under the layer 58.
const sample = `27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
44 27 0:4 net:[4026532177] /run/netns/cni-0a55 rw - nsfs nsfs rw
58 27 254:0 /run/netns /run/netns rw,relatime shared:4 - ext4 /dev/vda rw,discard
91 58 0:4 net:[4026532332] /run/netns/repro18 rw shared:7 - nsfs nsfs rw
95 27 0:50 / /var/lib/velad\040data/pods rw,relatime master:2 - tmpfs tmpfs rw
`

func TestParse(t *testing.T) {
	got, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	want := Table{
		{ID: 27, Parent: 1, Dev: "254:0", Root: "/", Point: "/", FSType: "ext4"},
		{ID: 44, Parent: 27, Dev: "0:4", Root: "net:[4026532177]", Point: "/run/netns/cni-0a55", FSType: "nsfs"},
		{ID: 58, Parent: 27, Dev: "254:0", Root: "/run/netns", Point: "/run/netns", Shared: true, FSType: "ext4"},
		{ID: 91, Parent: 58, Dev: "0:4", Root: "net:[4026532332]", Point: "/run/netns/repro18", Shared: true, FSType: "nsfs"},
		{ID: 95, Parent: 27, Dev: "0:50", Root: "/", Point: "/var/lib/velad data/pods", FSType: "tmpfs"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if m, ok := got.ByID(58); !ok || m.Point != "/run/netns" {
		t.Errorf("ByID(58) = %+v %v", m, ok)
	}
	if at := got.At("/run/netns"); len(at) != 1 || at[0].ID != 58 {
		t.Errorf("At(/run/netns) = %+v", at)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"too few fields", "27 1 254:0 / /\n"},
		{"no separator", "27 1 254:0 / / rw shared:1 ext4 /dev/vda rw\n"},
		{"ID not a number", "x 1 254:0 / / rw - ext4 /dev/vda rw\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse([]byte(tc.in)); err == nil {
				t.Errorf("no error for %q", tc.in)
			}
		})
	}
}

func TestUnder(t *testing.T) {
	tab, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		prefixes []string
		want     []string
	}{
		{"a folder and what is below it, deepest first", []string{"/run/netns"}, []string{"/run/netns/cni-0a55", "/run/netns/repro18", "/run/netns"}},
		{"a name prefix", []string{"/run/netns/cni-"}, []string{"/run/netns/cni-0a55"}},
		{"an escaped path", []string{"/var/lib/velad data"}, []string{"/var/lib/velad data/pods"}},
		{"no match", []string{"/srv"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tab.Under(tc.prefixes...); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
