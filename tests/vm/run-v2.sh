#!/usr/bin/env bash
# cgroup-v2 VM test lane for gocker.
#
# Boots a Debian cloud kernel with cgroup v1 disabled (cgroup_no_v1=all) under
# qemu with TCG (software emulation: no KVM needed, nested guests are not
# reliable), with an initramfs holding a static busybox, the gocker release
# binary and tests/vm/guest-checks.sh. The guest runs the checks, prints
#   GOCKER-VM-RESULT: N passed, M failed
#   GOCKER-VM-EXIT: RC
# and powers off. This script streams the guest console, parses those lines,
# prints "N passed, M failed" and exits with the guest's status (non-zero if
# the guest crashed, hung or never reported, or if fewer checks ran than
# guest-checks.sh defines).
#
# Usage: tests/vm/run-v2.sh [--no-build] [--shell] [--only PATTERN] [--keep] [-v]
#   --no-build      use the existing release binary (do not run cargo build)
#   --shell         boot to an interactive guest shell instead of the checks
#   --only PATTERN  run only the checks whose name contains PATTERN
#   --keep          keep the work directory (initramfs, console log)
#   -v, --verbose   show the log of passed checks too
# Environment:
#   GOCKER_VM_CACHE    cache dir (default ${XDG_CACHE_HOME:-$HOME/.cache}/gocker-vm)
#   GOCKER_VM_KERNEL   use this kernel image instead of the cached Debian one
#   GOCKER_VM_BIN      use this gocker binary (implies --no-build)
#   GOCKER_VM_TIMEOUT  seconds before the guest is killed (default 420)
#   GOCKER_VM_MEM      guest memory in MiB (default 512)
#   GOCKER_VM_VERBOSE  set to 1 to show kernel boot messages
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
CACHE_DIR=${GOCKER_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gocker-vm}
TIMEOUT=${GOCKER_VM_TIMEOUT:-420}
MEM=${GOCKER_VM_MEM:-512}
KERNEL_META=linux-image-cloud-amd64

build=1
mode=checks
only=
keep=0
verbose=0
while [ $# -gt 0 ]; do
    case $1 in
        --no-build) build=0 ;;
        --shell) mode=shell ;;
        --only) only=${2:?--only needs a pattern}; shift ;;
        --keep) keep=1 ;;
        -v|--verbose) verbose=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "run-v2.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
if [ -n "${GOCKER_VM_BIN:-}" ]; then build=0; fi

