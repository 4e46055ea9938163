//! Processes: clone into new namespaces, pipes and reads, exec, wait, signals, poll.

use super::*;

/// Which namespaces a clone creates, and whether the child starts in a cgroup.
pub struct CloneArgs {
    pub flags: u64,
    /// A cgroup v2 directory fd for CLONE_INTO_CGROUP (clone3 only).
    pub cgroup: Option<RawFd>,
}

pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

#[repr(C)]
#[derive(Default)]
pub(crate) struct Clone3Args {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// Fork-like clone into new namespaces: runs `child` in the child (which exits after it),
/// and returns the child's pid (and whether it was born in `args.cgroup`) in the parent.
///
/// Uses clone3 when a cgroup is given (CLONE_INTO_CGROUP exists only there, since 5.7);
/// a kernel without clone3 or CLONE_INTO_CGROUP gets plain clone instead, and `child` is
/// told (its argument is false) that it must join its cgroup itself. In the parent, `child`
/// is dropped unrun, with whatever it owns (the child's ends of the channels). The child continues
/// on a copy of this stack, as after fork(2), which is sound only in a single-threaded
/// process (another thread's locks would stay held forever in the copy): so this refuses
/// to clone when the process has more than one thread.
pub fn clone<F>(args: &CloneArgs, child: F) -> io::Result<(pid_t, bool)>
where
    F: FnOnce(bool),
{
    if threads()? != 1 {
        return Err(io::Error::other("clone needs a single-threaded process"));
    }
    let (pid, in_cgroup) = match raw_clone(args.flags, args.cgroup) {
        Err(e)
            if args.cgroup.is_some()
                && matches!(
                    e.raw_os_error(),
                    Some(libc::ENOSYS | libc::E2BIG | libc::EINVAL)
                ) =>
        {
            (raw_clone(args.flags, None)?, false)
        }
        r => (r?, args.cgroup.is_some()),
    };
    if pid != 0 {
        return Ok((pid, in_cgroup));
    }
    child(in_cgroup);
    // The child's work ends in exec or exit; should it ever return, the copy of the
    // parent's stack must not run on as a second gocker.
    exit_now(125)
}

/// The number of threads of this process: `/proc/self/task` has one entry per thread
/// besides `.` and `..`, and procfs gives it that link count (one stat, no directory read).
pub(crate) fn threads() -> io::Result<u64> {
    let p = c"/proc/self/task";
    // SAFETY: stat is plain data, filled by stat(2); p is a valid C string.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: see above (stat(2)).
    check(unsafe { libc::stat(p.as_ptr(), &mut st) })?;
    Ok((st.st_nlink as u64).saturating_sub(2))
}

pub(crate) fn raw_clone(flags: u64, cgroup: Option<RawFd>) -> io::Result<pid_t> {
    let ret = if let Some(fd) = cgroup {
        let mut ca = Clone3Args {
            flags: flags | CLONE_INTO_CGROUP,
            exit_signal: libc::SIGCHLD as u64,
            cgroup: fd as u64,
            ..Default::default()
        };
        // SAFETY: ca is a valid clone_args of the size passed; stack 0 means fork-like
        // semantics (clone3(2)); `clone` checked that this process is single-threaded.
        unsafe {
            libc::syscall(
                libc::SYS_clone3,
                &mut ca as *mut Clone3Args,
                std::mem::size_of::<Clone3Args>(),
            )
        }
    } else {
        // SAFETY: a NULL stack makes clone behave as fork in a copy of the address space
        // (clone(2)); `clone` checked that this process is single-threaded.
        unsafe {
            libc::syscall(
                libc::SYS_clone,
                (flags | libc::SIGCHLD as u64) as libc::c_ulong,
                0usize,
                0usize,
                0usize,
                0usize,
            )
        }
    };
    check_long(ret).map(|pid| pid as pid_t)
}

pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors pipe2(2) writes.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 just returned these two descriptors, which nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// mkfifo(3): a named pipe at `path` (the exec gate of `gocker create`).
pub fn mkfifo(path: &Path, mode: u32) -> io::Result<()> {
    let p = cstr(path)?;
    // SAFETY: p is a NUL-terminated path (mkfifo(3)).
    check(unsafe { libc::mkfifo(p.as_ptr(), mode as libc::mode_t) }).map(drop)
}

pub fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: buf is valid for writes of buf.len() bytes (read(2)).
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

pub fn write_all(fd: RawFd, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        // SAFETY: buf is valid for reads of buf.len() bytes (write(2)).
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        buf = &buf[n as usize..];
    }
    Ok(())
}

pub fn dup2(from: RawFd, to: RawFd) -> io::Result<()> {
    // SAFETY: dup2 only manipulates the descriptor table (dup2(2)).
    check(unsafe { libc::dup2(from, to) }).map(drop)
}

