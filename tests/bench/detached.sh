#!/usr/bin/env bash
# tests/bench/detached.sh - the speed targets of detached containers (issue 15, item 7):
#   `gocker run -d` of /bin/true against a foreground `gocker run` of /bin/true (target:
#   no more than 2x), and `gocker ps` / `ps -a` with 100 containers in the store (target:
#   under 50 ms). Prints the medians and the ratio, and beside them the peer that has the
#   same commands: podman driving gocker as its runtime (tests/oci/podman.sh with
#   OCI_PODMAN_BENCH set), when podman is installed.
#
# Usage: tests/bench/detached.sh [--quick]
#        GOCKER_BIN=path/to/gocker tests/bench/detached.sh   (skip the build)
# Times with bash's $EPOCHREALTIME (no process per sample); each sample is one command.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
RUNS=40
N=100
[ "${1:-}" = --quick ] && RUNS=10

if [ "$(id -u)" != 0 ]; then
	echo "detached.sh: must run as root (namespaces, pivot_root, cgroups)" >&2
	exit 1
fi
if [ -z "${GOCKER_BIN:-}" ]; then
	(cd "$REPO_ROOT" && cargo build --release --quiet)
	GOCKER_BIN=$(find "$REPO_ROOT/target" -path '*/release/gocker' -type f | head -n1)
fi
G=$GOCKER_BIN

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gocker-bench-detached.XXXXXX")
STORE="$WORK/store"
cleanup() {
	for id in $("$G" --root "$STORE" ps -aq 2>/dev/null); do
		"$G" --root "$STORE" rm -f "$id" >/dev/null 2>&1 || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
"$G" rootfs busybox "$WORK/rootfs" >/dev/null 2>&1

# usec CMD...: the wall time of one run of CMD, in microseconds (its output discarded).
usec() {
	local t0=$EPOCHREALTIME
	"$@" >/dev/null 2>&1 </dev/null
	local t1=$EPOCHREALTIME
	echo $(((${t1/./} - ${t0/./})))
}

# median of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

ms() { awk -v u="$1" 'BEGIN {printf "%.2f ms", u / 1000}'; }

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
fg=() dt=()
for _ in 1 2 3; do # warm-up: page cache, cgroup parents
	usec "$G" run --rootfs "$WORK/rootfs" /bin/true >/dev/null
	usec "$G" --root "$STORE" run -d --rm --rootfs "$WORK/rootfs" /bin/true >/dev/null
done
for _ in $(seq "$RUNS"); do
	# Interleaved, so that a busy moment of the machine weighs on both alike.
	fg+=("$(usec "$G" run --rootfs "$WORK/rootfs" /bin/true)")
	dt+=("$(usec "$G" --root "$STORE" run -d --rm --rootfs "$WORK/rootfs" /bin/true)")
done
fg_med=$(printf '%s\n' "${fg[@]}" | median)
dt_med=$(printf '%s\n' "${dt[@]}" | median)
fg_min=$(printf '%s\n' "${fg[@]}" | sort -n | head -n1)
dt_min=$(printf '%s\n' "${dt[@]}" | sort -n | head -n1)
# Let the --rm containers finish removing themselves before the store is filled.
for _ in $(seq 100); do
	[ -z "$("$G" --root "$STORE" ps -aq)" ] && break
	sleep 0.05
done

for i in $(seq "$N"); do
	"$G" --root "$STORE" run -d --name "b$i" -m 16m --rootfs "$WORK/rootfs" sleep 600 >/dev/null
done
count=$("$G" --root "$STORE" ps -q | wc -l)
ps_t=() psa_t=()
for _ in $(seq "$RUNS"); do
	ps_t+=("$(usec "$G" --root "$STORE" ps)")
	psa_t+=("$(usec "$G" --root "$STORE" ps -a --format json)")
done
ps_med=$(printf '%s\n' "${ps_t[@]}" | median)
psa_med=$(printf '%s\n' "${psa_t[@]}" | median)

echo "runs: $RUNS each, interleaved (median; fastest); load before: $LOAD"
echo "gocker run /bin/true (foreground):   $(ms "$fg_med"); $(ms "$fg_min")"
echo "gocker run -d --rm /bin/true:        $(ms "$dt_med"); $(ms "$dt_min")"
awk -v a="$dt_med" -v b="$fg_med" -v c="$dt_min" -v d="$fg_min" \
	'BEGIN {printf "ratio run -d / run:                 %.2fx; %.2fx (target <= 2x)\n", a / b, c / d}'
echo "gocker ps, $count containers:         $(ms "$ps_med") (target < 50 ms)"
echo "gocker ps -a --format json:          $(ms "$psa_med")"

# The peer: podman with gocker as its runtime, the same two commands (its private store and
# configuration are tests/oci/podman.sh's, which also checks that nothing is left).
if command -v podman >/dev/null 2>&1 && command -v conmon >/dev/null 2>&1; then
	peer=$(OCI_PODMAN_BENCH="$RUNS" bash "$REPO_ROOT/tests/oci/podman.sh" "$G" 2>&1 | grep '^BENCH ' || true)
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		what=${line#BENCH }
		echo "${what%: *}: $(ms "${what##*: }")"
	done <<<"$peer"
	[ -n "$peer" ] || echo "podman peer: no numbers (see: OCI_PODMAN_BENCH=1 bash tests/oci/podman.sh $G)"
else
	echo "podman peer: podman or conmon not installed"
fi
