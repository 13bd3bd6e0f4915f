#!/bin/sh
# Regenerates the deepcopy functions and CRD manifests of controller/api:
#   controller/api/v1beta1/zz_generated.deepcopy.go
#   charts/velad-controller/crds/core.oam.dev_*.yaml
# Usage: scripts/generate.sh   (from anywhere inside the repository)
#
# controller-gen is built once into .bin/ (ignored by git). The module
# cache is consulted before the network, so after the first fetch this
# works offline.
set -eu
CONTROLLER_GEN_VERSION=v0.23.0
cd "$(dirname "$0")/.."
BIN="$PWD/.bin"
GEN="$BIN/controller-gen-$CONTROLLER_GEN_VERSION"
if [ ! -x "$GEN" ]; then
	mkdir -p "$BIN"
	tmp=$(mktemp -d)
	GOBIN="$tmp" GOFLAGS=-buildvcs=false \
		GOPROXY="file://$(go env GOMODCACHE)/cache/download,$(go env GOPROXY)" \
		go install "sigs.k8s.io/controller-tools/cmd/controller-gen@$CONTROLLER_GEN_VERSION"
	mv "$tmp/controller-gen" "$GEN"
	rmdir "$tmp"
fi
"$GEN" object paths=./controller/api/...
rm -f charts/velad-controller/crds/core.oam.dev_*.yaml
"$GEN" crd paths=./controller/api/... output:crd:artifacts:config=charts/velad-controller/crds
gofmt -w controller/api