pub fn open(path: &Path, flags: libc::c_int) -> io::Result<OwnedFd> {
    let p = cstr(path)?;
    // SAFETY: p is a valid C string; mode is only read with O_CREAT (open(2)).
    let fd = check(unsafe { libc::open(p.as_ptr(), flags | libc::O_CLOEXEC, 0o644) })?;
    // SAFETY: open just returned this descriptor, which nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// openat(2): `path` relative to the directory `dir` (which may be an O_PATH fd).
pub fn openat(dir: &OwnedFd, path: &Path, flags: libc::c_int) -> io::Result<OwnedFd> {
    let p = cstr(path)?;
    // SAFETY: dir is an open directory fd and p a valid C string (openat(2)).
    let fd = check(unsafe { libc::openat(dir.as_raw_fd(), p.as_ptr(), flags | libc::O_CLOEXEC) })?;
    // SAFETY: openat just returned this descriptor, which nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// execve(2); returns only on failure.
pub fn execve(path: &CStr, argv: &[CString], envp: &[CString]) -> io::Error {
    let mut a: Vec<*const libc::c_char> = argv.iter().map(|s| s.as_ptr()).collect();
    a.push(std::ptr::null());
    let mut e: Vec<*const libc::c_char> = envp.iter().map(|s| s.as_ptr()).collect();
    e.push(std::ptr::null());
    // SAFETY: path, argv and envp are NUL-terminated arrays of valid C strings (execve(2)).
    unsafe { libc::execve(path.as_ptr(), a.as_ptr(), e.as_ptr()) };
    io::Error::last_os_error()
}

/// fork(2): the child gets 0, the parent the child's pid. For `run -d`'s monitor
/// (runtime/detach.rs); gocker is one thread, so the child may run any code after it.
pub fn fork() -> io::Result<pid_t> {
    // SAFETY: gocker never starts threads, so no lock can be held by a thread the child
    // lacks; the child continues in ordinary Rust code (fork(2)).
    check(unsafe { libc::fork() })
}

/// Ignore `sig` from now on (and across execve, so callers restore it for a child that
/// needs it): the detached container's monitor ignores its terminal's hang-up and ^C.
pub fn ignore_signal(sig: libc::c_int) -> io::Result<()> {
    // SAFETY: SIG_IGN is a valid disposition for every catchable signal (signal(2)).
    if unsafe { libc::signal(sig, libc::SIG_IGN) } == libc::SIG_ERR {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Exit at once, without running atexit handlers or flushing stdio buffers the
/// parent also holds copies of (_exit(2)).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
}

pub fn getpid() -> pid_t {
    // SAFETY: getpid cannot fail (getpid(2)).
    unsafe { libc::getpid() }
}

pub fn geteuid() -> u32 {
    // SAFETY: geteuid cannot fail (geteuid(2)).
    unsafe { libc::geteuid() }
}

/// This process's effective capability set, as one 64-bit mask (capget(2), version 3).
pub fn effective_caps() -> io::Result<u64> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Default, Clone, Copy)]
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
    let mut data = [Data::default(); 2];
    // SAFETY: hdr and data are the header and the two-element array capget(2) takes for
    // version 3.
    check_long(unsafe {
        libc::syscall(libc::SYS_capget, &mut hdr as *mut Header, data.as_mut_ptr())
    })?;
    Ok(data[0].effective as u64 | (data[1].effective as u64) << 32)
}

/// Whether a process exists (kill(2) with signal 0; EPERM still means it exists).
pub fn process_exists(pid: pid_t) -> bool {
    // SAFETY: signal 0 checks for existence and sends nothing (kill(2)).
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

pub fn kill(pid: pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: kill only sends a signal (kill(2)).
    check(unsafe { libc::kill(pid, sig) }).map(drop)
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitStatus {
    Exited(i32),
    Signaled(i32),
}

/// waitpid(2); `None` with `nohang` when the child is still running.
pub fn waitpid(pid: pid_t, nohang: bool) -> io::Result<Option<WaitStatus>> {
    let mut status = 0;
    loop {
        let flags = if nohang { libc::WNOHANG } else { 0 };
        // SAFETY: status is a valid out-pointer (waitpid(2)).
        let r = unsafe { libc::waitpid(pid, &mut status, flags) };
        if r == -1 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if r == 0 {
            return Ok(None);
        }
        break;
    }
    if libc::WIFEXITED(status) {
        Ok(Some(WaitStatus::Exited(libc::WEXITSTATUS(status))))
    } else if libc::WIFSIGNALED(status) {
        Ok(Some(WaitStatus::Signaled(libc::WTERMSIG(status))))
    } else {
        Ok(None)
    }
}

/// A set of signals, for blocking and for signalfd.
pub struct SigSet(libc::sigset_t);

impl SigSet {
    pub fn of(signals: &[libc::c_int]) -> SigSet {
        // SAFETY: sigset_t is plain data; sigemptyset initialises it (sigsetops(3)).
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: set is a valid sigset_t and each signal number is a valid signal.
        unsafe {
            libc::sigemptyset(&mut set);
            for &s in signals {
                libc::sigaddset(&mut set, s);
            }
        }
        SigSet(set)
    }
}

/// sigprocmask(2): block `set`, returning the previous mask to restore later.
pub fn block_signals(set: &SigSet) -> io::Result<SigSet> {
    // SAFETY: zeroed sigset_t is a valid out-buffer.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid sigset_t (sigprocmask(2)).
    check(unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set.0, &mut old) })?;
    Ok(SigSet(old))
}

