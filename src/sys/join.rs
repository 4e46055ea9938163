//! Joining a running container (`gocker exec`): pidfds, setns through them, a clone that
//! makes a sibling, the dumpable flag, and a console socket's client end.

use super::*;

/// pidfd_open(2) (Linux 5.3): a descriptor that names this very process, never a later
/// one that reuses its number. ESRCH when `pid` does not exist.
pub fn pidfd_open(pid: pid_t) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor (pidfd_open(2)).
    let fd = check_long(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: the kernel just returned this descriptor (close-on-exec), which nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Whether the process a pidfd names is still alive: pidfd_send_signal(2) with signal 0.
pub fn pidfd_alive(pidfd: &OwnedFd) -> bool {
    // SAFETY: signal 0 sends nothing; a NULL info is allowed (pidfd_send_signal(2)).
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            0,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// setns(2) with a raw descriptor and a mask of CLONE_NEW* flags: with a pidfd (Linux
/// 5.8) it joins all the named namespaces of that process at once, or none of them.
pub fn setns_flags(fd: &OwnedFd, flags: u64) -> io::Result<()> {
    // SAFETY: fd is an open pidfd or namespace file; setns only reads it (setns(2)).
    check(unsafe { libc::setns(fd.as_raw_fd(), flags as libc::c_int) }).map(drop)
}

/// ioctl(NS_GET_NSTYPE) (Linux 4.11): the CLONE_NEW* flag of the namespace a namespace
/// file `fd` names; ENOTTY for any other file.
pub fn namespace_type(fd: &OwnedFd) -> io::Result<u64> {
    // _IO(0xb7, 0x3) from linux/nsfs.h.
    const NS_GET_NSTYPE: u64 = 0xb703;
    // SAFETY: NS_GET_NSTYPE takes no argument and returns the type (ioctl_ns(2)).
    check(unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_NSTYPE as _) }).map(|t| t as u64)
}

/// Like `clone`, but the child is a sibling: CLONE_PARENT makes it a child of our parent,
/// which waits for it and learns its status (as runc's nsexec does). Namespaces are not
/// created; the child is born in the pid namespace setns chose for our children, and,
/// with `cgroup`, in that cgroup v2 directory. `child`'s argument says whether it was.
///
/// Only for a process that is single-threaded by construction, the child of `clone`:
/// after a setns into another mount namespace, /proc/self may name nothing, so the thread
/// count `clone` checks can no longer be read. The caller is the proof instead.
pub fn clone_sibling<F>(cgroup: Option<RawFd>, child: F) -> io::Result<(pid_t, bool)>
where
    F: FnOnce(bool),
{
    let flags = libc::CLONE_PARENT as u64;
    let (pid, in_cgroup) = match raw_clone(flags, cgroup) {
        Err(e)
            if cgroup.is_some()
                && matches!(
                    e.raw_os_error(),
                    Some(libc::ENOSYS | libc::E2BIG | libc::EINVAL)
                ) =>
        {
            (raw_clone(flags, None)?, false)
        }
        r => (r?, cgroup.is_some()),
    };
    if pid != 0 {
        return Ok((pid, in_cgroup));
    }
    child(in_cgroup);
    exit_now(125)
}

/// prctl(PR_SET_DUMPABLE): a process that is not dumpable cannot be ptraced, nor its
/// /proc/PID/exe, mem or fd opened, by a process without CAP_SYS_PTRACE. execve sets
/// it back for an ordinary program.
pub fn set_dumpable(dumpable: bool) -> io::Result<()> {
    // SAFETY: PR_SET_DUMPABLE takes 0 or 1 (prctl(2)).
    check(unsafe { libc::prctl(libc::PR_SET_DUMPABLE, dumpable as libc::c_ulong, 0, 0, 0) })
        .map(drop)
}

/// The (major, minor) of the device file an fd refers to, and the magic of the
/// filesystem it is on (fstat(2), fstatfs(2)); works on O_PATH descriptors.
pub fn device_of(fd: &OwnedFd) -> io::Result<(u32, u32, u32, i64)> {
    // SAFETY: stat is plain data, filled by the kernel.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fd is open and st a valid out-pointer (fstat(2)).
    check(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) })?;
    // SAFETY: statfs is plain data, filled by the kernel.
    let mut sf: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: fd is open and sf a valid out-pointer (fstatfs(2)).
    check(unsafe { libc::fstatfs(fd.as_raw_fd(), &mut sf) })?;
    Ok((
        st.st_mode & libc::S_IFMT,
        libc::major(st.st_rdev),
        libc::minor(st.st_rdev),
        sf.f_type as i64,
    ))
}

/// A Unix stream socket connected to the socket file `path` (unix(7), connect(2)).
pub fn connect_unix(path: &Path) -> io::Result<OwnedFd> {
    // SAFETY: sockaddr_un is plain data; the path is copied in below.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    let bytes = path.as_os_str().as_bytes();
    if bytes.len() >= addr.sun_path.len() || bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "socket path too long for a unix socket address",
        ));
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, s) in addr.sun_path.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    // SAFETY: socket takes plain numbers (socket(2)).
    let fd =
        check(unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: socket just returned this descriptor, which nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let len = (std::mem::size_of::<libc::sa_family_t>() + bytes.len() + 1) as libc::socklen_t;
    loop {
        // SAFETY: addr is a valid sockaddr_un of at least len bytes (connect(2)).
        let r = unsafe {
            libc::connect(
                sock.as_raw_fd(),
                (&addr as *const libc::sockaddr_un).cast(),
                len,
            )
        };
        if r == 0 {
            return Ok(sock);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Send `fd` over `sock` with `name` as the message (SCM_RIGHTS, unix(7)): the console
/// socket protocol of runc, whose payload is the terminal's name, `/dev/ptmx`.
pub fn send_fd_named(sock: &OwnedFd, fd: &OwnedFd, name: &[u8]) -> io::Result<()> {
    let mut data = name.to_vec();
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
    let mut cbuf = vec![0u8; space];
    // SAFETY: msghdr is plain data; the fields used are set below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    // SAFETY: msg_control points at CMSG_SPACE(sizeof fd) bytes, so the first header and
    // its data fit (cmsg(3)).
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<RawFd>(), fd.as_raw_fd());
    }
    loop {
        // SAFETY: msg describes valid buffers that outlive the call (sendmsg(2)).
        let n = unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) };
        if n >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// fchdir(2): make the directory `dir` (which may be an O_PATH fd) the working directory.
pub fn fchdir(dir: &OwnedFd) -> io::Result<()> {
    // SAFETY: fchdir only reads the descriptor (fchdir(2)).
    check(unsafe { libc::fchdir(dir.as_raw_fd()) }).map(drop)
}
