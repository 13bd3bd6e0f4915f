#!/bin/sh
# Regenerates the deepcopy functions and CRD manifests of controller/api:
#   controller/api/v1beta1/zz_generated.deepcopy.go
#   charts/velad-controller/crds/core.oam.dev_*.yaml
# and the CRDs of the fluxcd addon's controller, from Flux's API packages
# (operators/fluxcd/api; no descriptions), with older apiVersions served
# on the current schema (scripts/crdversions):
#   charts/fluxcd/crds/helm.toolkit.fluxcd.io_helmreleases.yaml
#   charts/fluxcd/crds/source.toolkit.fluxcd.io_helmrepositories.yaml
# and the rollout addon's Rollout CRD from operators/rollout/api:
#   charts/rollout/crds/rollouts.kruise.io_rollouts.yaml (v1beta1 stored, v1alpha1
#   served through the controller's conversion webhook)
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

flux=$(mktemp -d)
trap 'rm -rf "$flux"' EXIT
"$GEN" crd:maxDescLen=0 \
	paths=github.com/fluxcd/source-controller/api/v1 \
	paths=github.com/fluxcd/helm-controller/api/v2 \
	output:crd:artifacts:config="$flux"
mkdir -p charts/fluxcd/crds
for crd in helm.toolkit.fluxcd.io_helmreleases source.toolkit.fluxcd.io_helmrepositories; do
	cp "$flux/$crd.yaml" charts/fluxcd/crds/
done
go run ./scripts/crdversions -f charts/fluxcd/crds/helm.toolkit.fluxcd.io_helmreleases.yaml v2beta2 v2beta1
go run ./scripts/crdversions -f charts/fluxcd/crds/source.toolkit.fluxcd.io_helmrepositories.yaml v1beta2 v1beta1

# The rollout addon's controller: Kruise Rollout's API (operators/rollout/api).
"$GEN" object paths=./operators/rollout/api/...
"$GEN" crd:maxDescLen=0 paths=./operators/rollout/api/... output:crd:artifacts:config=charts/rollout/crds
# v1alpha1 is served, v1beta1 stored; the rollout controller converts
# (its /convert webhook behind the Service the chart makes; the controller
# puts its CA into caBundle as it starts).
crd=charts/rollout/crds/rollouts.kruise.io_rollouts.yaml
awk '{print} /^spec:$/ && !done {
	print "  conversion:"
	print "    strategy: Webhook"
	print "    webhook:"
	print "      clientConfig:"
	print "        service:"
	print "          name: rollout-controller-webhook"
	print "          namespace: vela-system"
	print "          path: /convert"
	print "          port: 443"
	print "      conversionReviewVersions:"
	print "      - v1"
	done = 1
}' "$crd" >"$crd.tmp" && mv "$crd.tmp" "$crd"
gofmt -w operators/rollout/api
