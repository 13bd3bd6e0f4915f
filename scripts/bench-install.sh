#!/usr/bin/env bash
# Measures, on this machine (root): `velad install` until the node is Ready,
# CoreDNS and storage are available, the application controller and its
# definitions are ready and every default addon is enabled and ready
# (median of 3, uninstall between; INSTALL_ARGS=--cluster-only measures
# without the controller and addons, INSTALL_ARGS="--disable-addon fluxcd"
# without that addon), the idle RSS of velad + containerd + shims + pods
# after 2 minutes and each enabled addon's share (its pods' processes), and
# the binary size. Uses a temporary data dir; leaves nothing behind. Holds
# the host lock the e2e tests hold (it waits while one installs velad).
set -euo pipefail
exec 9>/run/lock/velad-e2e-host.lock
flock 9
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
addon_steps=()
for i in $(seq "$runs"); do
	start=$(date +%s.%N)
	# shellcheck disable=SC2086
	"$bin" install --data-dir "$data" -o "$kc" ${INSTALL_ARGS:-} >"$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }
	end=$(date +%s.%N)
	times+=("$(echo "$end - $start" | bc)")
	# The addon step's own time, as install printed it ("✓ Enabling … (8.1s)").
	addon_step=$(sed -n 's/^✓ \(Enabling the default addons.*\)$/\1/p' "$work/install.log")
	[ -z "$addon_step" ] || addon_steps+=("$addon_step")
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

# Each enabled addon's share: the processes of the pods in its namespace
# (found by the pod UID in their cgroup path).
addon_lines=()
if [ -f "$kc" ] && addons=$("$bin" addon list -o json --kubeconfig "$kc" 2>/dev/null); then
	for name in $(echo "$addons" | python3 -c 'import json,sys; print(" ".join(a["name"] for a in json.load(sys.stdin) if a["enabled"]))'); do
		ns=$("$bin" addon status "$name" -o json --kubeconfig "$kc" | python3 -c 'import json,sys; print(json.load(sys.stdin)["namespace"])')
		uids=$("$bin" kubectl --kubeconfig "$kc" get pods -n "$ns" -o jsonpath='{.items[*].metadata.uid}')
		kb_sum=0
		for p in $all; do
			cg=$(cat "/proc/$p/cgroup" 2>/dev/null || true)
			for uid in $uids; do
				if [[ "$cg" == *"pod$uid"* || "$cg" == *"pod${uid//-/_}"* ]]; then
					kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
					kb_sum=$((kb_sum + ${kb:-0}))
				fi
			done
		done
		addon_lines+=("$(printf '  addon %s (namespace %s): %d MB' "$name" "$ns" $((kb_sum / 1024)))")
	done
fi

sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p")
printf 'velad install %suntil ready, median of %d: %.1fs (runs: %s)\n' "${INSTALL_ARGS:+$INSTALL_ARGS }" "$runs" "$median" "$(printf '%.1fs ' "${times[@]}")"
printf 'idle RSS after %ds (velad + containerd + shims + pods, %d processes): %d MB\n' "$idle" "$count" $((rss / 1024))
for l in "${addon_steps[@]}"; do echo "  of which: $l"; done
for l in "${addon_lines[@]}"; do echo "$l"; done
printf 'binary size: %d MB\n' $(( $(stat -c %s "$bin") / 1024 / 1024 ))