pub fn set_signal_mask(set: &SigSet) -> io::Result<()> {
    // SAFETY: set is a valid sigset_t (sigprocmask(2)).
    check(unsafe { libc::sigprocmask(libc::SIG_SETMASK, &set.0, std::ptr::null_mut()) }).map(drop)
}

/// What Rust's runtime does at start-up that gocker needs, for an entry point that skips
/// the rest of it (see src/main.rs): descriptors 0-2 open (a closed one becomes
/// /dev/null, so that no file gocker opens later is taken for stdio and handed to the
/// container as such), and SIGPIPE ignored, so that a reader going away is an EPIPE
/// gocker handles (and cleans up after), not its death.
pub fn start_process() {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: fds is an array of 3 valid pollfd structs; timeout 0 never blocks (poll(2)).
    let polled = unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) };
    if polled >= 0 {
        for p in fds.iter().filter(|p| p.revents & libc::POLLNVAL != 0) {
            // SAFETY: a constant C string path; open(2) returns the lowest free
            // descriptor, which is p.fd since those below it are open.
            let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
            if fd != p.fd {
                // Nothing sane to hand on as stdio: stop, as Rust's runtime would.
                exit_now(125);
            }
        }
    }
    // SAFETY: SIG_IGN is always a valid disposition for SIGPIPE (signal(2)).
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// Undo the one disposition gocker changes at start-up (`start_process`): an ignored
/// SIGPIPE stays ignored across execve (signal(7)), so the container's programs would
/// never die of a broken pipe. Handlers need no reset: execve resets every caught signal
/// to its default.
pub fn restore_sigpipe() {
    // SAFETY: SIG_DFL is always a valid disposition for SIGPIPE (signal(2)).
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

pub fn signalfd(set: &SigSet) -> io::Result<OwnedFd> {
    // SAFETY: set is a valid sigset_t; -1 asks for a new descriptor (signalfd(2)).
    let fd = check(unsafe { libc::signalfd(-1, &set.0, libc::SFD_CLOEXEC) })?;
    // SAFETY: signalfd just returned this descriptor, which nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Read one signal number from a signalfd.
pub fn read_signal(fd: &OwnedFd) -> io::Result<i32> {
    // SAFETY: signalfd_siginfo is plain data.
    let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
    // SAFETY: info is a valid buffer of its own size (signalfd(2)).
    let buf = unsafe {
        std::slice::from_raw_parts_mut(
            (&mut info as *mut libc::signalfd_siginfo).cast::<u8>(),
            std::mem::size_of::<libc::signalfd_siginfo>(),
        )
    };
    read(fd.as_raw_fd(), buf)?;
    Ok(info.ssi_signo as i32)
}

/// Whether the other end of pipe `fd` has been closed (POLLHUP), without waiting.
pub fn hung_up(fd: RawFd) -> io::Result<bool> {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: p is one valid pollfd; timeout 0 never blocks (poll(2)).
    check(unsafe { libc::poll(&mut p, 1, 0) })?;
    Ok(p.revents & libc::POLLHUP != 0)
}

/// Whether `fd` can be read from right now, without waiting.
pub fn poll_ready_now(fd: RawFd) -> io::Result<bool> {
    poll(&[fd], 0).map(|r| r[0])
}

/// poll(2) on `fds` for readability, waiting at most `timeout_ms` (-1: as long as it takes).
pub fn poll_readable_for(fds: &[RawFd], timeout_ms: libc::c_int) -> io::Result<Vec<bool>> {
    poll(fds, timeout_ms)
}

/// poll(2) for readability; returns which are ready (or hung up).
pub(crate) fn poll(fds: &[RawFd], timeout_ms: libc::c_int) -> io::Result<Vec<bool>> {
    let mut p: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        // SAFETY: p is a valid array of p.len() pollfd (poll(2)).
        let r = unsafe { libc::poll(p.as_mut_ptr(), p.len() as libc::nfds_t, timeout_ms) };
        if r >= 0 {
            break;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(p.iter().map(|p| p.revents != 0).collect())
}
