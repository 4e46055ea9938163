#!/usr/bin/env bash
# tests/bench/run.sh - gocker's start-up benchmark.
#
# Times, in ONE hyperfine run so that the ratios hold on a noisy machine:
#   floor (tests/bench/floor.c), with and without --cgroup
#   gocker run, with and without --cpus/-m
#   the script rendered by `gocker emit-script`, and tests/bench/hand.sh
#   crun, runc, bwrap, and plain `unshare ... chroot`
#   the OCI lifecycle (create + start + wait + delete) of one bundle: gocker, runc, crun
#   `gocker emit-script` itself (render time)
# then peak RSS (/usr/bin/time -v) and throughput (N containers one after
# the other, and N started at once).  See tests/bench/README.md.
#
# Usage: tests/bench/run.sh [--quick] [--out DIR] [--keep]
#        GOCKER_BIN=path/to/gocker tests/bench/run.sh ...   (skip the build)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

QUICK=0
KEEP=0
OUT_DIR="$REPO_ROOT/target/bench"

usage() {
	sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	cat <<'EOF'

Options:
  --quick     fewer runs (for a smoke test; numbers are noisier)
  --out DIR   where to put results.md, hyperfine-N.json and logs
              (default: <repo>/target/bench)
  --keep      keep the temporary work dir (rootfs, bundle, floor binary)
EOF
}

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--keep) KEEP=1 ;;
	--out)
		[ $# -ge 2 ] || { echo "run.sh: --out needs a directory" >&2; exit 2; }
		OUT_DIR=$2
		shift
		;;
	--out=*) OUT_DIR=${1#--out=} ;;
	-h | --help) usage; exit 0 ;;
	*) echo "run.sh: unknown option: $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

if [ "$QUICK" = 1 ]; then
	WARMUP=3
	RUNS=15
	ROUNDS=2
	TPUT_N=20
	RSS_N=3
else
	WARMUP=10
	RUNS=60
	ROUNDS=5
	TPUT_N=100
	RSS_N=5
fi

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'run.sh: warning: %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
	echo "run.sh: must run as root (namespaces, pivot_root, cgroups)" >&2
	exit 1
fi

mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
LOG="$OUT_DIR/run.log"
: >"$LOG"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gocker-bench.XXXXXX")
cleanup() {
	if [ "$KEEP" = 1 ]; then
		log "kept work dir $WORK"
	else
		rm -rf --one-file-system "$WORK" 2>/dev/null || warn "could not remove $WORK"
	fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- tools
APT_UPDATED=0
apt_install() {
	command -v apt-get >/dev/null 2>&1 || return 1
	if [ "$APT_UPDATED" = 0 ]; then
		apt-get update >>"$LOG" 2>&1 || true
		APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >>"$LOG" 2>&1
}

# need COMMAND PACKAGE: install PACKAGE if COMMAND is missing.
need() {
	if ! command -v "$1" >/dev/null 2>&1; then
		log "installing $2 (for $1)"
		apt_install "$2" || warn "could not install $2"
	fi
}

need hyperfine hyperfine
need python3 python3
need cc gcc
need unshare util-linux
need busybox busybox-static
need crun crun
need runc runc
need bwrap bubblewrap
[ -x /usr/bin/time ] || { log "installing time"; apt_install time || warn "could not install time"; }

for t in hyperfine python3 cc unshare; do
	command -v "$t" >/dev/null 2>&1 || { echo "run.sh: $t is required" >&2; exit 1; }
done

HF_SHELL=(-N)
if ! hyperfine --help 2>/dev/null | grep -q -- '--shell=none'; then
	HF_SHELL=() # old hyperfine: commands go through sh (its cost is subtracted)
fi

# Quote a word for hyperfine's command line (parsed shell-style).
q() {
	case "$1" in
	'' | *[!A-Za-z0-9_./=:,+@%-]*) printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
	*) printf '%s' "$1" ;;
	esac
}
qcmd() {
	local out="" w
	for w in "$@"; do out+="${out:+ }$(q "$w")"; done
	printf '%s' "$out"
}

