#!/bin/sh
# gocker end-to-end checks for a cgroup-v2 host.
#
# Runs as root under busybox sh inside the VM booted by tests/vm/run-v2.sh,
# with cgroup2 mounted at /sys/fs/cgroup and cpu, memory and pids enabled in
# the root cgroup's subtree_control (as systemd does). Prints one PASS/FAIL
# line per check (with the check's log for failures) and, at the end,
#   GOCKER-VM-RESULT: N passed, M failed
# Exit status: 0 if every check passed, 1 otherwise.
#
# Environment: GOCKER (default gocker), GOCKER_ROOTFS (default /rootfs),
# GOCKER_VM_ONLY (run only checks whose name contains it),
# GOCKER_VM_CHECKS_VERBOSE=1 (show the log of passed checks too), GK_TIMEOUT
# (seconds allowed per gocker invocation, default 60).

GOCKER=${GOCKER:-gocker}
ROOTFS=${GOCKER_ROOTFS:-/rootfs}
CG=/sys/fs/cgroup
PARENT=$CG/gocker
GK_TIMEOUT=${GK_TIMEOUT:-60}
ONLY=${GOCKER_VM_ONLY:-}
VERBOSE=${GOCKER_VM_CHECKS_VERBOSE:-0}
UTIL_LINUX=/opt/util-linux/bin
T=$(mktemp -d /tmp/gocker-checks.XXXXXX)

passed=0
failed=0
failed_names=

# ------------------------------------------------------------------ harness

say() { printf '%s\n' "$*"; }
note() { say "note: $*"; }
# fail MESSAGE: ends the current check (checks run in a subshell).
fail() { say "FAILED: $*"; exit 1; }
# run CMD...: logs the command line, then runs it.
run() { say "+ $*" >&2; "$@"; }

# Centiseconds since boot.
uptime_cs() {
    read -r _up _ < /proc/uptime
    echo "${_up%.*}${_up#*.}"
}

# check NAME FUNCTION [ARG...]: runs FUNCTION in a subshell with its output
# captured; PASS if it returns 0.
check() {
    _name=$1
    shift
    if [ -n "$ONLY" ]; then
        case $_name in *"$ONLY"*) ;; *) return 0 ;; esac
    fi
    _log=$T/check-$((passed + failed + 1)).log
    _t0=$(uptime_cs)
    ( "$@" ) > "$_log" 2>&1 < /dev/null
    _rc=$?
    _t1=$(uptime_cs)
    _dt=$(( (_t1 - _t0) / 100 )).$(( (_t1 - _t0) % 100 / 10 ))
    if [ "$_rc" -eq 0 ]; then
        passed=$((passed + 1))
        say "PASS $_name (${_dt}s)"
        if [ "$VERBOSE" = 1 ]; then
            sed 's/^/     | /' "$_log"
        else
            grep '^note:' "$_log" | sed 's/^/     /'
        fi
    else
        failed=$((failed + 1))
        failed_names="$failed_names
  - $_name"
        say "FAIL $_name (${_dt}s, status $_rc)"
        sed 's/^/     | /' "$_log"
    fi
}

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
    if [ "$2" = "$3" ]; then
        say "ok: $1 = '$2'"
    else
        fail "$1: expected '$3', got '$2'"
    fi
}

# gk ARG...: gocker with a time limit and no stdin.
gk() { timeout "$GK_TIMEOUT" "$GOCKER" "$@" < /dev/null; }

