package images

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// dockerManifestEntry is one image of a docker archive's manifest.json.
type dockerManifestEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// Subset writes dst (atomically), a docker archive holding only the images
// of src whose references keep names, with their config and layers; an
// agent imports that much before its kubelet starts. It fails when src is
// no docker archive or keeps no image.
func Subset(src, dst string, keep []string) error {
	manifest, err := readDockerManifest(src)
	if err != nil {
		return err
	}
	var kept []dockerManifestEntry
	files := map[string]bool{}
	for _, e := range manifest {
		if !slices.ContainsFunc(e.RepoTags, func(t string) bool { return slices.Contains(keep, normalize(t)) }) {
			continue
		}
		kept = append(kept, e)
		files[e.Config] = true
		for _, l := range e.Layers {
			files[l] = true
		}
	}
	if len(kept) == 0 {
		return fmt.Errorf("%s holds none of %s", src, strings.Join(keep, ", "))
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	tw := tar.NewWriter(out)
	tr := tar.NewReader(in)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			out.Close()
			return fmt.Errorf("%s: %w", src, err)
		}
		if !files[strings.TrimPrefix(hdr.Name, "./")] {
			continue
		}
		if err := tw.WriteHeader(hdr); err != nil {
			out.Close()
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			out.Close()
			return err
		}
	}
	data, err := json.Marshal(kept)
	if err != nil {
		out.Close()
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		out.Close()
		return err
	}
	if _, err := tw.Write(data); err != nil {
		out.Close()
		return err
	}
	if err := tw.Close(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

func readDockerManifest(path string) ([]dockerManifestEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s is no docker archive (no manifest.json)", path)
		}
		if err != nil {
			return nil, fmt.Errorf("%s is not an image archive (tar): %w", path, err)
		}
		if strings.TrimPrefix(hdr.Name, "./") == "manifest.json" {
			var m []dockerManifestEntry
			if err := json.NewDecoder(tr).Decode(&m); err != nil {
				return nil, fmt.Errorf("%s: manifest.json: %w", path, err)
			}
			return m, nil
		}
	}
}
