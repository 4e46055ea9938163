#!/usr/bin/env bash
# The opencontainers runtime-tools validation suite against one OCI runtime, compared with runc.
#
#   tests/oci/conformance.sh RUNTIME [OUT]
#
# Builds the vendored runtime-tools (../shared/oci/runtime-tools-*.tar.gz beside the repo, or
# OCI_RUNTIME_TOOLS) once into target/runtime-tools-<sha256 prefix>/, offline, then runs every
# validation/<name>/<name>.t with RUNTIME=RUNTIME from that tree's root (the programs copy
# ./runtimetest and untar ./rootfs-amd64.tar.gz from their working directory), each under a time
# limit (OCI_TIMEOUT seconds, 300 by default). Writes "name ok not_ok" per program, in the format of
# runc-baseline.txt, to OUT (default target/oci/conformance-<runtime name>.txt), then prints the
# comparison with the baseline (OCI_BASELINE, default runc-baseline.txt beside the tarball). Exits
# 1 when any program does worse than runc, 2 on a usage or build error. OCI_PROGRAMS="a b" runs
# and compares only those programs. OCI_KNOWN=FILE lists programs allowed below runc, one
# "name why" a line (tests/oci/conformance-known.txt, what tests/all.sh passes): such a program
# is shown "no (known: why)" and does not fail the run; a listed one that is at runc's level is
# named so the line can go. TAP and stderr of each program: target/oci/logs-<runtime>/.
# Needs root, go (Debian's golang-go), tar, timeout; nothing is fetched.
set -euo pipefail

usage() {
	echo "usage: $0 RUNTIME [OUT]" >&2
	exit 2
}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi

root=$(cd "$(dirname "$0")/../.." && pwd)
runtime=$1
case $runtime in
*/*) runtime=$(cd "$(dirname "$runtime")" && pwd)/$(basename "$runtime") ;;
*) runtime=$(command -v "$runtime") || {
	echo "conformance: runtime $1 not found on PATH" >&2
	exit 2
} ;;
esac
[ -x "$runtime" ] || {
	echo "conformance: $runtime is not an executable" >&2
	exit 2
}
[ "$(id -u)" = 0 ] || {
	echo "conformance: the validation programs create containers: run as root" >&2
	exit 2
}

tarball=${OCI_RUNTIME_TOOLS:-}
if [ -z "$tarball" ]; then
	for f in "$root"/../shared/oci/runtime-tools-*.tar.gz; do tarball=$f; done
fi
[ -f "$tarball" ] || {
	echo "conformance: no runtime-tools tarball (looked for ../shared/oci/runtime-tools-*.tar.gz; set OCI_RUNTIME_TOOLS)" >&2
	exit 2
}
baseline=${OCI_BASELINE:-$(dirname "$tarball")/runc-baseline.txt}
[ -f "$baseline" ] || {
	echo "conformance: no baseline at $baseline (set OCI_BASELINE)" >&2
	exit 2
}
limit=${OCI_TIMEOUT:-300}
target=${CARGO_TARGET_DIR:-$root/target}
out=${2:-$target/oci/conformance-$(basename "$runtime").txt}
mkdir -p "$(dirname "$out")"

# The cache is keyed by the tarball's content: a new tarball builds into a new directory.
sha=$(sha256sum "$tarball" | cut -d' ' -f1)
tools=$target/runtime-tools-${sha:0:16}

build() {
	command -v go >/dev/null 2>&1 || {
		echo "conformance: go not on PATH (apt-get install -y golang-go)" >&2
		exit 2
	}
	local tmp
	tmp=$(mktemp -d "$target/runtime-tools-build.XXXXXX")
	# A build cut short leaves only the temp dir, never a half-built cache.
	trap 'rm -rf "$tmp"' EXIT
	tar -xzf "$tarball" -C "$tmp"
	local src=$tmp/runtime-tools
	[ -d "$src/validation" ] || {
		echo "conformance: $tarball has no runtime-tools/validation" >&2
		exit 2
	}
	local start=$SECONDS
	echo "conformance: building runtime-tools from $(basename "$tarball") (once; cached in $tools)" >&2
	(
		cd "$src"
		export GOFLAGS=-mod=vendor GOPROXY=off GOCACHE=$tmp/gocache GOPATH=$tmp/gopath CGO_ENABLED=1
		# runtimetest runs inside every test container, on the suite's own rootfs: static.
		go build -tags "netgo osusergo" -ldflags "-extldflags -static" -o runtimetest ./cmd/runtimetest
		# One go invocation for all programs shares the compile work; each lands as bin/<name>.
		go build -o "$tmp/bin/" ./validation/...
		for prog in "$tmp"/bin/*; do
			name=$(basename "$prog")
			[ -f "validation/$name/$name.go" ] || continue
			mv "$prog" "validation/$name/$name.t"
		done
	)
	rm -rf "${tmp:?}/gocache" "${tmp:?}/gopath" "${tmp:?}/bin"
	printf '%s\n' "$sha" >"$src/.tarball-sha256"
	rm -rf "$tools"
	mv "$src" "$tools"
	rm -rf "$tmp"
	trap - EXIT
	echo "conformance: built in $((SECONDS - start)) s" >&2
}

if [ "$(cat "$tools/.tarball-sha256" 2>/dev/null)" != "$sha" ]; then
	mkdir -p "$target"
	build
fi

programs=()
for dir in "$tools"/validation/*/; do
	name=$(basename "$dir")
	[ -f "$dir/$name.go" ] || continue
	if [ -n "${OCI_PROGRAMS:-}" ]; then
		case " $OCI_PROGRAMS " in *" $name "*) ;; *) continue ;; esac
	fi
	[ -x "$dir/$name.t" ] || {
		echo "conformance: $name.t missing from $tools: remove that directory to rebuild" >&2
		exit 2
	}
	programs+=("$name")