# Run "$@" in a private mount namespace where the cgroup2 hierarchy of a
# hybrid setup (/sys/fs/cgroup/unified, no controllers) is unmounted: crun
# refuses to run on hybrid cgroups otherwise.  All the measured commands run
# in the same namespace, so no one pays for a per-run wrapper.
in_ns() {
	unshare --mount --propagation private sh -c '
		if grep -qs " /sys/fs/cgroup/unified cgroup2 " /proc/self/mounts; then
			umount /sys/fs/cgroup/unified || exit 125
		fi
		exec "$@"' bench-ns "$@"
}

# ---------------------------------------------------------------- candidates
# Parallel arrays: key, display name, command (argv words, \x1f-joined),
# status ("ok" or why not).
KEYS=()
declare -A NAME CMD STATUS

add() { # add KEY "display name" ARGV...
	local key=$1 name=$2
	shift 2
	KEYS+=("$key")
	NAME[$key]=$name
	CMD[$key]=$(printf '%s\x1f' "$@")
	STATUS[$key]=pending
}
mark() { # mark KEY "display name" "reason": listed, not measured
	add "$1" "$2"
	STATUS[$1]=$3
}
argv_of() { # argv_of KEY -> sets ARGV
	local s=${CMD[$1]}
	ARGV=()
	while [ -n "$s" ]; do
		ARGV+=("${s%%$'\x1f'*}")
		s=${s#*$'\x1f'}
	done
}

# Run a command once in the bench namespace; log it; PROBE_OUT, PROBE_RC.
probe_argv() {
	PROBE_RC=0
	PROBE_OUT=$(in_ns timeout 30 "$@" 2>&1 </dev/null) || PROBE_RC=$?
	printf -- '--- probe (rc=%s): %s\n%s\n' "$PROBE_RC" "$(qcmd "$@")" "$PROBE_OUT" >>"$LOG"
	[ "$PROBE_RC" = 0 ]
}

# Run one candidate once and record whether it works.
probe() {
	local key=$1
	[ "${STATUS[$key]}" = pending ] || return 0
	argv_of "$key"
	if probe_argv "${ARGV[@]}"; then
		STATUS[$key]=ok
	else
		STATUS[$key]="failed (exit $PROBE_RC): $(printf '%s' "$PROBE_OUT" | tr '\n' ' ' | cut -c1-120)"
	fi
}

# ---------------------------------------------------------------- build
log "building floor"
FLOOR="$WORK/floor"
if ! cc -O2 -Wall -o "$FLOOR" "$SCRIPT_DIR/floor.c" >>"$LOG" 2>&1; then
	echo "run.sh: could not compile floor.c (see $LOG)" >&2
	exit 1
fi

GOCKER_STATUS=ok
if [ -n "${GOCKER_BIN:-}" ]; then
	# Benchmark a given binary instead of building one.
	GOCKER=$GOCKER_BIN
	log "gocker: using GOCKER_BIN=$GOCKER"
	[ -x "$GOCKER" ] || GOCKER_STATUS="missing: GOCKER_BIN=$GOCKER is not executable"
else
	# .cargo/config.toml builds for the host tuple: binaries land in target/<host>/.
	GOCKER="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/$(rustc -vV | sed -n 's/^host: //p')/release/gocker"
	log "building gocker (cargo build --release)"
	if ! command -v cargo >/dev/null 2>&1; then
		GOCKER_STATUS="missing: cargo not found"
	elif ! (cd "$REPO_ROOT" && cargo build --release) >>"$LOG" 2>&1; then
		GOCKER_STATUS="missing: cargo build --release failed (see run.log)"
	elif [ ! -x "$GOCKER" ]; then
		GOCKER_STATUS="missing: no $GOCKER after build"
	fi
fi
[ "$GOCKER_STATUS" = ok ] || warn "gocker $GOCKER_STATUS"

# ---------------------------------------------------------------- rootfs
ROOTFS="$WORK/rootfs"
ROOTFS_HOW=""
if [ "$GOCKER_STATUS" = ok ] &&
	timeout 120 "$GOCKER" rootfs busybox "$ROOTFS" >>"$LOG" 2>&1 &&
	chroot "$ROOTFS" /bin/true 2>>"$LOG"; then
	ROOTFS_HOW="gocker rootfs busybox"
else
	rm -rf --one-file-system "$ROOTFS"
	BUSYBOX=$(command -v busybox || true)
	if [ -z "$BUSYBOX" ]; then
		echo "run.sh: no busybox to make a rootfs from" >&2
		exit 1
	fi
	mkdir -p "$ROOTFS"/{bin,sbin,usr/bin,usr/sbin,proc,dev,sys,tmp,etc,root}
	cp "$BUSYBOX" "$ROOTFS/bin/busybox"
	chroot "$ROOTFS" /bin/busybox --install -s >>"$LOG" 2>&1
	chroot "$ROOTFS" /bin/true || { echo "run.sh: busybox rootfs does not work" >&2; exit 1; }
	ROOTFS_HOW="laid out from $BUSYBOX (busybox --install -s)"
fi
log "rootfs: $ROOTFS_HOW"
# The second shape: the lesson's rootfs comes from `docker export`, whose /dev is empty,
# so gocker makes a /dev of its own on every start (a tmpfs, device nodes, links).
ROOTFS_EDEV="$WORK/rootfs-empty-dev"
cp -a "$ROOTFS" "$ROOTFS_EDEV"
find "$ROOTFS_EDEV/dev" -mindepth 1 -delete

# ---------------------------------------------------------------- OCI bundle
BUNDLE="$WORK/bundle"
mkdir -p "$BUNDLE"
SPEC_HOW=""
for rt in crun runc; do
	if command -v "$rt" >/dev/null 2>&1 && (cd "$BUNDLE" && "$rt" spec) >>"$LOG" 2>&1; then
		SPEC_HOW="$rt spec"
		break
	fi
	rm -f "$BUNDLE/config.json"
done
if [ -n "$SPEC_HOW" ]; then
	python3 - "$BUNDLE/config.json" "$ROOTFS" <<'EOF'
import json, sys
path, rootfs = sys.argv[1], sys.argv[2]
with open(path) as f:
    c = json.load(f)
c["process"]["args"] = ["/bin/true"]
c["process"]["terminal"] = False
c["root"] = {"path": rootfs, "readonly": False}
# The same five namespaces as floor/gocker: no user or cgroup namespace.
want = ["pid", "network", "ipc", "uts", "mount"]
c["linux"]["namespaces"] = [{"type": t} for t in want]
c["linux"].pop("uidMappings", None)
c["linux"].pop("gidMappings", None)
with open(path, "w") as f:
    json.dump(c, f, indent=2)
EOF
fi

# ---------------------------------------------------------------- commands
R=$ROOTFS
ID="gocker-bench-$$"
add floor "floor" "$FLOOR" "$R" /bin/true
add floor_cg "floor --cgroup" "$FLOOR" --cgroup "$R" /bin/true
add floor_edev "floor (empty /dev)" "$FLOOR" "$ROOTFS_EDEV" /bin/true
# The least a copy-on-write root needs (a tmpfs and an overlay): gocker run's default.
add floor_ovl "floor --overlay" "$FLOOR" --overlay "$R" /bin/true

NAME_GOCKER_CG="gocker run --rootfs-rw --cpus 1 -m 64m"
if [ "$GOCKER_STATUS" = ok ]; then
	add gocker "gocker run" "$GOCKER" run --rootfs "$R" /bin/true
	# The lesson's direct root, without the copy-on-write layer: what the layer costs.
	add gocker_rw "gocker run --rootfs-rw" "$GOCKER" run --rootfs-rw --rootfs "$R" /bin/true
	# The other shapes are compared with floors of the same shape: the direct root.
	add gocker_edev "gocker run --rootfs-rw (empty /dev)" "$GOCKER" run --rootfs-rw --rootfs "$ROOTFS_EDEV" /bin/true
	# -m SIZE: "64m" if gocker takes a unit suffix, else a bare "64" (MiB).
	if ! probe_argv "$GOCKER" run --cpus 1 -m 64m --rootfs "$R" /bin/true &&
		probe_argv "$GOCKER" run --cpus 1 -m 64 --rootfs "$R" /bin/true; then
		NAME_GOCKER_CG="gocker run --rootfs-rw --cpus 1 -m 64"
		add gocker_cg "$NAME_GOCKER_CG" "$GOCKER" run --rootfs-rw --cpus 1 -m 64 --rootfs "$R" /bin/true
	else
		add gocker_cg "$NAME_GOCKER_CG" "$GOCKER" run --rootfs-rw --cpus 1 -m 64m --rootfs "$R" /bin/true
	fi
	add emit "gocker emit-script (render)" "$GOCKER" emit-script --rootfs "$R" /bin/true
	SCRIPT="$WORK/emitted.sh"
	if timeout 30 "$GOCKER" emit-script --rootfs "$R" /bin/true >"$SCRIPT" 2>>"$LOG" && [ -s "$SCRIPT" ]; then
		cp "$SCRIPT" "$OUT_DIR/emitted.sh"
		add script "sh <emit-script output>" sh "$SCRIPT"
	else
		add script "sh <emit-script output>"
		STATUS[script]="missing: gocker emit-script rendered no script"
	fi
else
	add gocker "gocker run"
	add gocker_rw "gocker run --rootfs-rw"
	add gocker_edev "gocker run --rootfs-rw (empty /dev)"
	add gocker_cg "$NAME_GOCKER_CG"
	add emit "gocker emit-script (render)"
	add script "sh <emit-script output>"
	for k in gocker gocker_rw gocker_edev gocker_cg emit script; do STATUS[$k]=$GOCKER_STATUS; done
fi

add hand "sh hand.sh" sh "$SCRIPT_DIR/hand.sh" "$R" /bin/true

# oci_peer KEY RUNTIME: crun/runc on the bundle, with a per-run-unique id
# (the runtime deletes the container when it exits, so reusing it is fine).
oci_peer() {
	if ! command -v "$2" >/dev/null 2>&1; then
		mark "$1" "$2 run" "missing: $2 not installed"
	elif [ -z "$SPEC_HOW" ]; then
		mark "$1" "$2 run" "failed: no OCI config.json (crun/runc spec failed)"
	else
		add "$1" "$2 run" "$2" run --bundle "$BUNDLE" "$ID-$2"
	fi
}
oci_peer crun crun
oci_peer runc runc
# lifecycle KEY NAME RUNTIME: create + start + wait + delete of the same bundle, as the
# engines call a runtime (tests/bench/lifecycle.sh).
lifecycle() {
	if ! command -v "$3" >/dev/null 2>&1 && [ ! -x "$3" ]; then
		mark "$1" "$2 create+start+wait+delete" "missing: $3 not installed"
	elif [ -z "$SPEC_HOW" ]; then
		mark "$1" "$2 create+start+wait+delete" "failed: no OCI config.json (crun/runc spec failed)"
	else
		add "$1" "$2 create+start+wait+delete" sh "$SCRIPT_DIR/lifecycle.sh" "$3" "$BUNDLE" "$ID-$1"
	fi
}
if [ "$GOCKER_STATUS" = ok ]; then
	lifecycle gocker_oci gocker "$GOCKER"
	add gocker_bundle "gocker run --bundle" "$GOCKER" run --bundle "$BUNDLE" "$ID-gocker-bundle"
else
	mark gocker_oci "gocker create+start+wait+delete" "$GOCKER_STATUS"
	mark gocker_bundle "gocker run --bundle" "$GOCKER_STATUS"
fi
lifecycle crun_oci crun crun
lifecycle runc_oci runc runc
if command -v bwrap >/dev/null 2>&1; then
	add bwrap "bwrap --unshare-all" bwrap --unshare-all --bind "$R" / --proc /proc --dev /dev /bin/true
else
	mark bwrap "bwrap --unshare-all" "missing: bwrap not installed"
fi
add unshare "unshare + chroot" unshare --mount --uts --ipc --pid --net --fork chroot "$R" /bin/true

log "probing each command once"
for k in "${KEYS[@]}"; do probe "$k"; done

# A zero exit from /bin/true proves little (a stub exits 0 too): run a check
# in place of /bin/true that must exit 7, and only from inside the container
# (PID 1, the rootfs's marker file visible), for the commands whose argv ends
# in the container command.  crun/runc/bwrap are trusted.
CHECK=(/bin/sh -c 'test -e /.gocker-bench-marker && test $$ = 1 && exit 7; exit 1')
: >"$R/.gocker-bench-marker"
: >"$ROOTFS_EDEV/.gocker-bench-marker"
validate() { # validate KEY ARGV...
	local key=$1
	shift
	[ "${STATUS[$key]}" = ok ] || return 0
	probe_argv "$@" || true
	if [ "$PROBE_RC" != 7 ]; then
		STATUS[$key]="failed: no container (a PID-1-in-rootfs check exited $PROBE_RC, not 7)"
	fi
}
for k in floor floor_cg floor_edev floor_ovl gocker gocker_rw gocker_edev gocker_cg hand unshare; do
	[ "${STATUS[$k]:-}" = ok ] || continue
	argv_of "$k"
	validate "$k" "${ARGV[@]:0:${#ARGV[@]}-1}" "${CHECK[@]}"
done
if [ "${STATUS[script]:-}" = ok ]; then
	if "$GOCKER" emit-script --rootfs "$R" "${CHECK[@]}" >"$WORK/check.sh" 2>>"$LOG"; then
		validate script sh "$WORK/check.sh"
	else
		STATUS[script]="failed: gocker emit-script with a check command failed"
	fi
fi
# gocker is measured inside the bench namespace (cgroup2 unmounted); say so
# if it does not also work on the unmodified host.
NOTES=()
for k in gocker gocker_cg; do
	[ "${STATUS[$k]:-}" = ok ] || continue
	argv_of "$k"
	rc=0
	timeout 30 "${ARGV[@]:0:${#ARGV[@]}-1}" "${CHECK[@]}" >>"$LOG" 2>&1 </dev/null || rc=$?
	if [ "$rc" != 7 ]; then
		NOTES+=("${NAME[$k]} works in the bench namespace but not on the unmodified host (check exited $rc)")
		warn "${NOTES[-1]}"
	fi
done
# A render time is only worth reporting for a script that works.
if [ "${STATUS[emit]:-}" = ok ] && [ "${STATUS[script]:-}" != ok ]; then
	STATUS[emit]="failed: its script does not run a container"
fi
for k in "${KEYS[@]}"; do
	[ "${STATUS[$k]}" = ok ] || warn "${NAME[$k]}: ${STATUS[$k]}"
done

# ---------------------------------------------------------------- hyperfine
HF_ARGS=("${HF_SHELL[@]}" --warmup "$WARMUP" --runs "$RUNS" --ignore-failure
	--style basic)
MEASURED=()
for k in "${KEYS[@]}"; do
	[ "${STATUS[$k]}" = ok ] || continue
	argv_of "$k"
	MEASURED+=("$k")
	HF_ARGS+=(--command-name "${NAME[$k]}" "$(qcmd "${ARGV[@]}")")
done
# Several rounds, each one hyperfine run of every command: hyperfine runs a command's
# samples back to back, so a machine that drifts (a VM's neighbours) would favour
# whichever command ran in a quiet spell. The report takes each ratio within a round,
# then the median over rounds.
log "hyperfine: ${#MEASURED[@]} commands, $ROUNDS rounds of $WARMUP warmup + $RUNS runs each"
rm -f "$OUT_DIR"/hyperfine*.json
: >"$OUT_DIR/hyperfine.txt"
for round in $(seq "$ROUNDS"); do
	if ! in_ns hyperfine "${HF_ARGS[@]}" --export-json "$OUT_DIR/hyperfine-$round.json" \
		2>&1 | tee -a "$OUT_DIR/hyperfine.txt" >&2; then
		warn "hyperfine failed in round $round (see $OUT_DIR/hyperfine.txt)"
	fi
done

# ---------------------------------------------------------------- peak RSS
# Max resident set size reported by GNU time (covers the waited-for process
# tree); the median of RSS_N runs.
RSS_FILE="$OUT_DIR/rss.tsv"
: >"$RSS_FILE"
if [ -x /usr/bin/time ]; then
	log "peak RSS ($RSS_N runs each)"
	for k in floor floor_cg gocker gocker_cg crun runc bwrap; do
		[ "${STATUS[$k]:-}" = ok ] || continue
		argv_of "$k"
		vals=()
		for _ in $(seq "$RSS_N"); do
			v=$(in_ns /usr/bin/time -v "${ARGV[@]}" 2>&1 >/dev/null </dev/null |
				sed -n 's/.*Maximum resident set size (kbytes): *//p')
			vals+=("${v:-NA}")
		done
		printf '%s\t%s\n' "$k" "${vals[*]}" >>"$RSS_FILE"
	done
else
	warn "/usr/bin/time missing: no peak RSS"
fi

# ---------------------------------------------------------------- throughput
# TPUT_N containers one after the other, then TPUT_N started at once (all
# backgrounded, then waited for); wall time of the batch, measured inside a
# generated sh script so that only the batch is timed.  crun/runc container
# ids get the index appended.
TPUT_FILE="$OUT_DIR/throughput.tsv"
: >"$TPUT_FILE"
# shellcheck disable=SC2016 # the generated scripts expand these
throughput() { # throughput KEY ARGV...
	local key=$1 i mode cmd seqf parf res
	shift
	seqf="$WORK/tput-$key-seq.sh"
	parf="$WORK/tput-$key-par.sh"
	{
		echo 'f=0; t0=$(date +%s%N)'
		for i in $(seq "$TPUT_N"); do
			argv_idx "$i" "$@"
			echo "$(qcmd "${IDX[@]}") >/dev/null 2>&1 </dev/null || f=\$((f + 1))"
		done
		echo 't1=$(date +%s%N); echo "$(((t1 - t0) / 1000000)) $f"'
	} >"$seqf"
	{
		echo 'f=0; pids=; t0=$(date +%s%N)'
		for i in $(seq "$TPUT_N"); do
			argv_idx "$i" "$@"
			echo "$(qcmd "${IDX[@]}") >/dev/null 2>&1 </dev/null & pids=\"\$pids \$!\""
		done
		echo 'for p in $pids; do wait "$p" || f=$((f + 1)); done'
		echo 't1=$(date +%s%N); echo "$(((t1 - t0) / 1000000)) $f"'
	} >"$parf"
	for mode in seq par; do
		cmd="$WORK/tput-$key-$mode.sh"
		res=$(in_ns sh "$cmd" 2>>"$LOG" | tail -n 1) || true
		printf '%s\t%s\t%s\t%s\t%s\n' "$key" "$mode" "$TPUT_N" \
			"${res%% *}" "${res##* }" >>"$TPUT_FILE"
	done
}
argv_idx() { # argv_idx I ARGV... -> IDX: ARGV with "-I" added to crun/runc ids
	local i=$1
	shift
	IDX=("$@")
	case "${IDX[0]}" in
	crun | runc) IDX[${#IDX[@]}-1]="${IDX[${#IDX[@]}-1]}-$i" ;;
	esac
}
log "throughput ($TPUT_N sequential, $TPUT_N at once)"
for k in floor gocker gocker_cg crun runc; do
	[ "${STATUS[$k]:-}" = ok ] || continue
	argv_of "$k"
	throughput "$k" "${ARGV[@]}"
done

# ---------------------------------------------------------------- report
STATUS_FILE="$OUT_DIR/status.tsv"
: >"$STATUS_FILE"
for k in "${KEYS[@]}"; do
	printf '%s\t%s\t%s\n' "$k" "${NAME[$k]}" "${STATUS[$k]}" >>"$STATUS_FILE"
done
{
	printf 'measured\t%s\n' "${MEASURED[*]}"
	printf 'rootfs\t%s\n' "$ROOTFS_HOW"
	printf 'spec\t%s\n' "${SPEC_HOW:-none}"
	printf 'runs\t%s rounds of %s warmup + %s runs; throughput %s; %s\n' "$ROUNDS" "$WARMUP" "$RUNS" "$TPUT_N" \
		"$([ "$QUICK" = 1 ] && echo quick || echo full)"
	for n in "${NOTES[@]}"; do printf 'note\t%s\n' "$n"; done
	printf 'machine\t%s, %s cores, %s\n' "$(uname -r)" "$(nproc)" "$(date -u +%Y-%m-%dT%H:%MZ)"
} >"$OUT_DIR/meta.tsv"

python3 "$SCRIPT_DIR/report.py" "$OUT_DIR" | tee "$OUT_DIR/results.md"
log "results in $OUT_DIR (results.md, hyperfine-N.json, run.log)"
