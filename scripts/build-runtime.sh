#!/usr/bin/env bash
# Builds the runtime binaries velad carries, each in its own module graph
# (containerd cannot link beside Kubernetes v1.36), and packs them into
# embedded/assets/payload/runtime.tar.zst for go:embed.
#
#   containerd, containerd-shim-runc-v2, ctr (image import)   (pure Go)
#   runc                                  (cgo + static libseccomp: seccomp on)
#   CNI plugins bridge host-local loopback portmap (pure Go)
#
# Results are cached in _output/runtime keyed by the versions below; a
# second run with the same versions does nothing.
set -euo pipefail

CONTAINERD_VERSION=v2.4.2
RUNC_VERSION=v1.5.2
CNI_PLUGINS_VERSION=v1.9.1

root=$(cd "$(dirname "$0")/.." && pwd)
stamp="containerd-$CONTAINERD_VERSION+ctr runc-$RUNC_VERSION cni-$CNI_PLUGINS_VERSION zstd-long27"
out="$root/_output/runtime"
bin="$out/bin"
payload="$root/embedded/assets/payload/runtime.tar.zst"

if [ -f "$payload" ] && [ -f "$payload.sha256" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
	exit 0
fi
rm -rf "$out"
mkdir -p "$bin"
export GOBIN="$bin" GOFLAGS=-trimpath
cd "$out" # outside velad's module: each tool builds with its own go.mod

echo "building containerd $CONTAINERD_VERSION"
CGO_ENABLED=0 go install -ldflags '-s -w' \
	"github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD_VERSION" \
	"github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" \
	"github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD_VERSION"

echo "building runc $RUNC_VERSION (seccomp)"
if ! [ -f /usr/include/seccomp.h ]; then
	echo "runc needs libseccomp-dev: run scripts/setup-debian.sh" >&2
	exit 1
fi
CGO_ENABLED=1 go install -tags "seccomp netgo osusergo" \
	-ldflags '-s -w -extldflags "-static"' "github.com/opencontainers/runc@$RUNC_VERSION"

echo "building CNI plugins $CNI_PLUGINS_VERSION"
CGO_ENABLED=0 go install -ldflags '-s -w' \
	"github.com/containernetworking/plugins/plugins/main/bridge@$CNI_PLUGINS_VERSION" \
	"github.com/containernetworking/plugins/plugins/main/loopback@$CNI_PLUGINS_VERSION" \
	"github.com/containernetworking/plugins/plugins/ipam/host-local@$CNI_PLUGINS_VERSION" \
	"github.com/containernetworking/plugins/plugins/meta/portmap@$CNI_PLUGINS_VERSION"

# Whole output first: `| grep -q` under pipefail can fail on runc's SIGPIPE.
features=$("$bin/runc" features)
case "$features" in
*'"enabled": true'*) ;;
*) echo "runc was built without seccomp" >&2; exit 1 ;;
esac

tar -C "$bin" --sort=name --mtime=@0 --owner=0 --group=0 -cf - . | zstd -q -19 -T0 --long=27 -f -o "$payload"
# The hash names the extraction folder; velad reads it instead of hashing
# (and so paging in) the whole payload at every start.
sha256sum "$payload" | cut -c1-12 > "$payload.sha256"
echo "$stamp" > "$out/stamp"
ls -l "$payload"
