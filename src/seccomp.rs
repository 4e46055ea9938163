//! The default seccomp filter: the system calls a container may make, with the intent of
//! Docker's default profile (moby's `profiles/seccomp/default.json`, read for its list, not
//! copied): an allow list, EPERM for everything else, namespace-creating `clone` flags
//! refused, `clone3` answered with ENOSYS, and the architecture checked.
//!
//! The rules are data (`ALLOWED`, `LEGACY`, `conditional`) compiled by `seccompiler`
//! (rust-vmm) into classic BPF; the child installs the result as its last step before
//! execve, after no_new_privs.

pub mod names;
pub mod profile;

use anyhow::{Context, Result};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen as Len, SeccompCmpOp as Op, SeccompCondition,
    SeccompFilter, SeccompRule, sock_filter,
};
use std::collections::BTreeMap;

/// Allowed unconditionally, on every architecture: Docker's default list for a container
/// without CAP_SYS_ADMIN, minus the 32-bit variants (`chown32`, `fcntl64`, `*_time64`, …)
/// that a 64-bit filter never sees, plus `chroot` (CAP_SYS_CHROOT is kept) and `ptrace`,
/// `process_vm_readv`/`writev` (Docker allows them on kernels ≥ 4.8, where ptrace can no
/// longer bypass seccomp).
///
/// Not here, so EPERM: the keyring (`add_key`, `keyctl`, `request_key`), `bpf`,
/// `perf_event_open`, `userfaultfd`, `kexec_load`, `kexec_file_load`, modules
/// (`init_module`, `finit_module`, `delete_module`), `mount` and the new mount API,
/// `umount2`, `pivot_root`, `unshare`, `setns`, `swapon`/`swapoff`, `reboot`, `acct`,
/// `open_by_handle_at`, `sethostname`, `settimeofday`, `iopl`/`ioperm`, `syslog`, `quotactl`,
/// `fanotify_init`, `lookup_dcookie`, `vhangup`, `kcmp`, `pidfd_getfd`, `mbind` and friends.
const ALLOWED: &[libc::c_long] = &[
    libc::SYS_accept,
    libc::SYS_accept4,
    libc::SYS_adjtimex,
    libc::SYS_bind,
    libc::SYS_brk,
    libc::SYS_capget,
    libc::SYS_capset,
    libc::SYS_chdir,
    libc::SYS_chroot,
    libc::SYS_clock_adjtime,
    libc::SYS_clock_getres,
    libc::SYS_clock_gettime,
    libc::SYS_clock_nanosleep,
    libc::SYS_close,
    libc::SYS_close_range,
    libc::SYS_connect,
    libc::SYS_copy_file_range,
    libc::SYS_dup,
    libc::SYS_dup3,
    libc::SYS_epoll_create1,
    libc::SYS_epoll_ctl,
    libc::SYS_epoll_pwait,
    libc::SYS_epoll_pwait2,
    libc::SYS_eventfd2,
    libc::SYS_execve,
    libc::SYS_execveat,
    libc::SYS_exit,
    libc::SYS_exit_group,
    libc::SYS_faccessat,
    libc::SYS_faccessat2,
    libc::SYS_fadvise64,
    libc::SYS_fallocate,
    libc::SYS_fanotify_mark,
    libc::SYS_fchdir,
    libc::SYS_fchmod,
    libc::SYS_fchmodat,
    libc::SYS_fchown,
    libc::SYS_fchownat,
    libc::SYS_fcntl,
    libc::SYS_fdatasync,
    libc::SYS_fgetxattr,
    libc::SYS_flistxattr,
    libc::SYS_flock,
    libc::SYS_fremovexattr,
    libc::SYS_fsetxattr,
    libc::SYS_fstat,
    libc::SYS_fstatfs,
    libc::SYS_fsync,
    libc::SYS_ftruncate,
    libc::SYS_futex,
    libc::SYS_futex_waitv,
    libc::SYS_getcpu,
    libc::SYS_getcwd,
    libc::SYS_getdents64,
    libc::SYS_getegid,
    libc::SYS_geteuid,
    libc::SYS_getgid,
    libc::SYS_getgroups,
    libc::SYS_getitimer,
    libc::SYS_getpeername,
    libc::SYS_getpgid,
    libc::SYS_getpid,
    libc::SYS_getppid,
    libc::SYS_getpriority,
    libc::SYS_getrandom,
    libc::SYS_getresgid,
    libc::SYS_getresuid,
    libc::SYS_getrlimit,
    libc::SYS_get_robust_list,
    libc::SYS_getrusage,
    libc::SYS_getsid,
    libc::SYS_getsockname,
    libc::SYS_getsockopt,
    libc::SYS_gettid,
    libc::SYS_gettimeofday,
    libc::SYS_getuid,
    libc::SYS_getxattr,
    libc::SYS_inotify_add_watch,
    libc::SYS_inotify_init1,
    libc::SYS_inotify_rm_watch,
    libc::SYS_io_cancel,
    libc::SYS_ioctl,
    libc::SYS_io_destroy,
    libc::SYS_io_getevents,
    SYS_IO_PGETEVENTS,
    libc::SYS_ioprio_get,
    libc::SYS_ioprio_set,
    libc::SYS_io_setup,
    libc::SYS_io_submit,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_io_uring_setup,
    libc::SYS_kill,
    libc::SYS_landlock_add_rule,
    libc::SYS_landlock_create_ruleset,
    libc::SYS_landlock_restrict_self,
    libc::SYS_lgetxattr,
    libc::SYS_linkat,
    libc::SYS_listen,
    libc::SYS_listxattr,
    libc::SYS_llistxattr,
    libc::SYS_lremovexattr,
    libc::SYS_lseek,
    libc::SYS_lsetxattr,
    libc::SYS_madvise,
    libc::SYS_membarrier,
    libc::SYS_memfd_create,
    libc::SYS_memfd_secret,
    libc::SYS_mincore,
    libc::SYS_mkdirat,
    libc::SYS_mknodat,
    libc::SYS_mlock,
    libc::SYS_mlock2,
    libc::SYS_mlockall,
    libc::SYS_mmap,
    libc::SYS_mprotect,
    libc::SYS_mq_getsetattr,
    libc::SYS_mq_notify,
    libc::SYS_mq_open,
    libc::SYS_mq_timedreceive,
    libc::SYS_mq_timedsend,
    libc::SYS_mq_unlink,
    libc::SYS_mremap,
    libc::SYS_msgctl,
    libc::SYS_msgget,
    libc::SYS_msgrcv,
    libc::SYS_msgsnd,
    libc::SYS_msync,
    libc::SYS_munlock,
    libc::SYS_munlockall,
    libc::SYS_munmap,
    libc::SYS_name_to_handle_at,
    libc::SYS_nanosleep,
    libc::SYS_newfstatat,
    libc::SYS_openat,
    libc::SYS_openat2,
    libc::SYS_pidfd_open,
    libc::SYS_pidfd_send_signal,
    libc::SYS_pipe2,
    libc::SYS_pkey_alloc,
    libc::SYS_pkey_free,
    libc::SYS_pkey_mprotect,
    libc::SYS_ppoll,
    libc::SYS_prctl,
    libc::SYS_pread64,
    libc::SYS_preadv,
    libc::SYS_preadv2,
    libc::SYS_prlimit64,
    libc::SYS_process_mrelease,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_pselect6,
    libc::SYS_ptrace,
    libc::SYS_pwrite64,
    libc::SYS_pwritev,
    libc::SYS_pwritev2,
    libc::SYS_read,
    libc::SYS_readahead,
    libc::SYS_readlinkat,
    libc::SYS_readv,
    libc::SYS_recvfrom,
    libc::SYS_recvmmsg,
    libc::SYS_recvmsg,
    libc::SYS_remap_file_pages,
    libc::SYS_removexattr,
    libc::SYS_renameat,
    libc::SYS_renameat2,
    libc::SYS_restart_syscall,
    libc::SYS_rseq,
    libc::SYS_rt_sigaction,
    libc::SYS_rt_sigpending,
    libc::SYS_rt_sigprocmask,
    libc::SYS_rt_sigqueueinfo,
    libc::SYS_rt_sigreturn,
    libc::SYS_rt_sigsuspend,
    libc::SYS_rt_sigtimedwait,
    libc::SYS_rt_tgsigqueueinfo,
    libc::SYS_sched_getaffinity,
    libc::SYS_sched_getattr,
    libc::SYS_sched_getparam,
    libc::SYS_sched_get_priority_max,
    libc::SYS_sched_get_priority_min,
    libc::SYS_sched_getscheduler,
    libc::SYS_sched_rr_get_interval,
    libc::SYS_sched_setaffinity,
    libc::SYS_sched_setattr,
    libc::SYS_sched_setparam,
    libc::SYS_sched_setscheduler,
    libc::SYS_sched_yield,
    libc::SYS_seccomp,
    libc::SYS_semctl,
    libc::SYS_semget,
    libc::SYS_semop,
    libc::SYS_semtimedop,
    libc::SYS_sendfile,
    libc::SYS_sendmmsg,
    libc::SYS_sendmsg,
    libc::SYS_sendto,
    libc::SYS_setfsgid,
    libc::SYS_setfsuid,
    libc::SYS_setgid,
    libc::SYS_setgroups,
    libc::SYS_setitimer,
    libc::SYS_setpgid,
    libc::SYS_setpriority,
    libc::SYS_setregid,
    libc::SYS_setresgid,
    libc::SYS_setresuid,
    libc::SYS_setreuid,
    libc::SYS_setrlimit,
    libc::SYS_set_robust_list,
    libc::SYS_setsid,
    libc::SYS_setsockopt,
    libc::SYS_set_tid_address,
    libc::SYS_setuid,
    libc::SYS_setxattr,
    libc::SYS_shmat,
    libc::SYS_shmctl,
    libc::SYS_shmdt,
    libc::SYS_shmget,
    libc::SYS_shutdown,
    libc::SYS_sigaltstack,
    libc::SYS_signalfd4,
    libc::SYS_socketpair,
    libc::SYS_splice,
    libc::SYS_statfs,
    libc::SYS_statx,
    libc::SYS_symlinkat,
    libc::SYS_sync,
    libc::SYS_sync_file_range,
    libc::SYS_syncfs,
    libc::SYS_sysinfo,
    libc::SYS_tee,
    libc::SYS_tgkill,
    libc::SYS_timer_create,
    libc::SYS_timer_delete,
    libc::SYS_timer_getoverrun,
    libc::SYS_timer_gettime,
    libc::SYS_timer_settime,
    libc::SYS_timerfd_create,
    libc::SYS_timerfd_gettime,
    libc::SYS_timerfd_settime,
    libc::SYS_times,
    libc::SYS_tkill,
    libc::SYS_truncate,
    libc::SYS_umask,
    libc::SYS_uname,
    libc::SYS_unlinkat,
    libc::SYS_utimensat,
    libc::SYS_vmsplice,
    libc::SYS_wait4,
    libc::SYS_waitid,
    libc::SYS_write,
    libc::SYS_writev,
];

