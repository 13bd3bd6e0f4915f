#!/usr/bin/env bash
# Builds Traefik from its Go module source into the image
# docker.io/velad/traefik:<version>, packed on its own as
# embedded/assets/payload/images-traefik.tar.zst for go:embed (so a change
# to velad never recompresses it, and it never recompresses velad's images).
#
# Traefik's go.mod has replace directives, so `go install …@version`
# refuses it: the module source is copied out of the module cache and
# built as the main module. The checksum database does not answer for
# Traefik's dependencies, so every hash the build uses is pinned in
# scripts/images/traefik/go.sum (committed), the Traefik module itself
# included, and the build runs with -mod=readonly against that file: a
# module whose content differs from its pin fails the build.
#
#   scripts/build-traefik.sh          build (cached: a second run does nothing)
#   scripts/build-traefik.sh --pin    re-resolve and rewrite the pins (new version)
#
# The binary is cached in _output/traefik/<version>/ keyed by the version,
# the pins and the build flags; the payload by the binary's hash.
set -euo pipefail

TRAEFIK_VERSION=v3.6.0
MODULE=github.com/traefik/traefik/v3

root=$(cd "$(dirname "$0")/.." && pwd)
pins="$root/scripts/images/traefik/go.sum"
out="$root/_output/traefik/$TRAEFIK_VERSION"
payload="$root/embedded/assets/payload/images-traefik.tar.zst"
# The reference the ingress addon's chart is given (addons/ingress/addon.yaml
# images: traefik), listed beside the payload like payload/images.txt.
list="$root/embedded/assets/payload/images-traefik.txt"
ref="docker.io/velad/traefik:$TRAEFIK_VERSION"
ldflags="-s -w -X $MODULE/pkg/version.Version=$TRAEFIK_VERSION -X $MODULE/pkg/version.BuildDate=velad"
export CGO_ENABLED=0 GOSUMDB=off GOFLAGS="-trimpath -buildvcs=false"

# fetch_source copies Traefik's module source to $out/src (writable) and
# prints the module's hash as the proxy served it.
fetch_source() {
	local json dir sum
	json=$(cd "$out" && go mod download -json "$MODULE@$TRAEFIK_VERSION")
	dir=$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' <<<"$json")
	sum=$(sed -n 's/^\t"Sum": "\(.*\)",$/\1/p' <<<"$json")
	[ -n "$dir" ] && [ -n "$sum" ] || { echo "go mod download $MODULE@$TRAEFIK_VERSION: $json" >&2; return 1; }
	rm -rf "$out/src"
	cp -r "$dir" "$out/src"
	chmod -R u+w "$out/src"
	echo "$sum"
}

mkdir -p "$out"
if [ "${1:-}" = --pin ]; then
	sum=$(fetch_source)
	(cd "$out/src" && GOFLAGS="$GOFLAGS -mod=mod" go mod download all >/dev/null &&
		GOFLAGS="$GOFLAGS -mod=mod" go build -o /dev/null ./cmd/traefik)
	mkdir -p "$(dirname "$pins")"
	{ echo "$MODULE $TRAEFIK_VERSION $sum"; cat "$out/src/go.sum"; } >"$pins"
	echo "pinned $(wc -l <"$pins") hashes in ${pins#"$root/"}"
	exit 0
fi

[ -f "$pins" ] || { echo "no pins in $pins: run $0 --pin" >&2; exit 1; }
# pinned MODULE VERSION: the h1: hash of a module's content in the pins.
pinned() { awk -v m="$1" -v v="$2" '$1 == m && $2 == v {print $3}' "$pins"; }
want=$(pinned "$MODULE" "$TRAEFIK_VERSION")
[ -n "$want" ] || { echo "$pins pins no $MODULE $TRAEFIK_VERSION: run $0 --pin" >&2; exit 1; }

# The Gateway API CRDs (standard channel) of the version Traefik is built
# with, from that module's source, into the ingress chart (generated,
# ignored by git). Cheap: the module cache holds it after the first run.
gw=$(awk '$1 == "sigs.k8s.io/gateway-api" {print $2}' "$(cd "$out" && go mod download -json "$MODULE@$TRAEFIK_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')")
[ -n "$gw" ] || { echo "cannot tell which Gateway API $MODULE $TRAEFIK_VERSION uses" >&2; exit 1; }
gwjson=$(cd "$out" && go mod download -json "sigs.k8s.io/gateway-api@$gw")
gwsum=$(sed -n 's/^\t"Sum": "\(.*\)",$/\1/p' <<<"$gwjson")
if [ "$gwsum" != "$(pinned sigs.k8s.io/gateway-api "$gw")" ]; then
	echo "sigs.k8s.io/gateway-api $gw: module hash $gwsum differs from its pin" >&2
	exit 1
fi
gwdir=$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' <<<"$gwjson")/config/crd/standard
crds="$root/charts/ingress/crds"
mkdir -p "$crds"
for f in "$gwdir"/gateway.networking.k8s.io_*.yaml; do
	cmp -s "$f" "$crds/${f##*/}" || install -m 0644 "$f" "$crds/${f##*/}"
done
stamp=$( (echo "$TRAEFIK_VERSION $ldflags"; cat "$pins") | sha256sum | cut -c1-16)

if ! [ -x "$out/traefik" ] || [ "$(cat "$out/stamp" 2>/dev/null)" != "$stamp" ]; then
	echo "building Traefik $TRAEFIK_VERSION from its module source (once; several minutes)"
	rm -f "$out/traefik" "$out/stamp"
	got=$(fetch_source)
	if [ "$got" != "$want" ]; then
		echo "$MODULE $TRAEFIK_VERSION: module hash $got, pinned $want" >&2
		exit 1
	fi
	cp "$pins" "$out/src/go.sum"
	(cd "$out/src" && GOFLAGS="$GOFLAGS -mod=readonly" go build -ldflags "$ldflags" -o "$out/traefik" ./cmd/traefik)
	# Read the whole output first: `| grep -q` would stop reading at the
	# match, and with pipefail Traefik's SIGPIPE on its next line fails the check.
	reported=$("$out/traefik" version 2>&1) || { echo "built traefik fails to run: $reported" >&2; exit 1; }
	case "$reported" in
	*"$TRAEFIK_VERSION"*) ;;
	*) echo "built traefik does not report $TRAEFIK_VERSION: $reported" >&2; exit 1 ;;
	esac
	rm -rf "$out/src"
	echo "$stamp" >"$out/stamp"
fi

# The payload: one image, its own compressed file.
pstamp=$( (sha256sum <"$out/traefik"; echo "$ref"; cat "$root/scripts/imagebuild/main.go") | sha256sum | cut -c1-16)
echo "traefik=$ref" >"$list.tmp" && mv "$list.tmp" "$list"
if [ -f "$payload" ] && [ -f "$payload.sha256" ] && [ "$(cat "$out/payload-stamp" 2>/dev/null)" = "$pstamp" ]; then
	exit 0
fi
echo "packing $ref"
mkdir -p "$(dirname "$payload")"
(cd "$root" && go run ./scripts/imagebuild -o "$out/image.tar" -image "$ref=$out/traefik:/traefik")
zstd -q -19 -T0 --long=27 -f "$out/image.tar" -o "$payload"
rm -f "$out/image.tar"
sha256sum "$payload" | cut -c1-12 >"$payload.sha256"
echo "$pstamp" >"$out/payload-stamp"
ls -l "$payload"