done

# The programs make their bundles with os.MkdirTemp: keep them in a dir of ours, removed at exit.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/gocker-oci-conformance.XXXXXX")
# Traversable by all: a container root mapped to another uid (linux_uid_mappings, linux_ns_nopath)
# must reach its bundle, as it does under a plain /tmp.
chmod 711 "$scratch"
# Some programs (linux_ns_itype) run a container in the runtime's own mount namespace, so the
# runtime's proc/sys/dev mounts land in it and nobody unmounts them. Each program therefore runs in
# a mount namespace of its own, a slave of the host's (host mounts reach it, its mounts never reach
# the host), which vanishes with it; what is still mounted under scratch is unmounted before any rm,
# and rm never crosses into another file system.
clean_scratch() {
	local m
	awk -v d="$scratch" 'index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf --one-file-system "${scratch:?}"/ocitest* 2>/dev/null || true
}
# The suite's cgroups have fixed paths (cgroups.AbsCgroupPath /cgrouptest, RelCgroupPath
# testdir/cgrouptest/container); a runtime that leaves them (runc leaves the parents) would hand
# the next program, or the next run, a cgroup with old limits. Removed after every program, after
# killing what still runs there (only the suite's containers can); printed when found.
clean_cgroups() {
	local d left=""
	# globbed at each call: the dirs come and go
	for d in /sys/fs/cgroup/*/cgrouptest /sys/fs/cgroup/*/testdir; do
		[ -d "$d" ] || continue
		left="$left ${d#/sys/fs/cgroup/}"
		find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do
			kill -9 "$pid" 2>/dev/null || true
		done || true
		find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
	done
	[ -z "$left" ] || echo "left cgroups:$left"
}
trap 'clean_scratch; clean_cgroups >/dev/null; rm -rf --one-file-system "$scratch" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
logs=$target/oci/logs-$(basename "$runtime")
# One file pair per program, overwritten by each run.
mkdir -p "$logs"

# count TAP: drop the YAML diagnostics between "  ---" and "  ...", count "ok" / "not ok" lines.
count() {
	awk '
		/^  ---$/ { yaml = 1; next }
		/^  \.\.\.$/ { yaml = 0; next }
		yaml { next }
		/^ok( |$)/ { ok++ }
		/^not ok( |$)/ { notok++ }
		END { printf "%d %d\n", ok, notok }
	' "$1"
}

