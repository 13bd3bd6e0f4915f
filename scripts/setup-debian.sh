#!/usr/bin/env bash
# Installs what building velad needs on a fresh Debian machine (as root),
# skipping what is already there. Go >= 1.26 must be installed (the
# machine's /usr/local/go); everything else comes from Debian packages.
set -euo pipefail

need=()
for tool in make git; do
	command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
if [ "${#need[@]}" -gt 0 ]; then
	echo "installing Debian packages: ${need[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null 2>&1; then
	echo "Go is not installed: velad needs Go 1.26 or newer at /usr/local/go or on PATH" >&2
	exit 1
fi
minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
if [ "$minor" -lt 26 ]; then
	echo "velad needs Go 1.26 or newer; found $(go env GOVERSION)" >&2
	exit 1
fi
