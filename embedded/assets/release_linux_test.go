package assets

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

func rssFileKB(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

// Dropping the executable's read-only pages lowers the process's resident
// file pages, and embedded data reads back the same afterwards.
func TestReleasePayloadPages(t *testing.T) {
	before, err := payload.ReadFile("payload/README.md")
	if err != nil {
		t.Fatal(err)
	}
	rss := rssFileKB(t)
	releasePayloadPages()
	if after := rssFileKB(t); after >= rss {
		t.Errorf("RssFile %d kB → %d kB: nothing released", rss, after)
	}
	again, err := payload.ReadFile("payload/README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, again) {
		t.Fatal("embedded data changed after its pages were released")
	}
}
