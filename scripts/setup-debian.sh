#!/usr/bin/env bash
# Installs what building and running velad needs on a fresh Debian machine
# (as root), skipping what is already there. Go >= 1.26 must be installed
# (the machine's /usr/local/go); everything else comes from Debian packages:
#   make git           build
#   gcc libc6-dev libseccomp-dev pkg-config   runc with seccomp (static cgo)
#   zstd               packing the embedded runtime payload
#   iptables           the node's service and pod networking
set -euo pipefail

packages=(make git gcc libc6-dev libseccomp-dev pkg-config zstd iptables)
need=()
for p in "${packages[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
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