/// Missing from the libc crate (asm/unistd.h: 333 on x86_64, 292 on aarch64).
#[cfg(target_arch = "x86_64")]
const SYS_IO_PGETEVENTS: libc::c_long = 333;
#[cfg(not(target_arch = "x86_64"))]
const SYS_IO_PGETEVENTS: libc::c_long = 292;

/// x86_64's older calls, which newer architectures (aarch64) never had, and its own
/// (`arch_prctl`, `modify_ldt`, the TLS calls): Docker allows them all on amd64.
#[cfg(target_arch = "x86_64")]
const LEGACY: &[libc::c_long] = &[
    libc::SYS_access,
    libc::SYS_alarm,
    libc::SYS_arch_prctl,
    libc::SYS_chmod,
    libc::SYS_chown,
    libc::SYS_creat,
    libc::SYS_dup2,
    libc::SYS_epoll_create,
    libc::SYS_epoll_ctl_old,
    libc::SYS_epoll_wait,
    libc::SYS_epoll_wait_old,
    libc::SYS_eventfd,
    libc::SYS_fork,
    libc::SYS_futimesat,
    libc::SYS_get_thread_area,
    libc::SYS_getdents,
    libc::SYS_getpgrp,
    libc::SYS_inotify_init,
    libc::SYS_lchown,
    libc::SYS_link,
    libc::SYS_lstat,
    libc::SYS_mkdir,
    libc::SYS_mknod,
    libc::SYS_modify_ldt,
    libc::SYS_open,
    libc::SYS_pause,
    libc::SYS_pipe,
    libc::SYS_poll,
    libc::SYS_readlink,
    libc::SYS_rename,
    libc::SYS_rmdir,
    libc::SYS_select,
    libc::SYS_set_thread_area,
    libc::SYS_signalfd,
    libc::SYS_stat,
    libc::SYS_symlink,
    libc::SYS_time,
    libc::SYS_unlink,
    libc::SYS_utime,
    libc::SYS_utimes,
    libc::SYS_vfork,
];