# Leaf cgroups that currently exist under the gocker parent.
list_leaves() {
    for _d in "$PARENT"/*/; do
        [ -d "$_d" ] && echo "${_d%/}"
    done
}

# alive PID: true while PID runs (a zombie that was not waited for is dead).
alive() {
    [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# wait_new_leaf BEFORE PID: waits (up to ~20 s) for a leaf cgroup that is not
# in the list BEFORE and has a process in it, while PID is still alive.
# Prints its path.
wait_new_leaf() {
    _i=0
    while [ $_i -lt 400 ]; do
        for _l in $(list_leaves); do
            case "
$1
" in *"
$_l
"*) continue ;; esac
            # (cgroupfs files always have size 0: read them, don't test -s)
            if [ -n "$(cat "$_l/cgroup.procs" 2>/dev/null)" ]; then
                echo "$_l"
                return 0
            fi
        done
        alive "$2" || return 1
        sleep 0.05
        _i=$((_i + 1))
    done
    return 1
}

# stat_field FILE KEY: value of "KEY value" line in a flat-keyed file.
stat_field() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

# bg_limits OUT -- CMD...: runs CMD in the background (output to OUT), waits
# for its container's leaf cgroup, records cpu.max, memory.max and pids.max
# into LEAF / CPU_MAX / MEM_MAX / PIDS_MAX, then waits for CMD and sets RC.
bg_limits() {
    _out=$1
    shift 2
    _before=$(list_leaves)
    "$@" > "$_out" 2>&1 < /dev/null &
    _pid=$!
    LEAF=$(wait_new_leaf "$_before" "$_pid")
    if [ -n "$LEAF" ]; then
        CPU_MAX=$(cat "$LEAF/cpu.max" 2>&1)
        MEM_MAX=$(cat "$LEAF/memory.max" 2>&1)
        PIDS_MAX=$(cat "$LEAF/pids.max" 2>&1)
        SWAP_MAX=$(cat "$LEAF/memory.swap.max" 2>&1)
        PROCS=$(tr '\n' ' ' < "$LEAF/cgroup.procs" 2>&1)
    fi
    wait "$_pid"
    RC=$?
    say "+ $* -> status $RC"
    sed 's/^/  out: /' "$_out"
    [ -n "$LEAF" ] || fail "no new cgroup with a process appeared under $PARENT while the container ran"
    say "leaf $LEAF (procs: $PROCS)"
}

# ------------------------------------------------------------------ checks

t_check_report() {
    out=$(gk check 2>&1)
    rc=$?
    say "+ gocker check -> status $rc"
    say "$out"
    [ "$rc" -eq 0 ] || fail "gocker check exited $rc"
    echo "$out" | grep -q -i -e 'v2' -e 'cgroup2' || fail "report does not mention v2/cgroup2"
    for c in cpu memory pids; do
        echo "$out" | grep -q -w "$c" || fail "report does not mention controller $c"
    done
    out=$(gk check --json 2>&1)
    rc=$?
    say "+ gocker check --json -> status $rc"
    say "$out"
    [ "$rc" -eq 0 ] || fail "gocker check --json exited $rc"
    case $out in '{'*) ;; *) fail "--json output does not start with '{'" ;; esac
    echo "$out" | grep -q -i -e 'v2' -e 'cgroup2' || fail "json report does not mention v2/cgroup2"
}

t_rootfs() {
    if [ -x "$ROOTFS/bin/busybox" ] || [ -x "$ROOTFS/bin/sh" ]; then
        fail "$ROOTFS already exists (rootfs check must run first)"
    fi
    run gk rootfs busybox "$ROOTFS" || fail "gocker rootfs busybox failed"
    [ -x "$ROOTFS/bin/sh" ] || fail "$ROOTFS/bin/sh missing"
    run ls "$ROOTFS" "$ROOTFS/bin" | head -n 20
}

# Lays out a busybox rootfs by hand if `gocker rootfs` could not.
fallback_rootfs() {
    [ -x "$ROOTFS/bin/sh" ] && return 0
    say "note: laying out $ROOTFS by hand (gocker rootfs busybox did not)"
    mkdir -p "$ROOTFS"
    for d in bin sbin usr/bin usr/sbin etc root tmp proc sys dev; do
        mkdir -p "$ROOTFS/$d"
    done
    chmod 1777 "$ROOTFS/tmp"
    cp /bin/busybox "$ROOTFS/bin/busybox"
    busybox --list-full | while read -r a; do
        [ -e "$ROOTFS/$a" ] || ln -s /bin/busybox "$ROOTFS/$a"
    done
    cp /etc/passwd /etc/group "$ROOTFS/etc/"
}

t_run_basic() {
    out=$(gk run --rootfs "$ROOTFS" echo hello 2>&1)
    rc=$?
    say "+ gocker run echo hello -> $rc: $out"
    expect_eq "exit status" "$rc" 0
    expect_eq "output" "$out" hello
    out=$(gk run --rootfs "$ROOTFS" hostname 2>&1)
    expect_eq "default hostname" "$out" gocker
    gk run --rootfs "$ROOTFS" sh -c 'exit 3'
    expect_eq "exit status of 'sh -c \"exit 3\"'" "$?" 3
    out=$(gk run --rootfs "$ROOTFS" sh -c 'echo $$' 2>&1)
    expect_eq "pid of the container's first process" "$out" 1
}

t_limits() {
    bg_limits "$T/limits.out" -- gk run --rootfs "$ROOTFS" --cpus 0.5 -m 32 --pids-limit 7 sleep 2
    expect_eq "cpu.max" "$CPU_MAX" "50000 100000"
    expect_eq "memory.max" "$MEM_MAX" 33554432
    expect_eq "pids.max" "$PIDS_MAX" 7
    # No swap beyond -m (this kernel accounts swap: the file is there).
    expect_eq "memory.swap.max" "$SWAP_MAX" 0
    expect_eq "exit status" "$RC" 0
    case $LEAF in "$PARENT"/*/*) fail "leaf $LEAF is not a direct child of $PARENT" ;; esac
    [ ! -e "$LEAF" ] || fail "cgroup $LEAF still exists after gocker exited"
    say "ok: $LEAF removed at exit"
}

