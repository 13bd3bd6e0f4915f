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
