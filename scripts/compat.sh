#!/usr/bin/env bash
# Compares `velad dry-run` with KubeVela's own output for KubeVela's own
# examples: the sample in ../shared/compat (or $VELAD_COMPAT_DIR), kept
# outside the repository because it is KubeVela's test data. Prints one
# line per case and "N passed, N failed"; exits non-zero when a case
# differs. Without the sample it says so and exits 0, so CI never needs it.
#
#   scripts/compat.sh [path/to/velad] [-v]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
velad=${1:-$root/bin/velad}
verbose=${2:-}
dir=${VELAD_COMPAT_DIR:-}
if [ -z "$dir" ]; then
	# Beside the checkout, or beside its parent (a worktree under wt/).
	for d in "$root/../shared/compat" "$root/../../shared/compat"; do
		if [ -x "$d/check.sh" ]; then dir=$d; break; fi
	done
	dir=${dir:-$root/../shared/compat}
fi

if [ ! -x "$dir/check.sh" ]; then
	echo "compat: no KubeVela sample at $dir (set VELAD_COMPAT_DIR): skipped"
	exit 0
fi
if [ ! -x "$velad" ]; then
	echo "compat: $velad not built: run make build first" >&2
	exit 1
fi
out=$("$dir/check.sh" "$velad" $verbose)
echo "$out"
# check.sh ends with "N passed, N failed".
case "$(echo "$out" | tail -1)" in
*" passed, 0 failed") exit 0 ;;
*) exit 1 ;;
esac
