#!/usr/bin/env bash
# containerd's client flow against one OCI runtime binary (issue 14): `ctr run --rm --runc-binary
# RUNTIME` on an image imported from an OCI image layout built here, its output and exit status.
#
#   tests/oci/containerd.sh RUNTIME
#
# A private containerd: root, state, opt and its sockets under one temp dir, the CRI plugin disabled
# (no CNI, no iptables), its own namespace; ctr's fifos and the runtime's --root under the temp dir
# too. The image is a busybox rootfs from `gocker rootfs busybox` ($GOCKER, else the newest release
# build) as one gzip layer of a minimal OCI layout (oci-layout, index.json, manifest, config, with
# their sha256 digests), `ctr images import`ed. Prints PASS/FAIL per flow and "N passed, M failed";
# exits 1 when anything failed. The last checks are that nothing is left: containerd and its shims
# stopped, no mount, no cgroup, no shim socket, no temp dir. Needs root, containerd, ctr,
# containerd-shim-runc-v2, tar, gzip.
set -uo pipefail
# shellcheck source=tests/oci/lib.sh
. "$(dirname "$0")/lib.sh"

[ $# = 1 ] || {
	echo "usage: $0 RUNTIME" >&2
	exit 2
}
need_root_and containerd ctr containerd-shim-runc-v2 tar gzip sha256sum
runtime=$(resolve_runtime "$1") || exit 2
gocker=$(find_gocker) || exit 2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gocker-oci-containerd.XXXXXX")
ns=$(basename "$tmp")
image=localhost/gocker-oci-busybox:latest
daemon=""
torn_down=0
ids=(gocker-oci-1 gocker-oci-2 gocker-oci-3 gocker-oci-4)
# containerd 1.6 puts shim sockets in /run/containerd/s whatever its state dir: note whether that
# directory was there, so that one made here is removed and nothing of ours stays in it.
had_run_containerd=0
[ -e /run/containerd ] && had_run_containerd=1

cat >"$tmp/config.toml" <<EOF
version = 2
root = "$tmp/root"
state = "$tmp/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$tmp/containerd.sock"
[ttrpc]
  address = "$tmp/containerd.sock.ttrpc"
[debug]
  address = "$tmp/debug.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$tmp/opt"
EOF

c() {
	ctr --address "$tmp/containerd.sock" --namespace "$ns" "$@"
}
run_flags=(--rm --runc-binary "$runtime" --runc-root "$tmp/runc" --fifo-dir "$tmp/fifo")

# the shim sockets of our containers still there: each is named by the sha256 of
# "<containerd address>/<namespace>/<id>" (runtime/v2/shim SocketAddress), so another containerd's
# are never touched.
our_shim_sockets() {
	local id h
	for id in "${ids[@]}"; do
		h=$(printf '%s' "$tmp/containerd.sock/$ns/$id" | sha256sum | cut -d' ' -f1)
		[ -e "/run/containerd/s/$h" ] && echo "/run/containerd/s/$h"
	done
	return 0
}

# Stops containerd and whatever it started, removes what this script made; idempotent.
teardown() {
	[ "$torn_down" = 1 ] && return
	torn_down=1
	if [ -n "$daemon" ]; then
		local t
		for t in $(c tasks ls --quiet 2>/dev/null); do
			c tasks kill --signal 9 "$t" >/dev/null 2>&1
			c tasks delete --force "$t" >/dev/null 2>&1
		done
		for t in $(c containers ls --quiet 2>/dev/null); do c containers delete "$t" >/dev/null 2>&1; done
		kill "$daemon" 2>/dev/null
		wait "$daemon" 2>/dev/null
	fi
	# shellcheck disable=SC2046 # one pid per word
	wait_procs_gone "$tmp" 10 || kill -9 $(procs_under "$tmp") 2>/dev/null
	wait_procs_gone "$tmp" 5
	local m
	for m in $(mounts_under "$tmp"); do umount -l "$m" 2>/dev/null; done
	remove_cgroups_named "$ns"
	for m in $(our_shim_sockets); do rm -f "$m"; done
	if [ "$had_run_containerd" = 0 ]; then
		rmdir /run/containerd/s /run/containerd 2>/dev/null
	fi
	rm -rf --one-file-system "$tmp"
}
trap teardown EXIT
trap 'exit 130' INT TERM

echo "containerd flows against $runtime ($("$runtime" --version 2>/dev/null | head -n1))"

containerd --config "$tmp/config.toml" >"$tmp/containerd.log" 2>&1 &
daemon=$!
up=1
for _ in $(seq 100); do
	if c version >/dev/null 2>&1; then
		up=0
		break
	fi
	kill -0 "$daemon" 2>/dev/null || break
	sleep 0.1
done
check "containerd: a private instance answers on its own socket" "$up" "$(tail -n 5 "$tmp/containerd.log")"
if [ "$up" != 0 ]; then
	echo "$passed passed, $failed failed"
	exit 1
fi

