#!/usr/bin/env bash
# podman's client flows against one OCI runtime binary (issue 14): run --rm, run -it, run -d + exec,
# stop, rm.
#
#   tests/oci/podman.sh RUNTIME
#
# A private podman: its own --root/--runroot/--tmpdir and config files under one temp dir, cgroupfs
# with a cgroup parent of its own, file events and file locks (nothing in /dev/shm), vfs storage
# (OCI_PODMAN_STORAGE=overlay for overlay), --network none (no bridge, no iptables), ulimits
# within this machine's hard limits. The image is a busybox rootfs
# from `gocker rootfs busybox` ($GOCKER, else the newest release build), put in with `podman
# import`. Prints PASS/FAIL per flow and "N passed, M failed"; exits 1 when anything failed.
# The last check is that nothing is left: no process naming the temp dir, no mount under it, no
# cgroup, no temp dir. Needs root, podman, conmon, script (util-linux).
set -uo pipefail
# shellcheck source=tests/oci/lib.sh
. "$(dirname "$0")/lib.sh"

[ $# = 1 ] || {
	echo "usage: $0 RUNTIME" >&2
	exit 2
}
need_root_and podman conmon script
runtime=$(resolve_runtime "$1") || exit 2
gocker=$(find_gocker) || exit 2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gocker-oci-podman.XXXXXX")
cgparent=$(basename "$tmp")
image=localhost/gocker-oci-busybox
name="gocker-oci-detached"
torn_down=0

# vfs by default: plain directories, no mounts. OCI_PODMAN_STORAGE=overlay gives the runtime an
# overlay rootfs, as podman's default does.
storage=${OCI_PODMAN_STORAGE:-vfs}
export TMPDIR=$tmp/tmp
export CONTAINERS_CONF=$tmp/containers.conf
export CONTAINERS_STORAGE_CONF=$tmp/storage.conf
export CONTAINERS_REGISTRIES_CONF=$tmp/registries.conf
mkdir -p "$TMPDIR" "$tmp/networks"

# podman asks for RLIMIT_NOFILE/NPROC of 1048576, which nothing here may set: stay under the hard
# limits (and 32768 for nproc, where podman lowers its own).
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=1048576
[ "$nofile" -gt 1048576 ] && nofile=1048576
nproc=$(ulimit -Hu)
if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi

cat >"$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$tmp/events.log"
lock_type = "file"
image_copy_tmp_dir = "$tmp/tmp"
[network]
network_config_dir = "$tmp/networks"
EOF
cat >"$CONTAINERS_STORAGE_CONF" <<EOF
[storage]
driver = "$storage"
graphroot = "$tmp/root"
runroot = "$tmp/runroot"
EOF
: >"$CONTAINERS_REGISTRIES_CONF"

# The runtime keeps its state in its own default root (/run/runc for runc): podman passes no
# --root, and its cleanup process drops any --runtime-flag, so `root=` would split the state. The
# checks below look there for anything left under the containers' ids.
pm_args=(--root "$tmp/root" --runroot "$tmp/runroot" --tmpdir "$tmp/tmpdir"
	--cgroup-manager=cgroupfs --events-backend=file --storage-driver="$storage" --runtime "$runtime")
