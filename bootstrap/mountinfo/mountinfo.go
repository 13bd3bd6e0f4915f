// Package mountinfo reads a process's mount table (/proc/<pid>/mountinfo):
// every mount with its ID and its parent's, so that callers can tell which
// mount a path reaches and which mounts another mount hides.
package mountinfo

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Mount is one line of a mountinfo file.
type Mount struct {
	ID, Parent int
	// Dev is the file system's device, "major:minor".
	Dev string
	// Root is the folder of the file system mounted here ("/" for a
	// whole file system, "/run/netns" for a bind mount of that folder,
	// "net:[4026532177]" for a network namespace).
	Root string
	// Point is where it is mounted.
	Point string
	// Shared is true for a mount in a peer group (mount --make-shared).
	Shared bool
	FSType string
}

// Table is a mount table in the order the kernel lists it.
type Table []Mount

// Read reads the mount table of this process under procRoot ("/proc").
func Read(procRoot string) (Table, error) {
	data, err := os.ReadFile(filepath.Join(procRoot, "self", "mountinfo"))
	if err != nil {
		return nil, fmt.Errorf("read the mount table: %w", err)
	}
	return Parse(data)
}

// Parse parses the text of a mountinfo file (pure).
func Parse(data []byte) (Table, error) {
	var t Table
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		m, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("mountinfo line %d: %w", n, err)
		}
		t = append(t, m)
	}
	return t, sc.Err()
}

// A line: ID parent major:minor root point options [optional...] - fstype source superoptions
func parseLine(line string) (Mount, error) {
	f := strings.Fields(line)
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if len(f) < 7 || sep < 0 || sep+1 >= len(f) {
		return Mount{}, fmt.Errorf("want 'ID parent dev root point options ... - fstype ...', got %q", line)
	}
	id, err1 := strconv.Atoi(f[0])
	parent, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return Mount{}, fmt.Errorf("mount IDs %q and %q are not numbers", f[0], f[1])
	}
	m := Mount{ID: id, Parent: parent, Dev: f[2], Root: Unescape(f[3]), Point: Unescape(f[4]), FSType: f[sep+1]}
	for _, opt := range f[6:sep] {
		if strings.HasPrefix(opt, "shared:") {
			m.Shared = true
		}
	}
	return m, nil
}

// Unescape decodes the octal escapes mountinfo uses for space, tab,
// newline and backslash in paths.
func Unescape(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

// ByID returns the mount with the ID.
func (t Table) ByID(id int) (Mount, bool) {
	for _, m := range t {
		if m.ID == id {
			return m, true
		}
	}
	return Mount{}, false
}

// At lists the mounts whose mount point is path, in table order.
func (t Table) At(path string) []Mount {
	var out []Mount
	for _, m := range t {
		if m.Point == path {
			out = append(out, m)
		}
	}
	return out
}

// Under lists the mount points at or below each of the prefixes, deepest
// first (the order to unmount them in). A prefix ending in "-" matches by
// name ("/run/netns/cni-" matches /run/netns/cni-1234).
func (t Table) Under(prefixes ...string) []string {
	var points []string
	for _, m := range t {
		for _, pre := range prefixes {
			if m.Point == pre || strings.HasPrefix(m.Point, strings.TrimSuffix(pre, "/")+"/") || (strings.HasSuffix(pre, "-") && strings.HasPrefix(m.Point, pre)) {
				points = append(points, m.Point)
				break
			}
		}
	}
	// Deepest first: a mount below another goes before it.
	sort.SliceStable(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	return points
}