t_parent() {
    [ -d "$PARENT" ] || fail "$PARENT does not exist"
    procs=$(cat "$PARENT/cgroup.procs")
    [ -z "$procs" ] || fail "$PARENT has processes: $procs"
    sc=$(cat "$PARENT/cgroup.subtree_control")
    say "$PARENT/cgroup.subtree_control: $sc"
    for c in cpu memory pids; do
        echo " $sc " | grep -q " $c " || fail "$c not enabled in $PARENT/cgroup.subtree_control"
    done
}

t_cpu_enforced() {
    _before=$(list_leaves)
    gk run --rootfs "$ROOTFS" --cpus 0.5 \
        sh -c 'timeout 6 sh -c "while :; do :; done"; exit 0' > "$T/cpu.out" 2>&1 &
    pid=$!
    leaf=$(wait_new_leaf "$_before" "$pid") || { wait "$pid"; cat "$T/cpu.out"; fail "no leaf cgroup appeared"; }
    say "leaf $leaf, cpu.max $(cat "$leaf/cpu.max")"
    sleep 1
    u0=$(stat_field "$leaf/cpu.stat" usage_usec)
    t0=$(uptime_cs)
    sleep 3
    u1=$(stat_field "$leaf/cpu.stat" usage_usec)
    t1=$(uptime_cs)
    thr=$(stat_field "$leaf/cpu.stat" nr_throttled)
    wait "$pid"
    rc=$?
    cat "$T/cpu.out"
    if [ -z "$u0" ] || [ -z "$u1" ]; then fail "could not read usage_usec from $leaf/cpu.stat"; fi
    pct=$(( (u1 - u0) / ((t1 - t0) * 100) ))
    note "busy loop under --cpus 0.5 used ${pct}% of one CPU ($((u1 - u0)) us in $((t1 - t0))0 ms); nr_throttled=$thr"
    expect_eq "exit status" "$rc" 0
    [ "${thr:-0}" -gt 0 ] || fail "container was never throttled (nr_throttled=$thr)"
    [ "$pct" -le 65 ] || fail "container used ${pct}% of a CPU, limit is 50%"
    [ "$pct" -ge 10 ] || fail "container used only ${pct}% of a CPU; expected about 50%"
}

t_oom() {
    out=$(gk run --rootfs "$ROOTFS" -m 32 sh -c 'head -c 64m /dev/zero | tail' 2>&1)
    rc=$?
    say "+ gocker run -m 32 sh -c 'head -c 64m /dev/zero | tail' -> status $rc"
    say "$out"
    expect_eq "exit status" "$rc" 137
    echo "$out" | grep -q "^gocker: the memory limit (32 MiB) was hit: the kernel's OOM killer killed [1-9]" \
        || fail "no message that the memory limit (32 MiB) was hit"
}

