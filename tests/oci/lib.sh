#!/usr/bin/env bash
# Shared by tests/oci/podman.sh and tests/oci/containerd.sh (sourced, not run): the runtime and
# gocker lookups, PASS/FAIL bookkeeping, and the checks that a client flow left nothing behind.
# shellcheck disable=SC2034 # the variables set here are read by the scripts that source this.

oci_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
passed=0
failed=0

pass() {
	passed=$((passed + 1))
	echo "PASS $*"
}

fail() {
	failed=$((failed + 1))
	echo "FAIL $*"
}

# check NAME COND_STATUS DETAIL: PASS when the status is 0, FAIL with DETAIL otherwise.
check() {
	if [ "$2" = 0 ]; then pass "$1"; else fail "$1: $3"; fi
}

die() {
	echo "$(basename "$0"): $*" >&2
	exit 2
}

# absolute RUNTIME: the engines exec it from their own working directories.
resolve_runtime() {
	local r=$1
	case $r in
	*/*) r=$(cd "$(dirname "$r")" && pwd)/$(basename "$r") ;;
	*) r=$(command -v "$r") || die "runtime $1 not found on PATH" ;;
	esac
	[ -x "$r" ] || die "$r is not an executable"
	printf '%s\n' "$r"
}

# gocker, for `gocker rootfs busybox`: $GOCKER, else the newest release build, else build one.
# shellcheck disable=SC2012 # ls -t: the newest build; the paths are ours
find_gocker() {
	if [ -n "${GOCKER:-}" ]; then
		[ -x "$GOCKER" ] || die "GOCKER=$GOCKER is not an executable"
		printf '%s\n' "$GOCKER"
		return
	fi
	local target=${CARGO_TARGET_DIR:-$oci_root/target} g
	g=$(ls -t "$target"/*/release/gocker "$target"/release/gocker 2>/dev/null | head -n1 || true)
	if [ -z "$g" ]; then
		(cd "$oci_root" && cargo build --release >&2) || die "cargo build --release failed"
		g=$(ls -t "$target"/*/release/gocker "$target"/release/gocker 2>/dev/null | head -n1 || true)
	fi
	[ -n "$g" ] || die "no gocker binary under $target (set GOCKER)"
	printf '%s\n' "$g"
}

need_root_and() {
	[ "$(id -u)" = 0 ] || die "the engines run containers as root: run as root"
	local p
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 || die "$p not on PATH (apt-get install -y podman containerd runc)"
	done
}

# pids of processes whose command line names DIR (daemons, shims, conmon, cleanup processes).
procs_under() {
	local dir=$1 p cmd
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = "$$" ] && continue
		cmd=$( { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
		case $cmd in *"$dir"*) echo "${p#/proc/}" ;; esac
	done
}

# wait up to $2 seconds for no process to name DIR; 0 when none is left.
wait_procs_gone() {
	local dir=$1 tries=$(($2 * 10))
	while [ -n "$(procs_under "$dir")" ]; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

# mount points at or below DIR, deepest first.
mounts_under() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# cgroup directories named NAME in any hierarchy (v1 controllers and the unified one).
cgroups_named() {
	find /sys/fs/cgroup -maxdepth 3 -type d -name "$1" 2>/dev/null
}

# remove the cgroup trees named NAME (unique to one run), children first: what still runs in them
# (a container whose engine was stopped mid-flow) is killed first, then each dir is rmdir'ed.
remove_cgroups_named() {
	local top pid
	for top in $(cgroups_named "$1"); do
		find "$top" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do
			kill -9 "$pid" 2>/dev/null
		done
	done
	for top in $(cgroups_named "$1"); do
		find "$top" -depth -type d -exec rmdir {} \; 2>/dev/null || true
	done
}
