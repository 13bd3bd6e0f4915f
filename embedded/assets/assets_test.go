package assets

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

type entry struct {
	name, body, link string
	mode             int64
}

func archive(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		if e.link != "" {
			hdr = &tar.Header{Name: e.name, Linkname: e.link, Typeflag: tar.TypeSymlink}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func TestExtractIsIdempotentAndContentAddressed(t *testing.T) {
	root := t.TempDir()
	a := archive(t, entry{name: "./runc", body: "#!runc", mode: 0o755}, entry{name: "./cni", link: "runc"})
	bin, err := Extract(a, root)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(bin, "runc"))
	if err != nil || string(got) != "#!runc" {
		t.Fatalf("runc = %q, %v", got, err)
	}
	if fi, _ := os.Stat(filepath.Join(bin, "runc")); fi.Mode().Perm() != 0o755 {
		t.Errorf("runc mode %o", fi.Mode().Perm())
	}
	if l, _ := os.Readlink(filepath.Join(bin, "cni")); l != "runc" {
		t.Errorf("symlink = %q", l)
	}

	// Same archive: nothing is rewritten (a local edit survives).
	os.WriteFile(filepath.Join(bin, "runc"), []byte("edited"), 0o755)
	again, err := Extract(a, root)
	if err != nil || again != bin {
		t.Fatalf("second extract = %s, %v", again, err)
	}
	if got, _ := os.ReadFile(filepath.Join(bin, "runc")); string(got) != "edited" {
		t.Error("a complete folder was extracted again")
	}

	// A new archive lands in its own folder.
	b := archive(t, entry{name: "runc", body: "v2", mode: 0o755})
	other, err := Extract(b, root)
	if err != nil || other == bin {
		t.Fatalf("new archive extracted to %s (%v), want a new folder", other, err)
	}
	// No temp folders left behind.
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".extract-") {
			t.Errorf("leftover %s", e.Name())
		}
	}
}

func TestExtractRejectsBadArchives(t *testing.T) {
	cases := []struct {
		name    string
		data    func(t *testing.T) []byte
		wantErr string
	}{
		{"not zstd", func(*testing.T) []byte { return []byte("garbage") }, "extract runtime"},
		{"path escape", func(t *testing.T) []byte { return archive(t, entry{name: "../evil", body: "x", mode: 0o644}) }, "escapes its folder"},
		{"symlink escape", func(t *testing.T) []byte { return archive(t, entry{name: "l", link: "/etc/passwd"}) }, "points outside"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			_, err := Extract(tc.data(t), root)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
			entries, _ := os.ReadDir(root)
			if len(entries) != 0 {
				t.Errorf("a failed extraction left %d entries", len(entries))
			}
		})
	}
}

func TestDecompress(t *testing.T) {
	var buf bytes.Buffer
	zw, _ := zstd.NewWriter(&buf)
	zw.Write([]byte("archive v1"))
	zw.Close()
	dir := t.TempDir()
	p1, err := Decompress(buf.Bytes(), dir, "imgs")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p1); string(got) != "archive v1" {
		t.Fatalf("content %q", got)
	}
	again, err := Decompress(buf.Bytes(), dir, "imgs")
	if err != nil || again != p1 {
		t.Fatalf("second call = %s, %v", again, err)
	}
	buf.Reset()
	zw, _ = zstd.NewWriter(&buf)
	zw.Write([]byte("archive v2"))
	zw.Close()
	p2, err := Decompress(buf.Bytes(), dir, "imgs")
	if err != nil || p2 == p1 {
		t.Fatalf("new payload = %s, %v", p2, err)
	}
	if _, err := os.Stat(p1); !os.IsNotExist(err) {
		t.Error("the old extraction was kept")
	}
	if _, err := Decompress([]byte("not zstd"), dir, "bad"); err == nil {
		t.Error("garbage accepted")
	}
}

func TestParseImageList(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr bool
	}{
		{name: "two", in: "controller=docker.io/velad/controller:0.1.0-abc\nfluxcd-controller=docker.io/velad/fluxcd-controller:0.1.0-def\n",
			want: map[string]string{"controller": "docker.io/velad/controller:0.1.0-abc", "fluxcd-controller": "docker.io/velad/fluxcd-controller:0.1.0-def"}},
		{name: "comments and blanks", in: "# images\n\n a = r:1 \n", want: map[string]string{"a": "r:1"}},
		{name: "no equals", in: "controller\n", wantErr: true},
		{name: "empty ref", in: "controller=\n", wantErr: true},
		{name: "duplicate", in: "a=r:1\na=r:2\n", wantErr: true},
		{name: "space in ref", in: "a=r 1\n", wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseImageList([]byte(c.in))
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, c.wantErr)
			}
			if !c.wantErr && !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

// Extractions of one payload are told from another's whose name starts
// with the same words: replacing images.tar.zst's keeps Traefik's.
func TestDecompressKeepsOtherPayloads(t *testing.T) {
	dir := t.TempDir()
	pack := func(s string) []byte {
		var buf bytes.Buffer
		zw, _ := zstd.NewWriter(&buf)
		zw.Write([]byte(s))
		zw.Close()
		return buf.Bytes()
	}
	traefik, err := Decompress(pack("traefik"), dir, "velad-images-traefik")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decompress(pack("images v1"), dir, "velad-images"); err != nil {
		t.Fatal(err)
	}
	if _, err := Decompress(pack("images v2"), dir, "velad-images"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(traefik); err != nil {
		t.Fatalf("replacing velad-images removed %s: %v", traefik, err)
	}
	got, _ := filepath.Glob(filepath.Join(dir, "*.tar"))
	if len(got) != 2 {
		t.Errorf("extractions %v, want the newest of each payload", got)
	}
	for _, f := range got {
		if !IsImagesExtract(f) {
			t.Errorf("%s not recognised as velad's own extraction", f)
		}
	}
	if IsImagesExtract(filepath.Join(dir, "my-app.tar")) {
		t.Error("a user's archive taken for velad's")
	}
}

func TestNodeFirst(t *testing.T) {
	cases := []struct{ in, want []string }{
		{[]string{"images.tar.zst", "images-traefik.tar.zst", "images-node.tar.zst"}, []string{"images-node.tar.zst", "images-traefik.tar.zst", "images.tar.zst"}},
		{[]string{"images-zz.tar.zst", "images-node.tar.zst", "images-a.tar.zst"}, []string{"images-node.tar.zst", "images-a.tar.zst", "images-zz.tar.zst"}},
		{[]string{"images.tar.zst", "images-a.tar.zst"}, []string{"images-a.tar.zst", "images.tar.zst"}},
		{nil, nil},
	}
	for _, tc := range cases {
		if got := nodeFirst(slices.Clone(tc.in)); !slices.Equal(got, tc.want) {
			t.Errorf("nodeFirst(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// A velad built with its images carries the node payload apart, and
// imports it first.
func TestEmbeddedPayloadHasNodeImagesFirst(t *testing.T) {
	names, err := imagePayloads()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Skip("no image payload embedded (make build makes it)")
	}
	if names[0] != NodeImagesPayload || !slices.Contains(names, ImagesPayload) {
		t.Fatalf("image payloads %v: want %s first and %s among them", names, NodeImagesPayload, ImagesPayload)
	}
	if _, ok := payloadHash(NodeImagesPayload); !ok {
		t.Errorf("%s has no .sha256 beside it", NodeImagesPayload)
	}
}
