#!/bin/sh
# Regenerates deepcopy functions and CRD manifests for controller/api.
# Usage: scripts/generate.sh   (from anywhere inside the repository)
set -eu
CONTROLLER_GEN_VERSION=v0.23.0
cd "$(dirname "$0")/.."
gen() { go run "sigs.k8s.io/controller-tools/cmd/controller-gen@${CONTROLLER_GEN_VERSION}" "$@"; }
gen object paths=./controller/api/...
rm -f charts/velad-controller/crds/*.yaml
gen crd paths=./controller/api/... output:crd:artifacts:config=charts/velad-controller/crds
gofmt -w controller/api
