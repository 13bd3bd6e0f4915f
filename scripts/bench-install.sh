#!/usr/bin/env bash
# Measures, on this machine (root): `velad install` until the node is Ready,
# CoreDNS and storage are available and the application controller and its
# definitions are ready (median of 3, uninstall between; INSTALL_ARGS=
# --cluster-only measures without the controller),
# the idle RSS of velad + containerd + shims + system pods after 2 minutes,
# and the binary size. Uses a temporary data dir; leaves nothing behind.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/bin/velad"
runs=${RUNS:-3}
idle=${IDLE_SECONDS:-120}
work=$(mktemp -d)
data="$work/data"
kc="$work/kubeconfig.yaml"
cleanup() { "$bin" uninstall --data-dir "$data" -o "$kc" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

times=()
for i in $(seq "$runs"); do
	start=$(date +%s.%N)
	# shellcheck disable=SC2086
	"$bin" install --data-dir "$data" -o "$kc" ${INSTALL_ARGS:-} >"$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }
	end=$(date +%s.%N)
	times+=("$(echo "$end - $start" | bc)")
	if [ "$i" -lt "$runs" ]; then
		"$bin" uninstall --data-dir "$data" -o "$kc" >/dev/null
	fi
done

sleep "$idle"
# velad (supervisor + server), containerd and shims, and every process below the shims (pods).
pids=$(ps -eo pid=,args= | awk -v d="$data" '$0 ~ /velad (supervise|server)/ || index($0, d) {print $1}')
all=$(for p in $pids; do echo "$p"; pgrep -P "$p" || true; done | sort -u)
# walk descendants of shims
for _ in 1 2 3; do
	all=$(for p in $all; do echo "$p"; pgrep -P "$p" || true; done | sort -u)
done
rss=0
count=0
for p in $all; do
	kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
	[ -n "$kb" ] || continue
	count=$((count + 1))
	rss=$((rss + kb))
	printf '  %8d kB  %s\n' "$kb" "$(tr '\0' ' ' < "/proc/$p/cmdline" | tr '\n\t' '  ' | cut -c1-100)"
done

sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p")
printf 'velad install %suntil ready, median of %d: %.1fs (runs: %s)\n' "${INSTALL_ARGS:+$INSTALL_ARGS }" "$runs" "$median" "$(printf '%.1fs ' "${times[@]}")"
printf 'idle RSS after %ds (velad + containerd + shims + pods, %d processes): %d MB\n' "$idle" "$count" $((rss / 1024))
printf 'binary size: %d MB\n' $(( $(stat -c %s "$bin") / 1024 / 1024 ))