t_pids_enforced() {
    # shellcheck disable=SC2016 # expanded by the container's shell
    out=$(gk run --rootfs "$ROOTFS" --pids-limit 5 sh -c '
        i=0
        while [ $i -lt 10 ]; do
            sleep 5 &
            i=$((i + 1))
            echo "started $i"
        done
        echo all-started
        kill $(jobs -p) 2>/dev/null
        exit 0' 2>&1)
    rc=$?
    say "+ gocker run --pids-limit 5 (shell starting 10 sleeps) -> status $rc"
    say "$out"
    echo "$out" | grep -q '^all-started$' && fail "10 background processes started under --pids-limit 5"
    echo "$out" | grep -q -i -e 'fork' -e 'resource temporarily unavailable' \
        || fail "no fork failure message"
    echo "$out" | grep -q '^started 3$' || fail "the first few processes should have started"
    say "ok: fork failed under the limit"
}

t_cgroup_from_start() {
    for i in 1 2 3 4 5; do
        out=$(gk run --rootfs "$ROOTFS" --cpus 1 -m 64 --pids-limit 50 cat /proc/self/cgroup 2>&1)
        rc=$?
        say "run $i -> status $rc: $(echo "$out" | tr '\n' ' ')"
        expect_eq "exit status" "$rc" 0
        first=$(echo "$out" | head -n 1)
        case $first in
            0::/gocker/*/*|0::/gocker/) fail "first line '$first' is not a leaf directly under /gocker" ;;
            0::/gocker/*) ;;
            *) fail "first line of /proc/self/cgroup is '$first', expected 0::/gocker/<id>" ;;
        esac
        leaf=$CG${first#0::}
        [ ! -e "$leaf" ] || fail "$leaf still exists after the container exited"
    done
    left=$(list_leaves)
    [ -z "$left" ] || fail "leftover cgroups under $PARENT: $left"
}

PROBE='echo pid=$$; hostname; pwd; ls /; sed "s#^0::/gocker/.*#0::/gocker/ID#" /proc/self/cgroup; id; sleep 1'
LIMITS="--cpus 0.5 -m 32 --pids-limit 20"

t_emit_script() {
    # shellcheck disable=SC2086 # LIMITS is a list of words
    bg_limits "$T/run.out" -- gk run --rootfs "$ROOTFS" $LIMITS sh -c "$PROBE"
    expect_eq "gocker run exit status" "$RC" 0
    # shellcheck disable=SC2086
    run gk emit-script --rootfs "$ROOTFS" $LIMITS --cgroup v2 sh -c "$PROBE" > "$T/emitted.sh" \
        || { cat "$T/emitted.sh"; fail "gocker emit-script failed"; }
    sed 's/^/  script: /' "$T/emitted.sh"
    sh -n "$T/emitted.sh" || fail "emitted script has syntax errors"
    if [ -d "$UTIL_LINUX" ]; then
        path=$UTIL_LINUX:$PATH
    else
        path=$PATH
    fi
    bg_limits "$T/script.out" -- env PATH="$path" timeout "$GK_TIMEOUT" sh "$T/emitted.sh"
    expect_eq "script exit status" "$RC" 0
    expect_eq "script cpu.max" "$CPU_MAX" "50000 100000"
    expect_eq "script memory.max" "$MEM_MAX" 33554432
    expect_eq "script pids.max" "$PIDS_MAX" 20
    if ! diff -u "$T/run.out" "$T/script.out"; then
        fail "probe output differs between gocker run (-) and the emitted script (+)"
    fi
    say "ok: same probe output"
    [ ! -e "$LEAF" ] || note "the emitted script left its cgroup $LEAF behind"
}

# Informational: does the emitted script also work with busybox's unshare,
# mount, pivot_root instead of util-linux's? Never fails the run.
t_emit_script_busybox() {
    [ -s "$T/emitted.sh" ] || { note "no emitted script to try"; return 0; }
    timeout "$GK_TIMEOUT" sh "$T/emitted.sh" > "$T/bb.out" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ] && diff "$T/run.out" "$T/bb.out" > /dev/null 2>&1; then
        note "the emitted script also works with busybox applets only"
    else
        note "with busybox applets only, the emitted script exits $rc: $(head -n 3 "$T/bb.out" | tr '\n' ' ')"
    fi
    return 0
}

# A v2 cgroup tree whose root does not delegate memory. The real root cgroup
# always offers every controller, and root may enable any of them in its
# subtree_control, so the tree gocker sees is made a delegated one: memory is
# switched off in the root's subtree_control, a child cgroup D is made (its
# cgroup.controllers then lacks memory), and gocker runs in a cgroup namespace
# rooted at D with cgroup2 mounted afresh at /sys/fs/cgroup -- as in a
# container, or a systemd unit without Delegate= for memory.
t_undelegated() {
    root_sc=$CG/cgroup.subtree_control
    d=$CG/gocker-vm-undelegated
    # memory must first be off below the root: gocker's parent may have it on
    # (which is allowed only while it has no child cgroups).
    if [ -d "$PARENT" ]; then
        for l in $(list_leaves); do
            rmdir "$l" && note "removed leftover cgroup $l"
        done
        left=$(list_leaves)
        [ -z "$left" ] || fail "cannot test: leftover cgroups in use: $left"
        echo -memory > "$PARENT/cgroup.subtree_control" || fail "cannot disable memory in $PARENT"
    fi
    echo -memory > "$root_sc" || fail "cannot disable memory in $root_sc"
    say "root subtree_control now: $(cat "$root_sc")"
    mkdir -p "$d"
    say "$d/cgroup.controllers: $(cat "$d/cgroup.controllers")"
    unshare=unshare
    [ -x "$UTIL_LINUX/unshare" ] && unshare=$UTIL_LINUX/unshare
    # shellcheck disable=SC2016 # $$ is the inner shell's
    out=$(sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" --cgroup --mount sh -c "
            umount /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup &&
            echo \"(in the namespace: /proc/self/cgroup \$(cat /proc/self/cgroup), controllers \$(cat /sys/fs/cgroup/cgroup.controllers))\" &&
            echo \"(check: \$(timeout $3 $4 check | grep -E \"^  (memory|run) \" | tr -s \" \" | tr \"\\n\" \";\"))\" &&
            exec timeout $3 $4 run --rootfs $5 -m 32 true"' \
        sh "$d" "$unshare" "$GK_TIMEOUT" "$GOCKER" "$ROOTFS" 2>&1 < /dev/null)
    rc=$?
    say "+ gocker run -m 32 true (cgroup root: $d) -> status $rc"
    say "$out"
    # (a cgroup stays busy for a moment after its last process exited)
    i=0
    until rmdir "$d" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -ge 50 ]; then
            say "warning: could not remove $d: $(ls -d "$d"/*/ 2>/dev/null) procs: $(cat "$d/cgroup.procs")"
            break
        fi
        sleep 0.1
    done

    # For the record: with memory switched off in the real root only, gocker
    # may (as root) switch it back on, and does not need to refuse.
    out2=$(gk run --rootfs "$ROOTFS" -m 32 true 2>&1)
    rc2=$?
    note "memory off in the real root's subtree_control: 'gocker run -m 32 true' -> status $rc2 $(echo "$out2" | head -n 2 | tr '\n' ' '); root subtree_control afterwards: $(cat "$root_sc")"

    echo +memory > "$root_sc" || say "warning: could not re-enable memory in the root"
    say "root subtree_control restored: $(cat "$root_sc")"
    expect_eq "exit status" "$rc" 125
    echo "$out" | grep -v '^(' | grep -q -w memory \
        || fail "error message does not name the memory controller"
    # gocker check, on the same host, says the same: memory missing, run works without -m.
    echo "$out" | grep '^(check:' | grep -q 'memory missing' \
        || fail "gocker check does not report memory as missing"
    echo "$out" | grep '^(check:' | grep -q 'run yes, but without.*-m (no memory controller)' \
        || fail "gocker check does not say run works without -m"
}

