#!/bin/sh
# hand.sh - a hand-written, minimal container start in POSIX sh.
#
# The yardstick for the script that `gocker emit-script --rootfs ROOTFS CMD` renders:
# the same steps, with the same tools and the same effect, written compactly and with no
# checks. A session of its own (setsid) and stdin from /dev/null; new mount, UTS, IPC,
# PID and network namespaces (unshare makes / rprivate, and --kill-child is the
# pdeathsig); the setup capabilities kept in the inheritable set, then the bounding set
# cut and no_new_privs set (two setprivs: the first must come before the second); then,
# as PID 1: bind the rootfs onto itself, a fresh /proc with the kernel's settings
# read-only and its information masked (those files this kernel has), a tmpfs /dev with
# six device nodes and four links, the hostname, lo up, pivot_root and detach the old
# root, and exec the command through env -i and the container's setpriv, which drops
# the setup capabilities. After pivot_root, umount, env and setpriv are the rootfs's
# (busybox there). The rootfs must have /proc and /dev. Exits with the command's
# status (but util-linux 2.38's unshare --fork turns a SIGKILL into 1).
#
# Usage: sh hand.sh ROOTFS CMD [ARG...]
set -e
r=$1
shift
# shellcheck disable=SC2016 # expanded by the inner sh
setsid unshare --mount --uts --ipc --pid --net --fork --kill-child \
	setpriv --inh-caps +sys_admin,+net_admin \
	setpriv --no-new-privs --bounding-set -all,+chown,+dac_override,+fowner,+fsetid,+kill,+setgid,+setuid,+setpcap,+net_bind_service,+net_raw,+sys_chroot,+mknod,+audit_write,+setfcap \
	sh -c '
set -e
r=$1
shift
exec </dev/null
mount --rbind "$r" "$r"
mount -t proc -o nosuid,nodev,noexec proc "$r/proc"
for f in bus fs irq sys sysrq-trigger; do
	[ -e "$r/proc/$f" ] || continue
	mount --rbind "$r/proc/$f" "$r/proc/$f"
	mount -o remount,bind,ro,nosuid,nodev,noexec "$r/proc/$f"
done
for f in kcore keys latency_stats timer_list sched_debug; do
	[ ! -e "$r/proc/$f" ] || mount --bind /dev/null "$r/proc/$f"
done
if [ ! -c "$r/dev/null" ]; then
	mount -t tmpfs -o nosuid,noexec,mode=755,size=64k tmpfs "$r/dev"
	cd "$r/dev"
	mknod -m 666 null c 1 3
	mknod -m 666 zero c 1 5
	mknod -m 666 full c 1 7
	mknod -m 666 random c 1 8
	mknod -m 666 urandom c 1 9
	mknod -m 666 tty c 5 0
	ln -s /proc/self/fd fd
	ln -s /proc/self/fd/0 stdin
	ln -s /proc/self/fd/1 stdout
	ln -s /proc/self/fd/2 stderr
fi
hostname gocker
ip link set lo up
cd "$r"
pivot_root . .
umount -l .
cd /
exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOSTNAME=gocker HOME=/root setpriv --inh-caps -sys_admin,-net_admin -- "$@"' \
	sh "$r" "$@"