log() { printf '[run-v2] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }
now() { date +%s; }

T_START=$(now)

# ---------------------------------------------------------------- host tools

# Prints the path of a statically linked busybox, if there is one.
find_static_busybox() {
    local c out
    for c in /bin/busybox /usr/bin/busybox "$(command -v busybox 2>/dev/null || true)"; do
        if [ -z "$c" ] || [ ! -x "$c" ]; then continue; fi
        out=$(LC_ALL=C ldd "$c" 2>&1) || true
        if printf '%s\n' "$out" | grep -q -e 'not a dynamic executable' -e 'statically linked'; then
            printf '%s\n' "$c"
            return 0
        fi
    done
    return 1
}

apt_updated=0
apt_update_once() {
    if [ "$apt_updated" = 0 ]; then
        log "apt-get update"
        apt-get update -q >&2
        apt_updated=1
    fi
}

ensure_host_tools() {
    local pkgs=()
    command -v qemu-system-x86_64 >/dev/null 2>&1 || pkgs+=(qemu-system-x86)
    find_static_busybox >/dev/null || pkgs+=(busybox-static)
    command -v cargo >/dev/null 2>&1 || [ "$build" = 0 ] || die "cargo not found"
    if [ ${#pkgs[@]} -gt 0 ]; then
        [ "$(id -u)" = 0 ] || die "missing ${pkgs[*]}; run as root or install them"
        apt_update_once
        log "installing ${pkgs[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2
    fi
    BUSYBOX=$(find_static_busybox) || die "no static busybox found after installing busybox-static"
}

# ---------------------------------------------------------------- kernel

# Sets KERNEL to a cached Debian cloud kernel, downloading it the first time.
ensure_kernel() {
    if [ -n "${GOCKER_VM_KERNEL:-}" ]; then
        KERNEL=$GOCKER_VM_KERNEL
        [ -r "$KERNEL" ] || die "GOCKER_VM_KERNEL=$KERNEL is not readable"
        return
    fi
    mkdir -p "$CACHE_DIR"
    local k newest=
    for k in "$CACHE_DIR"/vmlinuz-*; do
        [ -f "$k" ] && newest=$k
    done
    if [ -n "$newest" ]; then
        KERNEL=$newest
        return
    fi
    local pkg
    pkg=$(apt-cache depends "$KERNEL_META" 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }') || true
    if [ -z "$pkg" ]; then
        apt_update_once
        pkg=$(apt-cache depends "$KERNEL_META" | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
    fi
    [ -n "$pkg" ] || die "cannot resolve $KERNEL_META to a kernel package"
    log "downloading kernel package $pkg"
    local dl
    dl=$(mktemp -d "${TMPDIR:-/tmp}/gocker-vm-kernel.XXXXXX")
    # apt drops privileges to _apt for downloads; let it write here.
    if id _apt >/dev/null 2>&1; then chown _apt "$dl" 2>/dev/null || true; fi
    (cd "$dl" && apt-get download -q "$pkg" >&2)
    dpkg-deb -x "$dl"/*.deb "$dl/x"
    for k in "$dl"/x/boot/vmlinuz-*; do
        [ -f "$k" ] || die "no vmlinuz in $pkg"
        cp "$k" "$CACHE_DIR/"
        KERNEL=$CACHE_DIR/$(basename "$k")
        cp "$dl"/x/lib/modules/"${k##*/vmlinuz-}"/kernel/fs/overlayfs/overlay.ko \
            "$CACHE_DIR/overlay-${k##*/vmlinuz-}.ko" 2>/dev/null || true
    done
    rm -rf "$dl"
}

# Sets OVERLAY_KO to overlayfs' module for $KERNEL, which gocker run's copy-on-write root
# needs (the cloud kernel has overlayfs as a module), from the kernel's own package,
# cached beside it. A kernel given with GOCKER_VM_KERNEL must have overlayfs built in.
ensure_overlay_module() {
    OVERLAY_KO=
    [ -z "${GOCKER_VM_KERNEL:-}" ] || return 0
    local ver=${KERNEL##*/vmlinuz-}
    OVERLAY_KO=$CACHE_DIR/overlay-$ver.ko
    [ ! -f "$OVERLAY_KO" ] || return 0
    log "downloading linux-image-$ver for its overlay module"
    local dl
    dl=$(mktemp -d "${TMPDIR:-/tmp}/gocker-vm-kernel.XXXXXX")
    if id _apt >/dev/null 2>&1; then chown _apt "$dl" 2>/dev/null || true; fi
    if ! (cd "$dl" && apt-get download -q "linux-image-$ver" >&2); then
        apt_update_once
        (cd "$dl" && apt-get download -q "linux-image-$ver" >&2)
    fi
    dpkg-deb -x "$dl"/*.deb "$dl/x"
    cp "$dl/x/lib/modules/$ver/kernel/fs/overlayfs/overlay.ko" "$OVERLAY_KO" ||
        die "no overlay module in linux-image-$ver"
    rm -rf "$dl"
}

# ---------------------------------------------------------------- gocker

ensure_gocker() {
    if [ -n "${GOCKER_VM_BIN:-}" ]; then
        GOCKER=$GOCKER_VM_BIN
    else
        if [ "$build" = 1 ]; then
            log "cargo build --release"
            (cd "$REPO_ROOT" && cargo build --release) || die "cargo build --release failed"
        fi
        # .cargo/config.toml builds for the host tuple: binaries land in target/<host>/.
        GOCKER=${CARGO_TARGET_DIR:-$REPO_ROOT/target}/$(rustc -vV | sed -n 's/^host: //p')/release/gocker
        case $GOCKER in /*) ;; *) GOCKER=$REPO_ROOT/$GOCKER ;; esac
    fi
    [ -x "$GOCKER" ] || die "gocker binary not found at $GOCKER"
}

# ---------------------------------------------------------------- initramfs

# copy_with_libs SRC DEST: copies an ELF binary into the initramfs at DEST,
# along with the shared libraries ldd reports, at the same paths as here.
copy_with_libs() {
    local src=$1 dest=$2 lib
    install -D -m 0755 "$src" "$STAGE$dest"
    while read -r lib; do
        if [ -z "$lib" ] || [ -e "$STAGE$lib" ]; then continue; fi
        mkdir -p "$STAGE$(dirname "$lib")"
        cp -L "$lib" "$STAGE$lib"
    done < <(LC_ALL=C ldd "$src" 2>/dev/null | awk '
        $2 == "=>" && $3 ~ /^\// { print $3; next }
        $1 ~ /^\// { print $1 }')
}

write_init() {
    # Stage 1: the initramfs root ("rootfs") cannot be pivot_root'ed away from.
    # First, while still on it, gocker runs one container there (it must fall
    # back to moving the root onto / and chroot'ing, and say so); the outcome is
    # kept in /stage1/ for guest-checks.sh to judge. Then everything is copied
    # into a tmpfs and switch_root'ed into, for the cgroup-v2 checks.
    cat > "$STAGE/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mkdir -p /stage1 /sys/fs/cgroup
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox mount -t cgroup2 cgroup2 /sys/fs/cgroup
[ ! -f /lib/modules/overlay.ko ] || /bin/busybox insmod /lib/modules/overlay.ko
export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin
gocker rootfs busybox /stage1/root >/stage1/rootfs.log 2>&1
/bin/busybox ls -a / >/stage1/host-before
# shellcheck disable=SC2016 # expanded by the container's shell
gocker run --rootfs /stage1/root /bin/sh -c \
    'echo pid=$$; [ / -ef /.. ] && echo dotdot-is-root; ls /.. | grep -c -x stage1; echo marker >/../stage1-escape 2>/dev/null; exit 7' \
    >/stage1/out 2>/stage1/err
echo "$?" >/stage1/status
/bin/busybox ls -a / >/stage1/host-after
/bin/busybox umount /sys/fs/cgroup /dev /sys /proc
/bin/busybox mkdir -p /newroot
/bin/busybox mount -t tmpfs -o mode=0755 tmpfs /newroot
for d in /*; do
    case $d in /newroot|/init|/proc|/sys|/dev) continue ;; esac
    /bin/busybox cp -a "$d" /newroot/
done
/bin/busybox mkdir -p /newroot/proc /newroot/sys /newroot/dev
exec /bin/busybox switch_root /newroot /sbin/gocker-vm-init
EOF
    chmod 0755 "$STAGE/init"

    # Stage 2: a minimal cgroup-v2 host. Like systemd, it enables the common
    # controllers in the root cgroup's subtree_control.
    mkdir -p "$STAGE/sbin"
    cat > "$STAGE/sbin/gocker-vm-init" <<'EOF'
#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=${TERM:-linux}
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /sys/fs/cgroup
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
hostname gocker-vm
ip link set lo up 2>/dev/null
for c in cpu io memory pids; do
    echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
done
echo "gocker-vm: kernel $(uname -r), cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)," \
     "root subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
if [ "${gocker_vm_mode:-checks}" = shell ]; then
    echo "gocker-vm: interactive shell; 'poweroff -f' to leave"
    setsid cttyhack sh -l
    rc=0
else
    GOCKER_VM_ONLY=${gocker_vm_only:-} GOCKER_VM_CHECKS_VERBOSE=${gocker_vm_verbose:-0} \
        sh /tests/guest-checks.sh
    rc=$?
fi
echo "GOCKER-VM-EXIT: $rc"
sync
poweroff -f
EOF
    chmod 0755 "$STAGE/sbin/gocker-vm-init"
}

build_initramfs() {
    STAGE=$WORK/stage
    rm -rf "$STAGE"
    mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,root,tmp,run,proc,sys,dev,tests,opt}

    # static busybox and its applets
    install -m 0755 "$BUSYBOX" "$STAGE/bin/busybox"
    local applet
    while read -r applet; do
        if [ -z "$applet" ] || [ -e "$STAGE/$applet" ] || [ -L "$STAGE/$applet" ]; then continue; fi
        mkdir -p "$STAGE/$(dirname "$applet")"
        ln -s /bin/busybox "$STAGE/$applet"
    done < <("$BUSYBOX" --list-full)

    # gocker, dynamically linked: bring its libraries along
    copy_with_libs "$GOCKER" /usr/local/bin/gocker
    # overlayfs, for run's copy-on-write root: loaded by init
    [ -z "$OVERLAY_KO" ] || install -D -m 0644 "$OVERLAY_KO" "$STAGE/lib/modules/overlay.ko"

    # util-linux tools for the scripts printed by `gocker emit-script`
    # (busybox has applets of the same names with fewer options). They go to
    # /opt/util-linux/bin, which the checks put first in PATH when needed.
    local tool p
    for tool in unshare nsenter mount umount pivot_root setsid setpriv; do
        p=$(PATH=/usr/bin:/bin:/usr/sbin:/sbin command -v "$tool" 2>/dev/null) || continue
        copy_with_libs "$p" "/opt/util-linux/bin/$tool"
    done

    install -m 0755 "$SCRIPT_DIR/guest-checks.sh" "$STAGE/tests/guest-checks.sh"

    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$STAGE/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$STAGE/etc/group"
    printf '127.0.0.1 localhost\n' > "$STAGE/etc/hosts"
    : > "$STAGE/etc/fstab"

    write_init

    INITRD=$WORK/initramfs.cpio.gz
    (cd "$STAGE" && find . -mindepth 1 | "$BUSYBOX" cpio -o -H newc -R 0:0 2>"$WORK/cpio.log") \
        | gzip -1 > "$INITRD"
}

# ---------------------------------------------------------------- boot

boot() {
    local append="console=ttyS0 cgroup_no_v1=all panic=-1 rdinit=/init"
    [ "${GOCKER_VM_VERBOSE:-0}" = 1 ] || append+=" quiet"
    append+=" gocker_vm_mode=$mode"
    [ -z "$only" ] || append+=" gocker_vm_only=\"${only//\"/}\""
    [ "$verbose" = 0 ] || append+=" gocker_vm_verbose=1"
    local qemu=(qemu-system-x86_64 -accel "tcg,thread=multi" -cpu max -machine q35
        -m "$MEM" -smp 2 -nodefaults -nographic -serial stdio -monitor none -no-reboot
        -kernel "$KERNEL" -initrd "$INITRD" -append "$append")
    CONSOLE_LOG=$WORK/console.log
    if [ "$mode" = shell ]; then
        "${qemu[@]}"
        return 0
    fi
    log "booting $(basename "$KERNEL") (TCG, timeout ${TIMEOUT}s)"
    set +e
    timeout -k 10 "$TIMEOUT" "${qemu[@]}" </dev/null 2>&1 \
        | sed -u -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' -e 's/\r$//' | tee "$CONSOLE_LOG"
    QEMU_RC=${PIPESTATUS[0]}
    set -e
}

# ---------------------------------------------------------------- main

ensure_host_tools
ensure_kernel
ensure_overlay_module
ensure_gocker
T_BUILT=$(now)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gocker-vm.XXXXXX")
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    if [ "$keep" = 1 ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

build_initramfs
log "initramfs $(du -h "$INITRD" | cut -f1) (gocker: $GOCKER)"
T_BOOT=$(now)
boot
T_END=$(now)

[ "$mode" = shell ] && exit 0

result=$(grep -a -o 'GOCKER-VM-RESULT: [0-9]* passed, [0-9]* failed' "$CONSOLE_LOG" | tail -n 1) || true
guest_rc=$(grep -a -o 'GOCKER-VM-EXIT: [0-9]*' "$CONSOLE_LOG" | tail -n 1 | awk '{ print $2 }') || true

echo
log "timings: setup+build $((T_BUILT - T_START))s, initramfs $((T_BOOT - T_BUILT))s, boot+checks $((T_END - T_BOOT))s, total $((T_END - T_START))s"
if [ -z "$result" ] || [ -z "$guest_rc" ]; then
    if [ "$QEMU_RC" = 124 ] || [ "$QEMU_RC" = 137 ]; then
        log "guest timed out after ${TIMEOUT}s without reporting a result"
    else
        log "guest crashed or stopped without reporting a result (qemu exit $QEMU_RC)"
    fi
    if [ -n "$result" ]; then echo "${result#GOCKER-VM-RESULT: }"; fi
    exit 3
fi
echo "${result#GOCKER-VM-RESULT: }"
# Every check guest-checks.sh defines must have run: fewer is a failure, unless --only
# asked for fewer (and then at least one must have run).
defined=$(grep -c '^check "' "$SCRIPT_DIR/guest-checks.sh")
ran=$(echo "$result" | awk '{ print $2 + $4 }')
if [ -n "$only" ]; then
    log "--only $only: $ran of the $defined checks ran"
    [ "$ran" -gt 0 ] || { log "no check matched --only $only"; exit 4; }
elif [ "$ran" != "$defined" ]; then
    log "only $ran of the $defined checks ran"
    exit 4
fi
exit "$guest_rc"