pm() {
	podman "${pm_args[@]}" "$@"
}
run_flags=(--network none --cgroup-parent "/$cgparent" --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")

# Stops everything this script started and removes what it made; idempotent. On the normal path
# the cleanup checks at the end run first, so a flow that leaks is reported, not silently cleaned.
teardown() {
	[ "$torn_down" = 1 ] && return
	torn_down=1
	pm rm --all --force --time 0 >/dev/null 2>&1
	pm rmi --all --force >/dev/null 2>&1
	# shellcheck disable=SC2046 # one pid per word
	wait_procs_gone "$tmp" 20 || kill -9 $(procs_under "$tmp") 2>/dev/null
	wait_procs_gone "$tmp" 5
	local m
	for m in $(mounts_under "$tmp"); do umount -l "$m" 2>/dev/null; done
	remove_cgroups_named "$cgparent"
	rm -rf --one-file-system "$tmp"
}
trap teardown EXIT
trap 'exit 130' INT TERM

echo "podman flows against $runtime ($("$runtime" --version 2>/dev/null | head -n1))"

# The image: gocker's busybox rootfs, imported (no registry on this machine).
# shellcheck disable=SC2016 # "$@" is the inner sh's
if "$gocker" rootfs busybox "$tmp/rootfs" >"$tmp/rootfs.log" 2>&1 &&
	tar -C "$tmp/rootfs" -c . | unshare --mount --propagation private sh -c '
		# The copy behind `podman import` writes its blob-info cache to /var/lib/containers/cache
		# whatever --root says: give it a /var/lib of its own, in a mount namespace of its own.
		mount -t tmpfs -o size=1m gocker-oci-var-lib /var/lib && exec "$@"' sh \
		podman "${pm_args[@]}" import - "$image" >"$tmp/import.log" 2>&1; then
	pass "import: a busybox rootfs from gocker becomes $image"
else
	fail "import: $(cat "$tmp/rootfs.log" "$tmp/import.log")"
	echo "$passed passed, $failed failed"
	exit 1
fi

# run --rm: the command's output reaches podman's stdout and its exit status is podman's.
out=$(pm run --rm "${run_flags[@]}" "$image" sh -c 'echo hello from the container; exit 3' 2>"$tmp/err")
st=$?
[ "$out" = "hello from the container" ] && [ "$st" = 3 ]
check "run --rm: output and exit status 3" $? "status $st, output '$out', stderr: $(cat "$tmp/err")"
left=$(pm ps --all --quiet 2>&1)
[ -z "$left" ]
check "run --rm: the container is removed" $? "podman ps -a still lists: $left"

# run -it: under a pty (script), the container's stdin is a terminal it can name, and the exit
# status comes through. script's own stdin is a FIFO held open read-write: never data, never EOF
# (with /dev/null, podman sees EOF at once and detaches before the output arrives).
cmd=$(printf '%q ' podman "${pm_args[@]}" run -it --rm "${run_flags[@]}" "$image" sh -c 'tty; exit 4')
mkfifo "$tmp/stdin"
exec 3<>"$tmp/stdin"
out=$(timeout 60 script -qec "$cmd" /dev/null <&3 2>&1 | tr -d '\r')
st=$?
exec 3>&-
printf '%s\n' "$out" | grep -qx '/dev/pts/[0-9]*' && [ "$st" = 4 ]
check "run -it: tty names a /dev/pts device, exit status 4" $? "status $st, output '$out'"

# run -d, then exec: the exec'd command's status comes back; its output too.
pm run -d --name "$name" "${run_flags[@]}" "$image" sleep 600 >/dev/null 2>"$tmp/err"
st=$?
state=$(pm inspect --format '{{.State.Status}}' "$name" 2>&1)
[ "$st" = 0 ] && [ "$state" = running ]
check "run -d: the container is running" $? "status $st, state '$state', stderr: $(cat "$tmp/err")"
# The runtime made the cgroups podman asked for, so the checks after rm look in the right place.
id=$(pm inspect --format '{{.Id}}' "$name" 2>&1)
cgs=$(cgroups_named "libpod-$id" | grep -c "/$cgparent/libpod-$id\$")
[ "$cgs" -gt 0 ]
check "run -d: the container's cgroups are under /$cgparent/libpod-ID" $? "none found for id '$id'"
pm exec "$name" sh -c 'exit 7' 2>"$tmp/err"
st=$?
[ "$st" = 7 ]
check "exec: exit status 7" $? "status $st, stderr: $(cat "$tmp/err")"
# shellcheck disable=SC2016 # expanded by the container's shell
out=$(pm exec "$name" sh -c 'echo "$(cat /proc/1/comm) is pid 1"' 2>"$tmp/err")
st=$?
[ "$st" = 0 ] && [ "$out" = "sleep is pid 1" ]
check "exec: runs inside the container's pid namespace" $? "status $st, output '$out', stderr: $(cat "$tmp/err")"

# stop: sleep as pid 1 ignores SIGTERM, so this is kill 15, then kill 9 after the timeout.
pm stop --time 2 "$name" >/dev/null 2>"$tmp/err"
st=$?
state=$(pm inspect --format '{{.State.Status}}' "$name" 2>&1)
[ "$st" = 0 ] && [ "$state" = exited ]
check "stop: the container has exited" $? "status $st, state '$state', stderr: $(cat "$tmp/err")"

# rm: the container is gone, and so are the cgroups the runtime made for it.
pm rm "$name" >/dev/null 2>"$tmp/err"
st=$?
pm container exists "$name" 2>/dev/null
exists=$?
[ "$st" = 0 ] && [ "$exists" = 1 ]
check "rm: the container is gone" $? "status $st, 'container exists' said $exists, stderr: $(cat "$tmp/err")"

# Every container this script ran: no cgroup of the runtime's, no state dir under /run, is left.
ids=$(pm events --stream=false --filter type=container --filter event=create --format '{{.ID}}' 2>&1)
left=""
n=0
for i in $ids; do
	n=$((n + 1))
	left="$left$(cgroups_named "libpod-$i")$(find /run -maxdepth 3 -name "$i" -not -path "$tmp/*" 2>/dev/null)"
done
[ "$n" = 3 ] && [ -z "$left" ]
check "rm: no cgroup or runtime state of the 3 containers is left" $? "$n create events: $ids; left: ${left:-none}"

# OCI_PODMAN_BENCH=N (tests/bench/detached.sh sets it): the peer rows of the detached
# benchmark, podman with this runtime doing what `gocker run -d` and `gocker ps` do: the
# median of N `run -d --rm` of /bin/true, and of N `ps` with 100 containers running.
# Printed as "BENCH <what>: <microseconds>"; the containers are gone before the checks below.
if [ -n "${OCI_PODMAN_BENCH:-}" ]; then
	usec() {
		local t0=$EPOCHREALTIME
		"$@" >/dev/null 2>&1 </dev/null
		local t1=$EPOCHREALTIME
		echo $((${t1/./} - ${t0/./}))
	}
	med() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
	samples=()
	for _ in $(seq "$OCI_PODMAN_BENCH"); do
		samples+=("$(usec pm run -d --rm "${run_flags[@]}" "$image" /bin/true)")
	done
	echo "BENCH podman run -d --rm /bin/true: $(printf '%s\n' "${samples[@]}" | med)"
	for i in $(seq 100); do
		pm run -d --name "bench-$i" "${run_flags[@]}" "$image" sleep 600 >/dev/null 2>&1
	done
	samples=()
	for _ in $(seq "$OCI_PODMAN_BENCH"); do
		samples+=("$(usec pm ps)")
	done
	echo "BENCH podman ps, $(pm ps -q | wc -l) containers: $(printf '%s\n' "${samples[@]}" | med)"
	pm rm --all --force --time 0 >/dev/null 2>&1
fi

# Nothing left behind: stop podman's own leftovers (image, conmon cgroup) and look for ours.
pm rmi --all --force >/dev/null 2>&1
wait_procs_gone "$tmp" 20
procs=$(procs_under "$tmp" | tr '\n' ' ')
mounts=$(mounts_under "$tmp" | tr '\n' ' ')
[ -z "$procs" ] && [ -z "$mounts" ]
check "cleanup: no process or mount is left" $? "processes: ${procs:-none}; mounts: ${mounts:-none}"
teardown
cgs=$(cgroups_named "$cgparent" | tr '\n' ' ')
[ -z "$cgs" ] && [ ! -e "$tmp" ]
check "cleanup: no cgroup or temp dir is left" $? "cgroups: ${cgs:-none}; temp dir $([ -e "$tmp" ] && echo present || echo gone)"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
