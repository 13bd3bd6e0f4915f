// Package assets carries the runtime binaries inside velad (go:embed) and
// extracts them to a content-addressed folder of the data dir. Extraction
// is idempotent: a folder that is complete is used as it is, a new one is
// unpacked beside it and renamed into place, so a crash never leaves a
// half-written runtime behind.
package assets

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/klauspost/compress/zstd"
)

//go:embed payload
var payload embed.FS

// RuntimePayload is the file name of the runtime archive in the payload.
const RuntimePayload = "runtime.tar.zst"

// ErrNoRuntime means this velad was built without its runtime payload.
var ErrNoRuntime = errors.New("this velad binary carries no runtime binaries; build it with 'make build' (scripts/build-runtime.sh)")

// completeMarker marks a fully extracted folder.
const completeMarker = ".complete"

// Runtime opens the embedded runtime archive.
func Runtime() ([]byte, error) {
	data, err := payload.ReadFile("payload/" + RuntimePayload)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoRuntime
	}
	return data, err
}

// ExtractRuntime unpacks the embedded runtime into <root>/<hash>/bin and
// returns that bin folder. When that folder is complete the payload is
// not read at all, so its pages stay out of velad's memory.
func ExtractRuntime(root string) (string, error) {
	if hash, ok := payloadHash(RuntimePayload); ok {
		bin := filepath.Join(root, hash, "bin")
		if _, err := os.Stat(filepath.Join(root, hash, completeMarker)); err == nil {
			return bin, nil
		}
	}
	data, err := Runtime()
	if err != nil {
		return "", err
	}
	defer releasePayloadPages()
	return Extract(data, root)
}

// payloadHash reads the hash the build wrote beside a payload file (the
// first 12 hex digits of its sha256).
func payloadHash(name string) (string, bool) {
	data, err := payload.ReadFile("payload/" + name + ".sha256")
	if err != nil {
		return "", false
	}
	h := strings.TrimSpace(string(data))
	if len(h) != 12 {
		return "", false
	}
	return h, true
}

// Extract unpacks a tar.zst archive into <root>/<first 12 hex of its
// sha256>/bin, unless that folder is already complete, and returns it.
func Extract(archive []byte, root string) (string, error) {
	sum := sha256.Sum256(archive)
	dir := filepath.Join(root, hex.EncodeToString(sum[:])[:12])
	bin := filepath.Join(dir, "bin")
	if _, err := os.Stat(filepath.Join(dir, completeMarker)); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("extract runtime: %w", err)
	}
	tmp, err := os.MkdirTemp(root, ".extract-")
	if err != nil {
		return "", fmt.Errorf("extract runtime: %w", err)
	}
	defer os.RemoveAll(tmp) // no-op after the rename
	if err := untar(archive, filepath.Join(tmp, "bin")); err != nil {
		return "", fmt.Errorf("extract runtime: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, completeMarker), nil, 0o644); err != nil {
		return "", fmt.Errorf("extract runtime: %w", err)
	}
	// A leftover incomplete folder of the same hash is replaced.
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("extract runtime: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", fmt.Errorf("extract runtime: %w", err)
	}
	return bin, nil
}

func untar(archive []byte, dst string) error {
	zr, err := zstd.NewReader(bytes.NewReader(archive))
	if err != nil {
		return err
	}
	defer zr.Close()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		name := filepath.Clean(hdr.Name)
		if name == "." {
			continue
		}
		if filepath.IsAbs(name) || strings.HasPrefix(name, "..") {
			return fmt.Errorf("archive entry %q escapes its folder", hdr.Name)
		}
		target := filepath.Join(dst, name)
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := writeFile(target, tr, os.FileMode(hdr.Mode).Perm()); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if filepath.IsAbs(hdr.Linkname) || strings.Contains(hdr.Linkname, "..") {
				return fmt.Errorf("archive symlink %q points outside its folder", hdr.Name)
			}
			if err := os.Symlink(hdr.Linkname, target); err != nil {
				return err
			}
		default:
			return fmt.Errorf("archive entry %q has unsupported type %c", hdr.Name, hdr.Typeflag)
		}
	}
}

func writeFile(path string, r io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ImagesPayload is the file name of the image archive in the payload.
const ImagesPayload = "images.tar.zst"

// NodeImagesPayload is the file name of the small image archive every
// node imports before its kubelet starts (the pod sandbox, the volume
// helper, hello), packed apart from ImagesPayload so that a joining agent
// need not decompress the controllers first.
const NodeImagesPayload = "images-node.tar.zst"

// imagePayloads are the payload files holding image archives, the node
// payload (NodeImagesPayload) first: velad's images (ImagesPayload) and
// images built on their own, like Traefik's (images-traefik.tar.zst), so
// that a change to one never recompresses the other.
func imagePayloads() ([]string, error) {
	names, err := fs.Glob(payload, "payload/images*.tar.zst")
	if err != nil {
		return nil, err
	}
	for i, n := range names {
		names[i] = path.Base(n)
	}
	return nodeFirst(names), nil
}

// nodeFirst sorts payload names by name, NodeImagesPayload first.
func nodeFirst(names []string) []string {
	slices.SortFunc(names, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == NodeImagesPayload:
			return -1
		case b == NodeImagesPayload:
			return 1
		}
		return strings.Compare(a, b)
	})
	return names
}

// ControllerImagePayload names the file holding the controller image's
// reference, which scripts/build-images.sh writes beside the images.
const ControllerImagePayload = "controller-image"

