//! What a process may do: parent-death signal, no_new_privs, capabilities, rlimits,
//! the session and its controlling terminal.

use super::*;

/// prctl(PR_SET_PDEATHSIG): the kernel sends `sig` to us when our parent dies.
pub fn set_parent_death_signal(sig: libc::c_int) -> io::Result<()> {
    // SAFETY: PR_SET_PDEATHSIG takes a signal number (prctl(2)).
    check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0) }).map(drop)
}

/// prctl(PR_SET_NO_NEW_PRIVS): execve can no longer grant privileges (setuid, file caps).
pub fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: PR_SET_NO_NEW_PRIVS takes 1 and zeros (prctl(2)).
    check(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }).map(drop)
}

/// prctl(PR_CAPBSET_DROP): remove one capability from the bounding set.
pub fn drop_bounding_cap(cap: u32) -> io::Result<()> {
    // SAFETY: PR_CAPBSET_DROP takes a capability number (prctl(2)).
    check(unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) }).map(drop)
}

pub fn setsid() -> io::Result<()> {
    // SAFETY: setsid takes no arguments (setsid(2)).
    check(unsafe { libc::setsid() }).map(drop)
}

/// Make `fd` (a terminal) our controlling terminal (TIOCSCTTY, ioctl_tty(2)).
pub fn set_controlling_tty(fd: RawFd) -> io::Result<()> {
    // SAFETY: TIOCSCTTY takes an int argument; 0 means do not steal it.
    check(unsafe { libc::ioctl(fd, libc::TIOCSCTTY, 0) }).map(drop)
}

/// setrlimit(2): set resource `resource` (a `RLIMIT_*` number) to `soft` and `hard`.
pub fn set_rlimit(resource: u32, soft: u64, hard: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: lim is a valid rlimit; an unknown resource is EINVAL (setrlimit(2)).
    check(unsafe { libc::setrlimit(resource as _, &lim) }).map(drop)
}

/// The capability sets of this process as three 64-bit masks (capset(2), version 3):
/// effective, permitted, inheritable.
pub fn set_caps(effective: u64, permitted: u64, inheritable: u64) -> io::Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    let mut hdr = Header {
        version: VERSION_3,
        pid: 0,
    };
    let half = |m: u64, hi: bool| (if hi { m >> 32 } else { m }) as u32;
    let data = [false, true].map(|hi| Data {
        effective: half(effective, hi),
        permitted: half(permitted, hi),
        inheritable: half(inheritable, hi),
    });
    // SAFETY: hdr and data are the header and two-element array capset(2) takes for version 3.
    check_long(unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut Header, data.as_ptr()) })
        .map(drop)
}

/// prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL): no ambient capabilities survive execve.
pub fn clear_ambient_caps() -> io::Result<()> {
    // SAFETY: PR_CAP_AMBIENT_CLEAR_ALL takes zeros (prctl(2)).
    check(unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        )
    })
    .map(drop)
}

/// prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE): `cap` survives execve, even for a user
/// other than root. It must be permitted and inheritable already (EPERM otherwise).
pub fn raise_ambient_cap(cap: u32) -> io::Result<()> {
    // SAFETY: PR_CAP_AMBIENT_RAISE takes a capability number and zeros (prctl(2)).
    check(unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
            cap as libc::c_ulong,
            0,
            0,
        )
    })
    .map(drop)
}

/// prctl(PR_SET_KEEPCAPS): whether the permitted set survives a change of uid from 0.
pub fn set_keep_caps(keep: bool) -> io::Result<()> {
    // SAFETY: PR_SET_KEEPCAPS takes 0 or 1 (prctl(2)).
    check(unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, keep as libc::c_ulong, 0, 0, 0) }).map(drop)
}

/// setgroups(2), setresgid(2), setresuid(2) as raw system calls: they change this thread
/// alone, where glibc's wrappers signal every thread of the process (a cloned child
/// has just the one).
pub fn set_user(uid: u32, gid: u32, groups: &[u32]) -> io::Result<()> {
    // SAFETY: groups is a valid array of groups.len() gid_t (setgroups(2)).
    check_long(unsafe {
        libc::syscall(
            libc::SYS_setgroups,
            groups.len() as libc::size_t,
            groups.as_ptr(),
        )
    })?;
    // SAFETY: three gid_t values (setresgid(2)).
    check_long(unsafe { libc::syscall(libc::SYS_setresgid, gid, gid, gid) })?;
    // SAFETY: three uid_t values (setresuid(2)).
    check_long(unsafe { libc::syscall(libc::SYS_setresuid, uid, uid, uid) }).map(drop)
}

/// seccomp(2) SECCOMP_SET_MODE_FILTER with no flags: `filter` joins this thread's
/// filters. Unlike seccompiler's apply_filter, it leaves no_new_privs as it is (a bundle
/// may not ask for it; then CAP_SYS_ADMIN is needed).
pub fn seccomp_set_filter(filter: &[seccompiler::sock_filter]) -> io::Result<()> {
    let len =
        u16::try_from(filter.len()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let prog = libc::sock_fprog {
        len,
        // seccompiler's sock_filter is #[repr(C)] with linux/filter.h's fields, as libc's is.
        filter: filter.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: prog points to `len` valid instructions, which the kernel copies (seccomp(2)).
    check_long(unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &prog as *const libc::sock_fprog,
        )
    })
    .map(drop)
}
