#!/usr/bin/env bash
# Builds every image the cluster needs from Go sources, without Docker,
# into one docker-archive, packed as embedded/assets/payload/images.tar.zst
# for go:embed. Nothing is ever pulled at run time.
#
#   docker.io/velad/pause:3.10             cmd/pause (pod sandbox)
#   docker.io/velad/hello:v1               cmd/hello (demo web server)
#   docker.io/velad/volume-helper:v1       cmd/volume-helper (local-path helper)
#   docker.io/velad/coredns:1.15.0         scripts/images/coredns (own module)
#   docker.io/velad/local-path-provisioner:v0.0.30
#
# Cached in _output/images by a hash of the inputs.
set -euo pipefail

LOCAL_PATH_VERSION=v0.0.30
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/_output/images"
payload="$root/embedded/assets/payload/images.tar.zst"
export CGO_ENABLED=0 GOFLAGS=-trimpath

inputs=$(cd "$root" && cat scripts/build-images.sh scripts/imagebuild/main.go cmd/pause/*.go cmd/hello/*.go \
	cmd/volume-helper/main.go scripts/images/coredns/go.mod scripts/images/coredns/main.go | sha256sum | cut -c1-16)
if [ -f "$payload" ] && [ -f "$payload.sha256" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$inputs" ]; then
	exit 0
fi
rm -rf "$out"
mkdir -p "$out/bin"

echo "building image binaries"
(cd "$root" && go build -ldflags '-s -w' -o "$out/bin/" ./cmd/pause ./cmd/hello ./cmd/volume-helper)
(cd "$root/scripts/images/coredns" && go build -ldflags '-s -w' -o "$out/bin/coredns" .)
(cd "$out" && GOBIN="$out/bin" go install -ldflags '-s -w' "github.com/rancher/local-path-provisioner@$LOCAL_PATH_VERSION")

echo "assembling images"
(cd "$root" && go run ./scripts/imagebuild -o "$out/images.tar" \
	-image "docker.io/velad/pause:3.10=$out/bin/pause:/pause:65535" \
	-image "docker.io/velad/hello:v1=$out/bin/hello:/hello" \
	-image "docker.io/velad/volume-helper:v1=$out/bin/volume-helper:/volume-helper:0" \
	-image "docker.io/velad/coredns:1.15.0=$out/bin/coredns:/coredns:0" \
	-image "docker.io/velad/local-path-provisioner:$LOCAL_PATH_VERSION=$out/bin/local-path-provisioner:/local-path-provisioner:0")

zstd -q -19 -T0 -f "$out/images.tar" -o "$payload"
sha256sum "$payload" | cut -c1-12 > "$payload.sha256"
echo "$inputs" > "$out/stamp"
ls -l "$payload"