#[cfg(not(target_arch = "x86_64"))]
const LEGACY: &[libc::c_long] = &[];

/// `personality` values allowed (Docker's): Linux (0), PER_LINUX32 (8), UNAME26
/// (0x20000), both (0x20008), and the query 0xffffffff. Anything else, e.g.
/// READ_IMPLIES_EXEC or ADDR_NO_RANDOMIZE, is EPERM.
pub const PERSONALITIES: [u64; 5] = [0, 8, 0x20000, 0x20008, PERSONALITY_QUERY];
/// PER_LINUX32 | UNAME26: every combination of the two is allowed.
const PERSONALITY_BITS: u64 = 0x20008;
const PERSONALITY_QUERY: u64 = 0xffff_ffff;

/// `socket` is allowed for every address family but AF_VSOCK (a door to the host's
/// hypervisor services).
pub const DENIED_SOCKET_FAMILY: u64 = libc::AF_VSOCK as u64;

/// The argument checks, as what is allowed: a call matching a rule gets ALLOW, any
/// other EPERM. `program` sends only the `CHECKED` calls here. Written as allowances,
/// each check is one rule (clone: no namespace flag, as one masked comparison), where
/// the same checks as denials took a rule per flag: 42 instructions fewer to install.
fn argument_rules() -> Result<BTreeMap<i64, Vec<SeccompRule>>> {
    let cond = |arg, len, op, value| SeccompCondition::new(arg, len, op, value);
    // clone(flags, …) on x86_64 and aarch64 (s390 swaps the first two arguments): no
    // namespace flag set. The low 32 bits are all the kernel reads of the flags
    // (kernel_clone_args.flags = lower_32_bits(clone_flags)), so a Dword test is exact.
    let clone = SeccompRule::new(vec![cond(0, Len::Dword, Op::MaskedEq(NAMESPACE_FLAGS), 0)?])?;
    // personality(unsigned int) and socket(int, …): 32-bit arguments, compared as such.
    // PERSONALITIES but the query are the values with no bit outside PER_LINUX32 and
    // UNAME26 set: one masked comparison for the four, one for the query.
    let personality = vec![
        SeccompRule::new(vec![cond(
            0,
            Len::Dword,
            Op::MaskedEq(!PERSONALITY_BITS & 0xffff_ffff),
            0,
        )?])?,
        SeccompRule::new(vec![cond(0, Len::Dword, Op::Eq, PERSONALITY_QUERY)?])?,
    ];
    let socket = SeccompRule::new(vec![cond(0, Len::Dword, Op::Ne, DENIED_SOCKET_FAMILY)?])?;
    Ok([
        (libc::SYS_clone, vec![clone]),
        (libc::SYS_personality, personality),
        (libc::SYS_socket, vec![socket]),
    ]
    .into_iter()
    .collect())
}

