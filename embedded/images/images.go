// Package images imports image archives into containerd's Kubernetes
// namespace with the ctr tool carried in velad, pins them so the kubelet's
// image garbage collection keeps them, and lists what is there.
package images

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// Namespace is containerd's namespace for Kubernetes images.
const Namespace = "k8s.io"

// pinnedLabel makes the CRI (and so the kubelet) treat an image as pinned.
const pinnedLabel = "io.cri-containerd.pinned=pinned"

// Ctr runs containerd's ctr tool against one containerd.
type Ctr struct {
	Binary string
	Socket string
}

func (c Ctr) run(ctx context.Context, args ...string) (string, error) {
	full := append([]string{"--address", c.Socket, "--namespace", Namespace}, args...)
	cmd := exec.CommandContext(ctx, c.Binary, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("ctr %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// List returns the references of every image in the namespace.
func (c Ctr) List(ctx context.Context) ([]string, error) {
	out, err := c.run(ctx, "images", "list", "--quiet")
	if err != nil {
		return nil, err
	}
	var refs []string
	for _, line := range strings.Split(out, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "sha256:") {
			refs = append(refs, line)
		}
	}
	slices.Sort(refs)
	return refs, nil
}

// Import imports a docker or OCI archive and pins the images it names. It
// returns the references imported.
func (c Ctr) Import(ctx context.Context, archive string) ([]string, error) {
	refs, err := ArchiveRefs(archive)
	if err != nil {
		return nil, err
	}
	// --local: ctr writes the content itself rather than through
	// containerd's transfer service, which took a second or two longer
	// per archive, even one whose images were all there; --label pins the
	// images in the same call.
	if _, err := c.run(ctx, "images", "import", "--local", "--no-unpack=false", "--label", pinnedLabel, archive); err != nil {
		return nil, err
	}
	return refs, nil
}

// EnsureImported imports archive unless every image it names is present.
func (c Ctr) EnsureImported(ctx context.Context, archive string) (imported bool, err error) {
	want, err := ArchiveRefs(archive)
	if err != nil {
		return false, err
	}
	have, err := c.List(ctx)
	if err != nil {
		return false, err
	}
	missing := slices.ContainsFunc(want, func(r string) bool { return !slices.Contains(have, r) })
	if !missing {
		return false, nil
	}
	_, err = c.Import(ctx, archive)
	return err == nil, err
}

// ArchiveRefs reads the image references an archive names: RepoTags of a
// docker archive's manifest.json, or the ref-name annotations of an OCI
// layout's index.json.
func ArchiveRefs(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var refs []string
	found := false
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s is not an image archive (tar): %w", path, err)
		}
		switch strings.TrimPrefix(hdr.Name, "./") {
		case "manifest.json":
			var m []struct{ RepoTags []string }
			if err := json.NewDecoder(tr).Decode(&m); err != nil {
				return nil, fmt.Errorf("%s: manifest.json: %w", path, err)
			}
			found = true
			for _, e := range m {
				for _, t := range e.RepoTags {
					refs = append(refs, normalize(t))
				}
			}
		case "index.json":
			var idx struct {
				Manifests []struct {
					Annotations map[string]string
				}
			}
			if err := json.NewDecoder(tr).Decode(&idx); err != nil {
				return nil, fmt.Errorf("%s: index.json: %w", path, err)
			}
			found = true
			for _, m := range idx.Manifests {
				if r := m.Annotations["io.containerd.image.name"]; r != "" {
					refs = append(refs, normalize(r))
				} else if r := m.Annotations["org.opencontainers.image.ref.name"]; strings.Contains(r, ":") || strings.Contains(r, "/") {
					refs = append(refs, normalize(r))
				}
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("%s is neither a docker archive (manifest.json) nor an OCI layout (index.json)", path)
	}
	if len(refs) == 0 {
		return nil, fmt.Errorf("%s names no image; tag the image before saving it", path)
	}
	slices.Sort(refs)
	return slices.Compact(refs), nil
}

// normalize expands a short reference the way containerd stores it:
// velad/hello:v1 → docker.io/velad/hello:v1, hello → docker.io/library/hello:latest.
func normalize(ref string) string {
	name, tag := ref, ""
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		name, tag = ref[:i], ref[i:]
	}
	if tag == "" && !strings.Contains(ref, "@") {
		tag = ":latest"
	}
	first, _, hasSlash := strings.Cut(name, "/")
	switch {
	case !hasSlash:
		name = "docker.io/library/" + name
	case !strings.ContainsAny(first, ".:") && first != "localhost":
		name = "docker.io/" + name
	}
	return name + tag
}