# The device allow list on v2: a BPF_PROG_TYPE_CGROUP_DEVICE program on the
# container's leaf cgroup (there is no devices controller). mknod of a node
# outside the list, and opening one planted in the rootfs, fail with EPERM;
# the listed ones work; the leaf exists without limits and is removed after.
# Also the seccomp filter (Seccomp: 2) on this kernel.
t_devices_v2() {
    mkdir -p "$ROOTFS/attack-dev"
    rm -f "$ROOTFS/attack-dev/kmsg" "$ROOTFS/attack-dev/loop0"
    mknod "$ROOTFS/attack-dev/kmsg" c 1 11 || fail "mknod kmsg in the rootfs (host side)"
    mknod "$ROOTFS/attack-dev/loop0" b 7 0 || fail "mknod loop0 in the rootfs (host side)"
    # shellcheck disable=SC2016 # expanded inside the container
    inside='
        for n in "kmsg c 1 11" "loop0 b 7 0" "fuse c 10 229"; do
            set -- $n
            if mknod "/tmp/$1" "$2" "$3" "$4" 2>/tmp/err; then echo "mknod-$1 ok"; else echo "mknod-$1 refused: $(cat /tmp/err)"; fi
        done
        for n in kmsg loop0; do
            if (: < "/attack-dev/$n") 2>/tmp/err; then echo "open-$n ok"; else echo "open-$n refused: $(cat /tmp/err)"; fi
        done
        mknod /tmp/null2 c 1 3 && (echo x > /tmp/null2) && echo "mknod-null ok"
        (echo x > /dev/null) && head -c 1 /dev/urandom > /dev/null && echo "dev-null ok"
        rm -f /tmp/kmsg /tmp/loop0 /tmp/fuse /tmp/null2 /tmp/err
        grep "^Seccomp:" /proc/self/status
        sed "s#^0::/gocker/.*#0::/gocker/ID#" /proc/self/cgroup'
    before=$(list_leaves)
    out=$(gk run --rootfs "$ROOTFS" sh -c "$inside" 2>&1)
    rc=$?
    say "+ gocker run (no limits) -> status $rc"
    say "$out"
    expect_eq "exit status" "$rc" 0
    for n in kmsg loop0 fuse; do
        echo "$out" | grep -q "^mknod-$n refused: .*Operation not permitted" \
            || fail "mknod of $n was not refused with EPERM"
    done
    for n in kmsg loop0; do
        echo "$out" | grep -q "^open-$n refused: .*Operation not permitted" \
            || fail "open of the planted $n was not refused with EPERM"
    done
    echo "$out" | grep -q "^mknod-null ok" || fail "mknod of null (allowed) failed"
    echo "$out" | grep -q "^dev-null ok" || fail "/dev/null or /dev/urandom unusable"
    echo "$out" | grep -q "^Seccomp:[[:space:]]*2" || fail "no seccomp filter"
    echo "$out" | grep -q "^0::/gocker/ID" || fail "no leaf cgroup without limits"
    expect_eq "leaves left behind" "$(list_leaves)" "$before"
    # Lifted: CAP_MKNOD makes the node, so the program was what refused it.
    out=$(gk run --security-opt devices=unconfined --rootfs "$ROOTFS" \
        sh -c 'mknod /tmp/kmsg c 1 11 && echo "mknod-kmsg ok"; rm -f /tmp/kmsg' 2>&1)
    say "+ gocker run --security-opt devices=unconfined: $out"
    expect_eq "unconfined mknod" "$out" "mknod-kmsg ok"
    rm -rf "$ROOTFS/attack-dev"
}

