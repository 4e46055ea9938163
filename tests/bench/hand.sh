#!/bin/sh
# hand.sh - a hand-written, minimal container start in POSIX sh.
#
# The yardstick for the script that `gocker emit-script` renders: the same
# steps as floor.c, done with util-linux's unshare and the mount tools:
# new mount/uts/ipc/pid/net namespaces, make / private, bind the rootfs onto
# itself, pivot_root into it, detach the old root, mount /proc, set the
# hostname, exec the command.  Like any script that pivots first, it runs
# umount/mount/hostname from the rootfs after pivot_root (busybox there).
#
# Usage: sh hand.sh ROOTFS CMD [ARG...]
set -e
[ $# -ge 2 ] || { echo "usage: hand.sh ROOTFS CMD [ARG...]" >&2; exit 2; }
# shellcheck disable=SC2016 # expanded by the inner sh
exec unshare --mount --uts --ipc --pid --net --fork --propagation private \
	sh -c '
	set -e
	mount --bind "$1" "$1"
	cd "$1"
	pivot_root . .
	umount -l .
	mount -t proc -o nosuid,nodev,noexec proc /proc
	hostname hand
	shift
	exec "$@"' hand "$@"