# The OCI image layout: blobs named by their sha256, sizes exact, one gzip layer.
layout=$tmp/layout
blobs=$layout/blobs/sha256
mkdir -p "$blobs"
arch=$(uname -m)
case $arch in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
blob() { # blob FILE: moves FILE into the layout, prints its digest
	local d
	d=$(sha256sum "$1" | cut -d' ' -f1)
	mv "$1" "$blobs/$d"
	echo "$d"
}
size() { stat -c %s "$blobs/$1"; }
layout_ok=1
if "$gocker" rootfs busybox "$tmp/rootfs" >"$tmp/rootfs.log" 2>&1 &&
	tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$tmp/rootfs" -cf "$tmp/layer.tar" . &&
	gzip -n -c "$tmp/layer.tar" >"$tmp/layer.tar.gz"; then
	diff_id=$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
	layer=$(blob "$tmp/layer.tar.gz")
	printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
		"$arch" "$diff_id" >"$tmp/config.json"
	config=$(blob "$tmp/config.json")
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
		"$config" "$(size "$config")" "$layer" "$(size "$layer")" >"$tmp/manifest.json"
	manifest=$(blob "$tmp/manifest.json")
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"latest"}}]}' \
		"$manifest" "$(size "$manifest")" "$arch" "$image" >"$layout/index.json"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
	tar -C "$layout" -cf "$tmp/image.tar" oci-layout index.json blobs && layout_ok=0
fi
imported=1
if [ "$layout_ok" = 0 ] && c images import "$tmp/image.tar" >"$tmp/import.log" 2>&1 &&
	c images ls --quiet | grep -qx "$image"; then
	imported=0
fi
check "import: an OCI layout of gocker's busybox rootfs becomes $image" "$imported" \
	"$(cat "$tmp/rootfs.log" "$tmp/import.log" 2>/dev/null)"
if [ "$imported" != 0 ]; then
	echo "$passed passed, $failed failed"
	exit 1
fi

# ctr run --rm: the output reaches ctr's stdout and the container's exit status is ctr's.
out=$(c run "${run_flags[@]}" "$image" gocker-oci-1 /bin/sh -c 'echo hello from the container; exit 3' </dev/null 2>"$tmp/err")
st=$?
[ "$out" = "hello from the container" ] && [ "$st" = 3 ]
check "run --rm: output and exit status 3" $? "status $st, output '$out', stderr: $(cat "$tmp/err")"
out=$(c run "${run_flags[@]}" "$image" gocker-oci-2 /bin/true </dev/null 2>"$tmp/err")
st=$?
[ -z "$out" ] && [ "$st" = 0 ]
check "run --rm: exit status 0" $? "status $st, output '$out', stderr: $(cat "$tmp/err")"

# The runtime puts the container in the cgroup the spec names (ctr: /NAMESPACE/ID), so the
# checks below that it is gone look in the right place.
out=$(c run "${run_flags[@]}" "$image" gocker-oci-3 /bin/cat /proc/self/cgroup </dev/null 2>"$tmp/err")
st=$?
printf '%s\n' "$out" | grep -q ":/$ns/gocker-oci-3\$" && [ "$st" = 0 ]
check "run --rm: the container runs in the cgroup /$ns/gocker-oci-3" $? "status $st, output '$out', stderr: $(cat "$tmp/err")"

# containerd's default spec sends device rules (deny all, then null, zero, full, random,
# urandom, tty, console, ptmx and pts): the runtime applies them, so /dev/null's numbers can
# be made and written, a disk's cannot even be made.
out=$(c run "${run_flags[@]}" "$image" gocker-oci-4 /bin/sh -c 'mknod /tmp/null c 1 3 && echo x >/tmp/null && echo null ok; mknod /tmp/disk b 8 0 2>&1; exit 0' </dev/null 2>"$tmp/err")
st=$?
printf '%s\n' "$out" | grep -qx "null ok" && printf '%s\n' "$out" | grep -q "disk: Operation not permitted" && [ "$st" = 0 ]
check "run --rm: the spec's device rules apply (c 1:3 made and written, b 8:0 refused)" $? "status $st, output '$out', stderr: $(cat "$tmp/err")"

# --rm removed the containers, their tasks, snapshots and cgroups.
left="$(c containers ls --quiet 2>&1)$(c tasks ls --quiet 2>&1)"
[ -z "$left" ]
check "run --rm: no container or task is left" $? "left: $left"
c snapshots info gocker-oci-1 >/dev/null 2>&1
st1=$?
c snapshots info gocker-oci-2 >/dev/null 2>&1
st2=$?
c snapshots info gocker-oci-3 >/dev/null 2>&1
st3=$?
c snapshots info gocker-oci-4 >/dev/null 2>&1
st4=$?
[ "$st1" != 0 ] && [ "$st2" != 0 ] && [ "$st3" != 0 ] && [ "$st4" != 0 ]
check "run --rm: the containers' snapshots are removed" $? "snapshots info said $st1, $st2, $st3 and $st4"
cgs=$(for id in "${ids[@]}"; do cgroups_named "$id" | grep "/$ns/$id\$"; done)
[ -z "$cgs" ]
check "run --rm: the containers' cgroups are gone" $? "left: $cgs"

# Nothing left behind once containerd is stopped.
c images rm "$image" >/dev/null 2>&1
kill "$daemon"
wait "$daemon" 2>/dev/null
daemon=""
wait_procs_gone "$tmp" 10
procs=$(procs_under "$tmp" | tr '\n' ' ')
mounts=$(mounts_under "$tmp" | tr '\n' ' ')
socks=$(our_shim_sockets | tr '\n' ' ')
[ -z "$procs" ] && [ -z "$mounts" ] && [ -z "$socks" ]
check "cleanup: containerd and its shims stopped, no mount or shim socket left" $? \
	"processes: ${procs:-none}; mounts: ${mounts:-none}; shim sockets: ${socks:-none}"
teardown
cgs=$(cgroups_named "$ns" | tr '\n' ' ')
[ -z "$cgs" ] && [ ! -e "$tmp" ]
check "cleanup: no cgroup or temp dir is left" $? "cgroups: ${cgs:-none}; temp dir $([ -e "$tmp" ] && echo present || echo gone)"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
