// Command imagebuild turns static binaries into container images without
// Docker: one layer holding the binary, a config with its entrypoint,
// written as a docker-archive tarball that containerd imports. Layers are
// stored uncompressed (as `docker save` does): the whole archive is then
// compressed once with a long zstd window, which finds what the binaries
// share and makes the payload about half the size of gzipped layers.
//
//	go run ./scripts/imagebuild -o images.tar \
//	  -image docker.io/velad/pause:3.10=/tmp/pause:/pause \
//	  -image docker.io/velad/hello:v1=/tmp/hello:/hello
//
// Each -image is REF=BINARY:PATH_IN_IMAGE[:USER].
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type imageFlags []string

func (f *imageFlags) String() string     { return strings.Join(*f, ",") }
func (f *imageFlags) Set(s string) error { *f = append(*f, s); return nil }

func main() {
	var images imageFlags
	out := flag.String("o", "images.tar", "output docker-archive tarball")
	flag.Var(&images, "image", "REF=BINARY:PATH[:USER] (repeatable)")
	flag.Parse()
	if err := run(*out, images); err != nil {
		fmt.Fprintln(os.Stderr, "imagebuild:", err)
		os.Exit(1)
	}
}

func run(out string, specs []string) error {
	refs := map[name.Reference]v1.Image{}
	for _, spec := range specs {
		ref, img, err := build(spec)
		if err != nil {
			return fmt.Errorf("image %q: %w", spec, err)
		}
		refs[ref] = img
	}
	return tarball.MultiRefWriteToFile(out, refs)
}

func build(spec string) (name.Reference, v1.Image, error) {
	refStr, rest, ok := strings.Cut(spec, "=")
	if !ok {
		return nil, nil, fmt.Errorf("want REF=BINARY:PATH[:USER]")
	}
	parts := strings.Split(rest, ":")
	if len(parts) < 2 {
		return nil, nil, fmt.Errorf("want REF=BINARY:PATH[:USER]")
	}
	binary, path := parts[0], parts[1]
	user := "65532"
	if len(parts) > 2 {
		user = parts[2]
	}
	ref, err := name.ParseReference(refStr)
	if err != nil {
		return nil, nil, err
	}
	data, err := os.ReadFile(binary)
	if err != nil {
		return nil, nil, err
	}
	layerTar, err := singleFileTar(strings.TrimPrefix(path, "/"), data)
	if err != nil {
		return nil, nil, err
	}
	layer := static.NewLayer(layerTar, types.DockerUncompressedLayer)
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	cfg.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cfg.Config.Entrypoint = []string{path}
	cfg.Config.User = user
	cfg.Config.Env = []string{"PATH=/"}
	img, err = mutate.ConfigFile(img, cfg)
	return ref, img, err
}

// singleFileTar is a layer with one executable file (and its folders).
func singleFileTar(path string, data []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := strings.Split(path, "/")
	for i := 1; i < len(dirs); i++ {
		if err := tw.WriteHeader(&tar.Header{Name: strings.Join(dirs[:i], "/") + "/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: path, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(data))}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