# ------------------------------------------------------------------ main

say "=== gocker cgroup-v2 checks ($(uname -r), $(nproc) CPUs)"
say "gocker: $(command -v "$GOCKER" || echo "$GOCKER: not found")"
say "root cgroup: controllers [$(cat $CG/cgroup.controllers)], subtree_control [$(cat $CG/cgroup.subtree_control)]"

# The container run in stage 1 of the boot, on the initramfs root itself (see
# run-v2.sh): pivot_root cannot work there, so gocker moves the new root onto /
# and chroots, says so in one line, and every other guarantee holds.
t_initramfs() {
    [ -f /stage1/status ] || fail "stage 1 did not run (no /stage1/status)"
    say "status: $(cat /stage1/status)"
    say "stdout:"; sed 's/^/  /' /stage1/out
    say "stderr:"; sed 's/^/  /' /stage1/err
    expect_eq "the container's own status" "$(cat /stage1/status)" 7
    expect_eq "its output (PID 1, / is /.., the initramfs unseen)" "$(tr '\n' ' ' </stage1/out)" "pid=1 dotdot-is-root 0 "
    grep -q "initramfs" /stage1/err || fail "no line saying it fell back from pivot_root"
    expect_eq "lines on stderr" "$(wc -l </stage1/err)" 1
    cmp -s /stage1/host-before /stage1/host-after || fail "the initramfs root changed: $(diff /stage1/host-before /stage1/host-after)"
    [ ! -e /stage1-escape ] || fail "the container wrote into the initramfs root"
}

