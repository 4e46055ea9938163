#!/bin/sh
# hand.sh - a hand-written, minimal container start in POSIX sh.
#
# The yardstick for the script that `gocker emit-script --rootfs ROOTFS CMD` renders:
# the same processes and steps, with the same tools and the same effect, written
# compactly and with none of its checks (no tool lookup, no busybox check, no path
# resolution inside the rootfs, no command lookup). As the script does:
#   run:   setpriv --pdeathsig, setup capabilities kept in the inheritable set, unshare
#          of mount, UTS, IPC, PID and network namespaces (/ made private), setsid, then
#          this file again;
#   start: setpriv cuts the bounding set and sets no_new_privs, and runs the host's
#          static busybox sh as PID 1 on this file;
#   child: fds above 2 closed, stdin from /dev/null, the rootfs bound onto itself, a
#          fresh /proc with the kernel's settings read-only and its information masked
#          (those files this kernel has), a tmpfs /dev with six device nodes and four
#          links unless the rootfs has its own, lo up, pivot_root and detach the old
#          root, the hostname, and the command through env -i, setpriv (dropping the
#          setup capabilities) and start-stop-daemon, all busybox applets.
# Exits with the command's status.
#
# Usage: sh hand.sh ROOTFS CMD [ARG...]
set -eu
case ${1-} in
start)
	shift
	# Not exec'd: the first child made after unshare --pid is the namespace's PID 1.
	"$host_setpriv" --pdeathsig KILL --no-new-privs \
		--bounding-set -all,+chown,+dac_override,+fowner,+fsetid,+kill,+setgid,+setuid,+setpcap,+net_bind_service,+net_raw,+sys_chroot,+mknod,+audit_write,+setfcap \
		-- "$busybox" sh "$0" child "$@"
	exit
	;;
child)
	shift
	r=$1
	shift
	# The host's mount, mknod and pivot_root, as the script runs them (not busybox's).
	mount() { "$host_mount" "$@"; }
	mknod() { "$host_mknod" "$@"; }
	pivot_root() { "$host_pivot_root" "$@"; }
	for fd in /proc/self/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] || continue
		eval "exec $fd<&-" 2>/dev/null || :
	done
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
		mknod -m 666 "$r/dev/null" c 1 3
		mknod -m 666 "$r/dev/zero" c 1 5
		mknod -m 666 "$r/dev/full" c 1 7
		mknod -m 666 "$r/dev/random" c 1 8
		mknod -m 666 "$r/dev/urandom" c 1 9
		mknod -m 666 "$r/dev/tty" c 5 0
		ln -s /proc/self/fd "$r/dev/fd"
		ln -s /proc/self/fd/0 "$r/dev/stdin"
		ln -s /proc/self/fd/1 "$r/dev/stdout"
		ln -s /proc/self/fd/2 "$r/dev/stderr"
	fi
	ip link set lo up
	cd "$r"
	pivot_root . .
	umount -l .
	cd /
	hostname gocker
	exe=$1
	shift
	exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOSTNAME=gocker HOME=/root \
		setpriv --inh-caps -sys_admin,-net_admin -- \
		start-stop-daemon -S -q -x "$exe" -- "$@"
	;;
esac
r=$1
shift
busybox=$(command -v busybox)
host_mount=$(command -v mount)
host_mknod=$(command -v mknod)
host_pivot_root=$(command -v pivot_root)
host_setpriv=$(command -v setpriv)
export busybox host_mount host_mknod host_pivot_root host_setpriv
status=0
setpriv --pdeathsig KILL --inh-caps -all,+sys_admin,+net_admin -- \
	unshare --mount --uts --ipc --pid --net --propagation private -- \
	setsid -- sh "$0" start "$r" "$@" || status=$?
exit "$status"