version=$("$runtime" --version 2>/dev/null | head -n1 || true)
results=$scratch/results
: >"$results"
run_start=$SECONDS
left=$(clean_cgroups)
[ -z "$left" ] || echo "conformance: before the run, $left (removed)" >&2
echo "conformance: ${#programs[@]} programs against $runtime (${version:-no --version}), $limit s each" >&2
for name in "${programs[@]}"; do
	t0=$SECONDS
	status=0
	(cd "$tools" && TMPDIR=$scratch RUNTIME=$runtime timeout -k 10 "$limit" \
		unshare --mount --propagation slave "./validation/$name/$name.t") >"$logs/$name.tap" 2>"$logs/$name.stderr" </dev/null || status=$?
	read -r ok notok < <(count "$logs/$name.tap")
	note=""
	if [ "$status" = 124 ] || [ "$status" = 137 ]; then
		# A program cut off by the limit counts one failure more than it printed.
		notok=$((notok + 1))
		note=" (timed out after $limit s)"
	elif [ "$ok" = 0 ] && [ "$notok" = 0 ]; then
		# A program that ran no test (a fatal setup error, or a bail-out that prints only an error
		# diagnostic and the plan "1..0") is one failure, as in the baseline.
		notok=1
		note=" (exit $status, no test ran)"
	fi
	echo "$name $ok $notok" >>"$results"
	echo "  $name: $ok ok, $notok not ok, $((SECONDS - t0)) s$note" >&2
	# Bundles the program left (a failed delete) must not pile up across programs.
	clean_scratch
	left=$(clean_cgroups)
	[ -z "$left" ] || echo "    $name: $left" >&2
done
run_secs=$((SECONDS - run_start))

{
	echo "# $(basename "$tarball") (sha256 ${sha:0:16}) validation against ${version:-$(basename "$runtime")} ($runtime), kernel $(uname -r): test program, ok count, not-ok count"
	cat "$results"
	awk '{ ok += $2; notok += $3 } END { printf "TOTAL %d %d\n", ok, notok }' "$results"
} >"$out"
echo "conformance: ran in $run_secs s; results in $out, TAP in $logs" >&2

# The comparison: a program is at least as good as runc with no fewer oks and no more not-oks.
name_col=$(basename "$runtime")
known=${OCI_KNOWN:-/dev/null}
[ -r "$known" ] || {
	echo "conformance: OCI_KNOWN=$known is not readable" >&2
	exit 2
}
awk -v who="$name_col" -v only="${OCI_PROGRAMS:-}" '
	# ARGV[1] is the known list (maybe empty), ARGV[2] the baseline, ARGV[3] this run.
	FILENAME == ARGV[1] { if ($0 !~ /^#/ && NF >= 2) { why = $0; sub(/^[^ ]+ +/, "", why); known[$1] = why }; next }
	/^#/ || /^TOTAL / || NF != 3 { next }
	FILENAME == ARGV[2] { base_ok[$1] = $2; base_notok[$1] = $3; if (only == "" || index(" " only " ", " " $1 " ")) order[++n] = $1; next }
	{ got_ok[$1] = $2; got_notok[$1] = $3; if (!($1 in base_ok)) order[++n] = $1 }
	END {
		printf "%-32s | %-15s | %-15s | %s\n", "program", "runc ok/notok", who " ok/notok", "at least runc?"
		good = 0; bad = 0
		for (i = 1; i <= n; i++) {
			p = order[i]
			b = (p in base_ok) ? base_ok[p] "/" base_notok[p] : "-"
			g = (p in got_ok) ? got_ok[p] "/" got_notok[p] : "not run"
			if (!(p in got_ok)) verdict = "no"
			else if (!(p in base_ok)) verdict = "yes (not in baseline)"
			else if (got_ok[p] >= base_ok[p] && got_notok[p] <= base_notok[p]) verdict = "yes"
			else verdict = "no"
			if (verdict == "no" && (p in known)) { verdict = "no (known: " known[p] ")"; kn++ }
			else if (verdict == "no") bad++
			else { good++; if (p in known) gone = gone " " p }
			printf "%-32s | %-15s | %-15s | %s\n", p, b, g, verdict
		}
		printf "%d programs at least as good as runc, %d worse", good, bad + kn
		if (kn > 0) printf " (%d of them known, in the OCI_KNOWN list)", kn
		printf "\n"
		if (gone != "") printf "at runc'"'"'s level now, so their OCI_KNOWN lines can go:%s\n", gone
		exit (bad > 0 ? 1 : 0)
	}
' "$known" "$baseline" "$out"