/// The clone flags that make new namespaces (CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC,
/// NEWUSER, NEWPID, NEWNET): `clone` with any of them is refused, Docker's mask
/// 0x7E020000. Without CAP_SYS_ADMIN only a user namespace could be made, and inside it
/// every other kind: the door this closes.
const NAMESPACE_FLAG_LIST: [u64; 7] = [
    libc::CLONE_NEWNS as u64,
    libc::CLONE_NEWCGROUP as u64,
    libc::CLONE_NEWUTS as u64,
    libc::CLONE_NEWIPC as u64,
    libc::CLONE_NEWUSER as u64,
    libc::CLONE_NEWPID as u64,
    libc::CLONE_NEWNET as u64,
];

/// `NAMESPACE_FLAG_LIST` as one mask.
const NAMESPACE_FLAGS: u64 = {
    let mut m = 0;
    let mut i = 0;
    while i < NAMESPACE_FLAG_LIST.len() {
        m |= NAMESPACE_FLAG_LIST[i];
        i += 1;
    }
    m
};

/// Every call number filter 1 lets through to filter 2: the unconditional list and the
/// calls `denials` checks, sorted.
fn allowed_numbers() -> Vec<u32> {
    let mut v: Vec<u32> = ALLOWED
        .iter()
        .chain(LEGACY)
        .chain(&CHECKED)
        .map(|&nr| nr as u32)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The allowed numbers as half-open ranges' boundaries `[start0, end0, start1, end1, …]`:
/// x86_64's ~330 calls make ~70 ranges.
fn boundaries(nrs: &[u32]) -> Vec<u32> {
    let mut b: Vec<u32> = Vec::new();
    for &nr in nrs {
        if b.last() == Some(&nr) {
            *b.last_mut().unwrap_or(&mut 0) = nr + 1;
        } else {
            b.push(nr);
            b.push(nr + 1);
        }
    }
    b
}

// Classic BPF (linux/filter.h, linux/bpf_common.h), for filter 1.
const LD_W_ABS: u16 = 0x20;
const JEQ_K: u16 = 0x15;
const JGE_K: u16 = 0x35;
const RET_K: u16 = 0x06;
/// Offsets in struct seccomp_data.
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;

fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// A binary search over `b[lo..hi]`: at a leaf, the number of boundaries at or below the
/// call number is `lo`, and an odd count means inside an allowed range.
fn search(b: &[u32], lo: usize, hi: usize, out: &mut Vec<sock_filter>) -> Result<()> {
    let allow = libc::SECCOMP_RET_ALLOW;
    let deny = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
    if lo == hi {
        out.push(stmt(RET_K, if lo % 2 == 1 { allow } else { deny }));
        return Ok(());
    }
    let mid = (lo + hi) / 2;
    // if nr >= b[mid]: the right half, which follows the left one.
    let at = out.len();
    out.push(jump(JGE_K, b[mid], 0, 0));
    search(b, lo, mid, out)?;
    out[at].jt = u8::try_from(out.len() - at - 1)
        .map_err(|_| anyhow::anyhow!("seccomp allow list: a jump longer than 255"))?;
    search(b, mid + 1, hi, out)
}

/// The allow list, built here from the data: the arch check (a foreign architecture,
/// e.g. a 32-bit `int 0x80` call with other numbers, is killed), `clone3` answered
/// ENOSYS, the calls with argument checks sent to `checks`, then a binary search over
/// the allowed ranges: allowed, or EPERM.
///
/// Why not seccompiler for this part too: it emits one linear chain, five instructions
/// per call; for ~330 calls, installing that cost 650-850 us here, mostly the kernel's
/// emulation of the filter for every call number (the "always allowed" cache, 5.11+).
/// This search is ~120 instructions, each path ~8 comparisons, and stays cacheable.
///
/// `checks` is seccompiler's program for `argument_rules`; its leading arch check (already
/// done) is skipped, and its own jumps are relative, so it runs unchanged at the end.
fn program(arch: seccompiler::TargetArch, checks: &[sock_filter]) -> Result<BpfProgram> {
    let mut p = vec![
        stmt(LD_W_ABS, DATA_ARCH),
        jump(JEQ_K, audit_arch(arch), 1, 0),
        stmt(RET_K, libc::SECCOMP_RET_KILL_PROCESS),
        stmt(LD_W_ABS, DATA_NR),
        // clone3's flags sit in a struct in memory, out of seccomp's sight; ENOSYS makes
        // glibc fall back to clone, whose flags are checked (as Docker does).
        jump(JEQ_K, libc::SYS_clone3 as u32, 0, 1),
        stmt(RET_K, libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
    ];
    let Some(checks) = checks
        .strip_prefix(&[
            stmt(LD_W_ABS, DATA_ARCH),
            jump(JEQ_K, audit_arch(arch), 1, 0),
            stmt(RET_K, libc::SECCOMP_RET_KILL_PROCESS),
        ])
        .filter(|rest| rest.first() == Some(&stmt(LD_W_ABS, DATA_NR)))
    else {
        anyhow::bail!("seccomp argument checks: seccompiler's program does not start as expected");
    };
    let checked = CHECKED.map(|nr| nr as u32);
    let at = p.len();
    for nr in checked {
        p.push(jump(JEQ_K, nr, 0, 0));
    }
    let mut tree = Vec::new();
    let b = boundaries(&allowed_numbers());
    search(&b, 0, b.len(), &mut tree)?;
    for i in 0..checked.len() {
        p[at + i].jt = u8::try_from(checked.len() - i - 1 + tree.len())
            .map_err(|_| anyhow::anyhow!("seccomp allow list: a jump longer than 255"))?;
    }
    p.extend(tree);
    p.extend_from_slice(checks);
    Ok(p)
}

/// The calls whose arguments `argument_rules` checks.
const CHECKED: [libc::c_long; 3] = [libc::SYS_clone, libc::SYS_personality, libc::SYS_socket];

/// AUDIT_ARCH_* of linux/audit.h.
fn audit_arch(arch: seccompiler::TargetArch) -> u32 {
    match arch {
        seccompiler::TargetArch::x86_64 => 0xC000_003E,
        seccompiler::TargetArch::aarch64 => 0xC000_00B7,
        seccompiler::TargetArch::riscv64 => 0xC000_00F3,
    }
}

fn arch() -> Result<seccompiler::TargetArch> {
    std::env::consts::ARCH
        .try_into()
        .map_err(|e| anyhow::anyhow!("seccomp filter for {}: {e}", std::env::consts::ARCH))
}

/// The filter, one program (each installed filter costs ~15 us more at start):
///
/// - `program`'s allow list of call numbers; anything else EPERM (Docker's default
///   action, so a program sees a plain "operation not permitted" rather than dying);
/// - seccompiler's compilation of `argument_rules` for `clone`, `personality` and `socket`:
///   64-bit comparisons in 32-bit halves are where a hand-assembled filter goes wrong.
pub fn build() -> Result<BpfProgram> {
    let arch = arch()?;
    let checks: BpfProgram = SeccompFilter::new(
        argument_rules()?,
        SeccompAction::Errno(libc::EPERM as u32),
        SeccompAction::Allow,
        arch,
    )
    .and_then(TryInto::try_into)
    .context("compile the seccomp argument checks")?;
    program(arch, &checks)
}

/// Install `filter` in this thread: from here on, every system call goes through it.
/// Needs no_new_privs (seccompiler sets it again, harmlessly).
pub fn install(filter: &BpfProgram) -> Result<()> {
    seccompiler::apply_filter(filter).map_err(|e| {
        anyhow::anyhow!(
            "install the seccomp filter: {e} (a kernel with CONFIG_SECCOMP_FILTER is needed; or run with --security-opt seccomp=unconfined)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dangerous calls of Docker's profile, each a class the tests attack.
    const BLOCKED: &[(&str, libc::c_long)] = &[
        ("add_key", libc::SYS_add_key),
        ("keyctl", libc::SYS_keyctl),
        ("request_key", libc::SYS_request_key),
        ("bpf", libc::SYS_bpf),
        ("perf_event_open", libc::SYS_perf_event_open),
        ("userfaultfd", libc::SYS_userfaultfd),
        ("kexec_load", libc::SYS_kexec_load),
        ("kexec_file_load", libc::SYS_kexec_file_load),
        ("init_module", libc::SYS_init_module),
        ("finit_module", libc::SYS_finit_module),
        ("delete_module", libc::SYS_delete_module),
        ("mount", libc::SYS_mount),
        ("umount2", libc::SYS_umount2),
        ("pivot_root", libc::SYS_pivot_root),
        ("fsopen", libc::SYS_fsopen),
        ("open_tree", libc::SYS_open_tree),
        ("move_mount", libc::SYS_move_mount),
        ("unshare", libc::SYS_unshare),
        ("setns", libc::SYS_setns),
        ("swapon", libc::SYS_swapon),
        ("swapoff", libc::SYS_swapoff),
        ("reboot", libc::SYS_reboot),
        ("open_by_handle_at", libc::SYS_open_by_handle_at),
        ("sethostname", libc::SYS_sethostname),
        ("settimeofday", libc::SYS_settimeofday),
        ("acct", libc::SYS_acct),
        ("syslog", libc::SYS_syslog),
        ("quotactl", libc::SYS_quotactl),
        ("kcmp", libc::SYS_kcmp),
    ];

    /// Run a classic BPF seccomp program on one call, the way the kernel would: a small
    /// interpreter for the instructions gocker's and seccompiler's programs use, so the
    /// tests check what the filter answers, not only its bytes.
    fn run(p: &[sock_filter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        // struct seccomp_data: nr, arch, instruction_pointer (u64), args[6] (u64).
        let mut data = vec![nr, arch, 0, 0];
        for a in args {
            data.push(a as u32); // little-endian: low half first
            data.push((a >> 32) as u32);
        }
        let (mut a, mut pc) = (0u32, 0usize);
        loop {
            let i = &p[pc];
            pc += 1;
            let cond = |taken: bool| if taken { i.jt as usize } else { i.jf as usize };
            match i.code {
                0x20 => a = data[i.k as usize / 4], // ld [k]
                0x54 => a &= i.k,                   // and #k
                0x05 => pc += i.k as usize,         // ja
                0x15 => pc += cond(a == i.k),       // jeq
                0x25 => pc += cond(a > i.k),        // jgt
                0x35 => pc += cond(a >= i.k),       // jge
                0x45 => pc += cond(a & i.k != 0),   // jset
                0x06 => return i.k,                 // ret
                c => panic!("unexpected opcode {c:#x} at {}", pc - 1),
            }
        }
    }

    /// The filter's answer to one call on this architecture.
    fn verdict(nr: libc::c_long, args: [u64; 6]) -> Result<(), i32> {
        let arch = audit_arch(super::arch().unwrap());
        let ret = run(&build().unwrap(), arch, nr as u32, args);
        match ret & 0xffff_0000 {
            x if x == libc::SECCOMP_RET_ALLOW => Ok(()),
            x if x == libc::SECCOMP_RET_ERRNO => Err((ret & 0xffff) as i32),
            x => panic!("action {x:#x}"),
        }
    }

    #[test]
    fn dangerous_calls_get_eperm() {
        for (name, nr) in BLOCKED {
            assert!(!allowed_numbers().contains(&(*nr as u32)), "{name} listed");
            assert_eq!(verdict(*nr, [0; 6]), Err(libc::EPERM), "{name}");
        }
        // An x32 call number (bit 30) is outside every range too.
        assert_eq!(verdict(0x4000_0000, [0; 6]), Err(libc::EPERM));
    }

    #[test]
    fn every_listed_call_is_allowed_and_only_those() {
        let listed = allowed_numbers();
        for nr in 0..600u32 {
            let v = verdict(nr as libc::c_long, [0; 6]);
            if nr == libc::SYS_clone3 as u32 {
                assert_eq!(v, Err(libc::ENOSYS), "clone3");
            } else if listed.contains(&nr) {
                assert_eq!(v, Ok(()), "{nr}");
            } else {
                assert_eq!(v, Err(libc::EPERM), "{nr}");
            }
        }
        for nr in [
            libc::SYS_read,
            libc::SYS_write,
            libc::SYS_openat,
            libc::SYS_execve,
            libc::SYS_mmap,
            libc::SYS_wait4,
            libc::SYS_exit_group,
            libc::SYS_chroot,
            libc::SYS_mknodat,
            libc::SYS_ptrace,
        ] {
            assert!(listed.contains(&(nr as u32)), "{nr}");
        }
    }

    #[test]
    fn clone_with_a_namespace_flag_is_refused() {
        // Docker's mask, from the flag names.
        assert_eq!(
            NAMESPACE_FLAG_LIST.iter().fold(0, |a, f| a | f),
            0x7E02_0000
        );
        let fork_flags =
            (libc::CLONE_CHILD_SETTID | libc::CLONE_CHILD_CLEARTID) as u64 | libc::SIGCHLD as u64;
        let thread_flags = (libc::CLONE_VM
            | libc::CLONE_FS
            | libc::CLONE_FILES
            | libc::CLONE_SIGHAND
            | libc::CLONE_THREAD
            | libc::CLONE_SYSVSEM
            | libc::CLONE_SETTLS
            | libc::CLONE_PARENT_SETTID
            | libc::CLONE_CHILD_CLEARTID) as u64;
        for ok in [fork_flags, thread_flags, 0] {
            assert_eq!(verdict(libc::SYS_clone, [ok, 0, 0, 0, 0, 0]), Ok(()));
        }
        for f in NAMESPACE_FLAG_LIST {
            for high in [0, 0xffff_ffff_0000_0000] {
                assert_eq!(
                    verdict(libc::SYS_clone, [high | fork_flags | f, 0, 0, 0, 0, 0]),
                    Err(libc::EPERM),
                    "{f:#x}"
                );
            }
        }
        assert_eq!(verdict(libc::SYS_clone3, [0; 6]), Err(libc::ENOSYS));
    }

    #[test]
    fn personality_and_socket_arguments() {
        for p in PERSONALITIES {
            assert_eq!(verdict(libc::SYS_personality, [p, 0, 0, 0, 0, 0]), Ok(()));
        }
        // READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, and bits beside the allowed ones.
        for p in [0x0040_0000, 0x0004_0000, 0x1, 0x2_0009, 0xffff_fffe] {
            assert_eq!(
                verdict(libc::SYS_personality, [p, 0, 0, 0, 0, 0]),
                Err(libc::EPERM)
            );
        }
        let sock = |family: i32| verdict(libc::SYS_socket, [family as u64, 1, 0, 0, 0, 0]);
        assert_eq!(sock(libc::AF_INET), Ok(()));
        assert_eq!(sock(libc::AF_UNIX), Ok(()));
        assert_eq!(sock(libc::AF_VSOCK), Err(libc::EPERM));
    }

    #[test]
    fn foreign_architectures_are_killed() {
        const AUDIT_ARCH_I386: u32 = 0x4000_0003;
        assert_eq!(
            run(
                &build().unwrap(),
                AUDIT_ARCH_I386,
                libc::SYS_read as u32,
                [0; 6]
            ),
            libc::SECCOMP_RET_KILL_PROCESS
        );
    }

    #[test]
    fn no_call_is_listed_twice() {
        let mut all: Vec<_> = ALLOWED.iter().chain(LEGACY).collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
        for nr in CHECKED.iter().chain(&[libc::SYS_clone3]) {
            assert!(!ALLOWED.contains(nr) && !LEGACY.contains(nr), "{nr}");
        }
    }

    #[test]
    fn programs_are_small_and_cheap_to_build() {
        // Install cost grows with length (see `program`).
        let filter = build().unwrap();
        eprintln!("seccomp filter: {} instructions", filter.len());
        assert!(filter.len() < 160, "{}", filter.len());
        let t = std::time::Instant::now();
        for _ in 0..20 {
            build().unwrap();
        }
        let each = t.elapsed() / 20;
        eprintln!("seccomp filter built in {each:?}");
        assert!(each < std::time::Duration::from_millis(2), "{each:?}");
    }
}