# exec on cgroup v2: create + start a bundle with a pids limit, then exec joins
# its namespaces and its leaf cgroup (clone3 CLONE_INTO_CGROUP there), with
# the init's capabilities and the device program's rules.
t_exec_v2() {
    _b=$T/exec-bundle
    _st=$T/exec-state
    mkdir -p "$_b"
    cp -a "$ROOTFS" "$_b/rootfs" || fail "copy the rootfs"
    cat > "$_b/config.json" <<'JSON'
{"ociVersion": "1.0.2", "hostname": "exec-v2",
 "process": {"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["sleep", "60"],
   "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "cwd": "/",
   "capabilities": {"bounding": ["CAP_KILL", "CAP_MKNOD"], "effective": ["CAP_KILL", "CAP_MKNOD"],
                    "permitted": ["CAP_KILL", "CAP_MKNOD"]},
   "noNewPrivileges": true},
 "root": {"path": "rootfs", "readonly": false},
 "mounts": [{"destination": "/proc", "source": "proc", "type": "proc"}],
 "linux": {"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
           "resources": {"pids": {"limit": 20}, "devices": [{"access": "rwm", "allow": false}]}}}
JSON
    gk --root "$_st" create -b "$_b" --pid-file "$T/exec.pid" ev2 > "$T/exec-create.out" 2>&1 \
        || fail "create: $(cat "$T/exec-create.out")"
    gk --root "$_st" start ev2 || fail "start"
    _init=$(cat "$T/exec.pid")
    _out=$(gk --root "$_st" exec ev2 sh -c 'echo $$; hostname; cat /proc/self/cgroup; grep CapBnd /proc/self/status; mknod /tmp/sda b 8 0 2>&1 && cat /tmp/sda >/dev/null 2>&1 && echo read-sda; true')
    _rc=$?
    say "exec output: $_out"
    gk --root "$_st" delete --force ev2
    expect_eq "exec status" "$_rc" 0
    set -- $_out
    [ "$1" -lt 10 ] || fail "the exec'd shell's pid inside is not small: $1"
    expect_eq "hostname" "$2" exec-v2
    expect_eq "cgroup (the init's)" "$3" "$(cat /proc/$_init/cgroup 2>/dev/null || echo "$3")"
    case $3 in 0::/gocker/*) ;; *) fail "not in a gocker leaf: $3" ;; esac
    expect_eq "CapBnd" "$5" 0000000008000020
    # It holds CAP_MKNOD: the device program is what refuses.
    case $_out in *"not permitted"*) ;; *) fail "mknod of a block device was not refused" ;; esac
    case $_out in *read-sda*) fail "the device program let exec read a block device" ;; esac
    [ ! -d "$PARENT/ev2" ] || fail "the leaf cgroup is left after delete"
}

# A bundle's linux.resources on cgroup v2: its device rules in the BPF program
# (later rules win), memory.low, cpuset.cpus and hugetlb.2MB.max in its leaf, and a v1-only setting
# refused (125, naming the field) before anything is made.
t_bundle_resources_v2() {
    _b=$T/res-bundle
    _st=$T/res-state
    mkdir -p "$_b"
    cp -a "$ROOTFS" "$_b/rootfs" || fail "copy the rootfs"
    _cfg() {
        cat <<JSON
{"ociVersion": "1.0.2", "hostname": "res-v2",
 "process": {"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["sleep", "60"],
   "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "cwd": "/",
   "capabilities": {"bounding": ["CAP_KILL", "CAP_MKNOD"], "effective": ["CAP_KILL", "CAP_MKNOD"],
                    "permitted": ["CAP_KILL", "CAP_MKNOD"]},
   "noNewPrivileges": true},
 "root": {"path": "rootfs", "readonly": false},
 "mounts": [{"destination": "/proc", "source": "proc", "type": "proc"}],
 "linux": {"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
           "resources": {"memory": {"limit": 67108864, "reservation": 33554432$1},
                         "cpu": {"cpus": "0"},
                         "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
                         "devices": [{"access": "rwm", "allow": false},
                                     {"type": "b", "major": 7, "access": "rwm", "allow": true},
                                     {"type": "b", "major": 7, "access": "w", "allow": false}]}}}
JSON
    }
    _cfg ', "swappiness": 10' > "$_b/config.json"
    out=$(gk --root "$_st" create -b "$_b" res2 2>&1)
    rc=$?
    say "+ create with memory.swappiness -> $rc: $out"
    expect_eq "create status with a v1-only setting" "$rc" 125
    case $out in *"linux.resources.memory.swappiness: cgroup v2 has no such setting"*) ;;
        *) fail "the refusal does not name the field: $out" ;; esac
    [ ! -d "$PARENT/res2" ] || fail "a leaf was made for a refused bundle"
    _cfg '' > "$_b/config.json"
    gk --root "$_st" create -b "$_b" res2 > "$T/res-create.out" 2>&1 \
        || fail "create: $(cat "$T/res-create.out")"
    gk --root "$_st" start res2 || fail "start"
    _low=$(cat "$PARENT/res2/memory.low" 2>&1)
    _cpus=$(cat "$PARENT/res2/cpuset.cpus" 2>&1)
    _huge=$(cat "$PARENT/res2/hugetlb.2MB.max" 2>&1)
    _out=$(gk --root "$_st" exec res2 sh -c 'mknod /tmp/loop0 b 7 0 && echo made-loop; (echo x > /tmp/loop0) 2>&1; mknod /tmp/sda b 8 0 2>&1; true')
    say "exec output: $_out"
    gk --root "$_st" delete --force res2
    expect_eq "memory.low" "$_low" 33554432
    expect_eq "cpuset.cpus" "$_cpus" 0
    expect_eq "hugetlb.2MB.max" "$_huge" 4194304
    case $_out in *made-loop*) ;; *) fail "mknod of b 7:0 (allowed rwm) failed" ;; esac
    case $_out in *"loop0: Operation not permitted"*) ;; *) fail "writing b 7:0 was not refused (the later deny w)" ;; esac
    case $_out in *"sda: Operation not permitted"*) ;; *) fail "mknod of b 8:0 was not refused" ;; esac
    [ ! -d "$PARENT/res2" ] || fail "the leaf cgroup is left after delete"
}

# run -d on v2: the monitor keeps the container after the command, in its own leaf
# with its limits; exec joins it; stop records the exit; rm leaves nothing.
t_detached_v2() {
    _st=$T/detached-state
    mkdir -p "$_st"
    # The kept layer (upper/, work/) needs a filesystem overlayfs can write on.
    mount -t tmpfs tmpfs "$_st" || fail "mount a tmpfs for the store"
    _id=$(gk --root "$_st" run -d --name dv2 -m 32m --pids-limit 20 --rootfs "$ROOTFS" \
        sh -c 'echo up; echo x > /written; while :; do sleep 0.1; done') || fail "run -d: $_id"
    say "id: $_id"
    [ ${#_id} -eq 64 ] || fail "run -d printed '$_id', not a 64-digit id"
    gk --root "$_st" ps | grep -q "dv2.*Up " || fail "ps: $(gk --root "$_st" ps)"
    expect_eq "memory.max" "$(cat "$PARENT/$_id/memory.max")" 33554432
    expect_eq "pids.max" "$(cat "$PARENT/$_id/pids.max")" 20
    expect_eq "exec's cgroup" "$(gk --root "$_st" exec dv2 cat /proc/self/cgroup)" "0::/gocker/$_id"
    expect_eq "exec sees the container's write" "$(gk --root "$_st" exec dv2 cat /written)" x
    gk --root "$_st" stop -t 1 dv2 > /dev/null || fail "stop"
    gk --root "$_st" ps -a | grep -q "dv2.*Exited (137)" || fail "ps -a: $(gk --root "$_st" ps -a)"
    expect_eq "logs" "$(gk --root "$_st" logs dv2)" up
    [ ! -d "$PARENT/$_id" ] || fail "a stopped container keeps its leaf cgroup"
    [ -f "$_st/$_id/layer/upper/written" ] || fail "the layer was not kept in the store"
    gk --root "$_st" rm dv2 > /dev/null || fail "rm"
    [ ! -e "$_st/$_id" ] || fail "the state directory is left"
    ! grep -q "$_id" /proc/self/mountinfo || fail "a mount names the container"
    [ -z "$(ls "$_st/#names")" ] || fail "the name is left"
    [ ! -e "$ROOTFS/written" ] || fail "the container wrote into the rootfs directory"
    umount "$_st"
}

check "gocker check reports cgroup v2 and its controllers" t_check_report
check "on an initramfs root, run falls back to move + chroot, says so, and keeps the host unchanged" t_initramfs
check "gocker rootfs busybox makes a rootfs" t_rootfs
fallback_rootfs > "$T/fallback.log" 2>&1 || cat "$T/fallback.log"
check "gocker run: output, exit status, hostname, pid 1" t_run_basic
check "run --cpus/-m/--pids-limit: leaf cgroup with cpu.max, memory.max, pids.max; removed at exit" t_limits
check "parent cgroup /sys/fs/cgroup/gocker: no processes, controllers delegated" t_parent
check "run --cpus 0.5 throttles a busy loop to about half a CPU" t_cpu_enforced
check "run -m 32 OOM-kills a 64 MiB allocation with status 137" t_oom
check "run --pids-limit 5 makes fork fail" t_pids_enforced
check "container starts in its leaf cgroup (/proc/self/cgroup), cgroup removed afterwards" t_cgroup_from_start
check "emit-script --cgroup v2 script gives the same probe output and limits as run" t_emit_script
t_emit_script_busybox > "$T/bb.log" 2>&1
grep '^note:' "$T/bb.log"
check "v2 device program: mknod/open outside the list EPERM, listed ones work; seccomp on" t_devices_v2
check "exec joins a v2 container: namespaces, its leaf cgroup, its caps and device rules" t_exec_v2
check "a bundle's resources on v2: device rules in order, memory.low, cpuset.cpus, hugetlb; v1-only refused" t_bundle_resources_v2
check "check and run -m 32 refuse (125, name memory) when the cgroup root does not delegate memory" t_undelegated
check "run -d on v2: a detached container in its leaf, exec, stop records 137, rm leaves nothing" t_detached_v2

say "=== summary"
if [ "$failed" -gt 0 ]; then
    say "failed checks:$failed_names"
fi
# run-v2.sh compares the count with the checks this file defines: a check that never
# ran (an abort, a filter) is not a pass.
say "GOCKER-VM-RESULT: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
