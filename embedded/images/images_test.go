package images

import (
	"archive/tar"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	cases := map[string]string{
		"velad/hello:v1":             "docker.io/velad/hello:v1",
		"hello":                      "docker.io/library/hello:latest",
		"docker.io/velad/pause:3.10": "docker.io/velad/pause:3.10",
		"registry.local:5000/app:1":  "registry.local:5000/app:1",
		"localhost/app":              "localhost/app:latest",
		"ghcr.io/org/tool:2.0":       "ghcr.io/org/tool:2.0",
	}
	for in, want := range cases {
		if got := normalize(in); got != want {
			t.Errorf("normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func writeTar(t *testing.T, files map[string]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "a.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	f.Close()
	return path
}

func TestArchiveRefs(t *testing.T) {
	cases := []struct {
		name    string
		files   map[string]string
		want    []string
		wantErr string
	}{
		{"docker archive", map[string]string{"manifest.json": `[{"RepoTags":["velad/hello:v1","docker.io/velad/pause:3.10"]}]`}, []string{"docker.io/velad/hello:v1", "docker.io/velad/pause:3.10"}, ""},
		{"oci layout", map[string]string{"index.json": `{"manifests":[{"annotations":{"io.containerd.image.name":"ghcr.io/o/app:1"}}]}`}, []string{"ghcr.io/o/app:1"}, ""},
		{"untagged", map[string]string{"manifest.json": `[{"RepoTags":null}]`}, nil, "names no image"},
		{"not an image", map[string]string{"hello.txt": "hi"}, nil, "neither a docker archive"},
		{"bad json", map[string]string{"manifest.json": `{`}, nil, "manifest.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ArchiveRefs(writeTar(t, tc.files))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("ArchiveRefs = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	notTar := filepath.Join(t.TempDir(), "x.tar")
	os.WriteFile(notTar, []byte("this is not a tar file at all, clearly"), 0o644)
	if _, err := ArchiveRefs(notTar); err == nil {
		t.Fatal("a non-tar file was accepted")
	}
}

func TestSubset(t *testing.T) {
	src := writeTar(t, map[string]string{
		"manifest.json": `[{"Config":"p.json","RepoTags":["docker.io/velad/pause:3.10"],"Layers":["l1.tar"]},` +
			`{"Config":"c.json","RepoTags":["velad/controller:1"],"Layers":["l2.tar","l1.tar"]}]`,
		"p.json": "{}", "c.json": "{}", "l1.tar": "one", "l2.tar": "two",
	})
	dst := filepath.Join(t.TempDir(), "sub.tar")
	if err := Subset(src, dst, []string{"docker.io/velad/pause:3.10", "docker.io/velad/hello:v1"}); err != nil {
		t.Fatal(err)
	}
	refs, err := ArchiveRefs(dst)
	if err != nil || !slices.Equal(refs, []string{"docker.io/velad/pause:3.10"}) {
		t.Fatalf("subset refs = %v, %v", refs, err)
	}
	f, _ := os.Open(dst)
	defer f.Close()
	var names []string
	for tr := tar.NewReader(f); ; {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, hdr.Name)
	}
	slices.Sort(names)
	if want := []string{"l1.tar", "manifest.json", "p.json"}; !slices.Equal(names, want) {
		t.Errorf("subset files = %v, want %v", names, want)
	}
	if err := Subset(src, dst, []string{"docker.io/velad/other:1"}); err == nil || !strings.Contains(err.Error(), "holds none of") {
		t.Errorf("a subset of no image: err %v", err)
	}
}