// ControllerImage returns the reference of the controller image this
// velad carries (docker.io/velad/controller:<appVersion>-<binary hash>).
func ControllerImage() (string, error) {
	data, err := payload.ReadFile("payload/" + ControllerImagePayload)
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrNoImages
	}
	if err != nil {
		return "", err
	}
	ref := strings.TrimSpace(string(data))
	if ref == "" || strings.ContainsAny(ref, " \t\n") {
		return "", fmt.Errorf("payload/%s holds no image reference; rebuild with 'make build'", ControllerImagePayload)
	}
	return ref, nil
}

// ImagesListPayload names the file listing the images velad passes to
// its charts, one NAME=REF a line (controller, fluxcd-controller), which
// scripts/build-images.sh writes beside the images. Payloads packed on
// their own list theirs in images-<name>.txt beside images-<name>.tar.zst
// (scripts/build-traefik.sh: traefik); Images reads every images*.txt.
const ImagesListPayload = "images.txt"

// Images returns the image references this velad carries for its charts,
// by name (e.g. "fluxcd-controller" →
// docker.io/velad/fluxcd-controller:<appVersion>-<binary hash>), from
// every payload/images*.txt.
func Images() (map[string]string, error) {
	if _, err := payload.ReadFile("payload/" + ImagesListPayload); errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoImages
	}
	lists, err := fs.Glob(payload, "payload/images*.txt")
	if err != nil {
		return nil, err
	}
	refs := map[string]string{}
	for _, name := range lists {
		data, err := payload.ReadFile(name)
		if err != nil {
			return nil, err
		}
		list, err := ParseImageList(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for k, v := range list {
			if _, dup := refs[k]; dup {
				return nil, fmt.Errorf("%s: image %q is listed twice in the payload's image lists", name, k)
			}
			refs[k] = v
		}
	}
	return refs, nil
}

// ImageRef returns the reference of one named image of Images.
func ImageRef(name string) (string, error) {
	refs, err := Images()
	if err != nil {
		return "", err
	}
	ref, ok := refs[name]
	if !ok {
		return "", fmt.Errorf("payload/%s has no image %q; rebuild with 'make build'", ImagesListPayload, name)
	}
	return ref, nil
}

// ParseImageList reads NAME=REF lines; blank lines and # comments are
// skipped.
func ParseImageList(data []byte) (map[string]string, error) {
	refs := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, ref, ok := strings.Cut(line, "=")
		name, ref = strings.TrimSpace(name), strings.TrimSpace(ref)
		if !ok || name == "" || ref == "" || strings.ContainsAny(ref, " \t") {
			return nil, fmt.Errorf("line %d: want NAME=REF, got %q", i+1, line)
		}
		if _, dup := refs[name]; dup {
			return nil, fmt.Errorf("line %d: image %q listed twice", i+1, name)
		}
		refs[name] = ref
	}
	return refs, nil
}

// ErrNoImages means this velad was built without its image payload.
var ErrNoImages = errors.New("this velad binary carries no images; build it with 'make build' (scripts/build-images.sh)")

// ExtractImages decompresses every embedded image archive (docker
// archives) to <dir>/velad-<payload name>-<hash>.tar unless it is there,
// and returns their paths.
func ExtractImages(dir string) ([]string, error) {
	return ExtractImagePayloads(dir, func(string) bool { return true })
}

// ExtractImagePayloads is ExtractImages for the image payloads (file names
// such as ImagesPayload) that want accepts.
func ExtractImagePayloads(dir string, want func(name string) bool) ([]string, error) {
	names, err := imagePayloads()
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, ErrNoImages
	}
	var out []string
	for _, name := range names {
		if !want(name) {
			continue
		}
		p, err := extractImages(dir, name)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// IsImagesExtract tells an archive ExtractImages wrote from one a user
// put into the images folder.
func IsImagesExtract(file string) bool { return strings.HasPrefix(filepath.Base(file), "velad-images") }

func extractImages(dir, name string) (string, error) {
	prefix := "velad-" + strings.TrimSuffix(name, ".tar.zst")
	if hash, ok := payloadHash(name); ok {
		file := filepath.Join(dir, prefix+"-"+hash+".tar")
		if _, err := os.Stat(file); err == nil {
			return file, nil
		}
	}
	data, err := payload.ReadFile("payload/" + name)
	if err != nil {
		return "", err
	}
	defer releasePayloadPages()
	return Decompress(data, dir, prefix)
}

// Decompress writes the zstd data decompressed to <dir>/<prefix>-<hash>.tar
// (hash of the compressed data), atomically, unless it exists.
func Decompress(data []byte, dir, prefix string) (string, error) {
	sum := sha256.Sum256(data)
	path := filepath.Join(dir, prefix+"-"+hex.EncodeToString(sum[:])[:12]+".tar")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	zr, err := zstd.NewReader(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("decompress %s: %w", prefix, err)
	}
	defer zr.Close()
	tmp, err := os.CreateTemp(dir, "."+prefix+"-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, zr); err != nil {
		tmp.Close()
		return "", fmt.Errorf("decompress %s: %w", prefix, err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	// Older extractions of the same payload are removed (12 hex digits:
	// not those of another payload whose name starts with this one's).
	old, _ := filepath.Glob(filepath.Join(dir, prefix+"-????????????.tar"))
	for _, o := range old {
		os.Remove(o)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	return path, nil
}
