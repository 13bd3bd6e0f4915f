#!/usr/bin/env bash
# Builds every image the cluster needs from Go sources, without Docker,
# into two docker-archives packed for go:embed. Nothing is ever pulled at
# run time.
#
# embedded/assets/payload/images-node.tar.zst: what every node needs before
# its kubelet runs, small so that an agent imports it in a moment (the
# server too, first):
#   docker.io/velad/pause:3.10             cmd/pause (pod sandbox)
#   docker.io/velad/volume-helper:v1       cmd/volume-helper (local-path helper)
#   docker.io/velad/hello:v1               cmd/hello (demo web server of the examples)
# embedded/assets/payload/images.tar.zst: the rest (the server imports it
# before its services start, an agent in the background):
#   docker.io/velad/controller:<tag>       cmd/controller (application controller)
#   docker.io/velad/fluxcd-controller:<tag> cmd/fluxcd-controller (fluxcd addon)
#   docker.io/velad/rollout-controller:<tag> cmd/rollout-controller (rollout addon)
#   docker.io/velad/coredns:1.15.0         scripts/images/coredns (own module)
#   docker.io/velad/local-path-provisioner:v0.0.30
#
# A controller's tag is its chart's appVersion plus the first 12 hex
# digits of its binary's sha256, so a changed controller is a new image
# and `velad install` rolls it out. The references velad passes to charts
# are written to payload/images.txt, one NAME=REF a line (NAME: controller,
# fluxcd-controller, rollout-controller); payload/controller-image keeps the application
# controller's alone.
#
# The binaries are always (incrementally) built; the slow part, packing
# and compressing, is skipped when they and this script are unchanged.
set -euo pipefail

LOCAL_PATH_VERSION=v0.0.30
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/_output/images"
payloads="$root/embedded/assets/payload"
payload="$payloads/images.tar.zst"
node_payload="$payloads/images-node.tar.zst"
# No VCS stamp: a commit that does not change a program must not change
# its image (nor roll out a new controller).
export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false"

mkdir -p "$out/bin" "$payloads"
echo "building image binaries"
(cd "$root" && go build -ldflags '-s -w' -o "$out/bin/" ./cmd/pause ./cmd/hello ./cmd/volume-helper ./cmd/controller ./cmd/fluxcd-controller ./cmd/rollout-controller)
(cd "$root/scripts/images/coredns" && go build -ldflags '-s -w' -o "$out/bin/coredns" .)
(cd "$out" && GOBIN="$out/bin" go install -ldflags '-s -w' "github.com/rancher/local-path-provisioner@$LOCAL_PATH_VERSION")

app_version=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$root/charts/velad-controller/Chart.yaml")
controller_ref="docker.io/velad/controller:$app_version-$(sha256sum "$out/bin/controller" | cut -c1-12)"
# The fluxcd addon's chart (charts/fluxcd) names its appVersion; until it
# exists, 0.1.0.
flux_version=0.1.0
if [ -f "$root/charts/fluxcd/Chart.yaml" ]; then
	flux_version=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$root/charts/fluxcd/Chart.yaml")
fi
flux_ref="docker.io/velad/fluxcd-controller:$flux_version-$(sha256sum "$out/bin/fluxcd-controller" | cut -c1-12)"
rollout_version=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$root/charts/rollout/Chart.yaml")
rollout_ref="docker.io/velad/rollout-controller:$rollout_version-$(sha256sum "$out/bin/rollout-controller" | cut -c1-12)"
images_txt="controller=$controller_ref
fluxcd-controller=$flux_ref
rollout-controller=$rollout_ref"

stamp=$( (cd "$out/bin" && sha256sum pause hello volume-helper controller fluxcd-controller rollout-controller coredns local-path-provisioner;
	echo "$images_txt";
	cd "$root" && cat scripts/build-images.sh scripts/imagebuild/main.go) | sha256sum | cut -c1-16)
if [ -f "$payload" ] && [ -f "$payload.sha256" ] && [ -f "$node_payload" ] && [ -f "$node_payload.sha256" ] &&
	[ -f "$payloads/controller-image" ] &&
	[ "$(cat "$payloads/images.txt" 2>/dev/null)" = "$images_txt" ] &&
	[ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
	exit 0
fi

echo "assembling images"
(cd "$root" && go run ./scripts/imagebuild -o "$out/images-node.tar" \
	-image "docker.io/velad/pause:3.10=$out/bin/pause:/pause:65535" \
	-image "docker.io/velad/volume-helper:v1=$out/bin/volume-helper:/volume-helper:0" \
	-image "docker.io/velad/hello:v1=$out/bin/hello:/hello")
(cd "$root" && go run ./scripts/imagebuild -o "$out/images.tar" \
	-image "$controller_ref=$out/bin/controller:/controller" \
	-image "docker.io/velad/controller:$app_version=$out/bin/controller:/controller" \
	-image "$flux_ref=$out/bin/fluxcd-controller:/fluxcd-controller" \
	-image "$rollout_ref=$out/bin/rollout-controller:/rollout-controller" \
	-image "docker.io/velad/coredns:1.15.0=$out/bin/coredns:/coredns:0" \
	-image "docker.io/velad/local-path-provisioner:$LOCAL_PATH_VERSION=$out/bin/local-path-provisioner:/local-path-provisioner:0")

echo "compressing images (zstd -19, long window)"
for name in images-node images; do
	zstd -q -19 -T0 --long=27 -f "$out/$name.tar" -o "$payloads/$name.tar.zst"
	rm -f "$out/$name.tar"
	sha256sum "$payloads/$name.tar.zst" | cut -c1-12 > "$payloads/$name.tar.zst.sha256"
done
echo "$controller_ref" > "$payloads/controller-image"
echo "$images_txt" > "$payloads/images.txt"
echo "$stamp" > "$out/stamp"
ls -l "$node_payload" "$payload"
