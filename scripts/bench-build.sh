#!/usr/bin/env bash
# Measures a cold build from a fresh clone (empty Go build cache, modules
# already downloaded) and an incremental rebuild after a one-line change.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$root" "$work/velad"
cd "$work/velad"
export GOCACHE="$work/gocache" CGO_ENABLED=0
start=$(date +%s)
go build -o "$work/velad.bin" ./cmd/velad
cold=$(( $(date +%s) - start ))
echo "var benchMarker = \"$(date +%s%N)\" // a real change: the package object differs" >> version/version.go
start=$(date +%s)
go build -o "$work/velad.bin" ./cmd/velad
incr=$(( $(date +%s) - start ))
size=$(stat -c %s "$work/velad.bin")
echo "cold build (fresh clone, empty build cache): ${cold}s"
echo "incremental rebuild (one-line change):       ${incr}s"
echo "binary size (unstripped):                    $((size / 1024 / 1024)) MB"
