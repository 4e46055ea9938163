//! The syscall layer: every kernel call gocker makes, one small function each.
//!
//! This is the only module with `unsafe`. Each function is one syscall; a `-1` return
//! becomes `io::Error::last_os_error()`, and callers add the operation and path as context.

use std::ffi::{CStr, CString, OsStr};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub use libc::pid_t;

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn check_long(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// A path or string as a C string; an interior NUL is an input error, not a panic.
pub fn cstr<S: AsRef<OsStr> + ?Sized>(s: &S) -> io::Result<CString> {
    CString::new(s.as_ref().as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "contains a NUL byte, which no path or argument can hold",
        )
    })
}

/// Mount flags, in the kernel's encoding (mount(2)).
pub mod ms {
    pub const RDONLY: u64 = libc::MS_RDONLY;
    pub const NOSUID: u64 = libc::MS_NOSUID;
    pub const NODEV: u64 = libc::MS_NODEV;
    pub const NOEXEC: u64 = libc::MS_NOEXEC;
    pub const REMOUNT: u64 = libc::MS_REMOUNT;
    pub const BIND: u64 = libc::MS_BIND;
    pub const REC: u64 = libc::MS_REC;
    pub const PRIVATE: u64 = libc::MS_PRIVATE;
    pub const MOVE: u64 = libc::MS_MOVE;
}

/// mount(2). `source`/`fstype`/`data` may be absent, as for propagation changes.
pub fn mount(
    source: Option<&Path>,
    target: &Path,
    fstype: Option<&str>,
    flags: u64,
    data: Option<&str>,
) -> io::Result<()> {
    let source = source.map(cstr).transpose()?;
    let target = cstr(target)?;
    let fstype = fstype.map(cstr).transpose()?;
    let data = data.map(cstr).transpose()?;
    let opt = |c: &Option<CString>| c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: all pointers are NUL-terminated strings that outlive the call, or NULL (mount(2)).
    check(unsafe {
        libc::mount(
            opt(&source),
            target.as_ptr(),
            opt(&fstype),
            flags as libc::c_ulong,
            opt(&data) as *const libc::c_void,
        )
    })
    .map(drop)
}

/// umount2(2) with MNT_DETACH: the mount disappears from the tree now, and is freed
/// when its last user goes away.
pub fn umount_detach(target: &Path) -> io::Result<()> {
    let target = cstr(target)?;
    // SAFETY: target is a valid C string (umount2(2)).
    check(unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) }).map(drop)
}

/// pivot_root(2); glibc has no wrapper, so it is a raw syscall.
pub fn pivot_root(new_root: &Path, put_old: &Path) -> io::Result<()> {
    let new_root = cstr(new_root)?;
    let put_old = cstr(put_old)?;
    // SAFETY: both arguments are valid C strings (pivot_root(2)).
    check_long(unsafe { libc::syscall(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr()) })
        .map(drop)
}

/// setns(2): join the namespace `fd` refers to (an /proc/PID/ns/* file).
pub fn setns(fd: &OwnedFd, nstype: libc::c_int) -> io::Result<()> {
    // SAFETY: fd is an open namespace file; setns only reads it (setns(2)).
    check(unsafe { libc::setns(fd.as_raw_fd(), nstype) }).map(drop)
}

pub fn chdir(path: &Path) -> io::Result<()> {
    let path = cstr(path)?;
    // SAFETY: path is a valid C string (chdir(2)).
    check(unsafe { libc::chdir(path.as_ptr()) }).map(drop)
}

pub fn sethostname(name: &str) -> io::Result<()> {
    // SAFETY: the pointer and length describe `name`'s bytes (sethostname(2)).
    check(unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) }).map(drop)
}

/// mknod(2) of a character device with mode `mode` (the umask still applies).
pub fn mknod_char(path: &Path, mode: u32, major: u32, minor: u32) -> io::Result<()> {
    let p = cstr(path)?;
    // SAFETY: p is a valid C string; makedev only packs two numbers (mknod(2)).
    check(unsafe {
        libc::mknod(
            p.as_ptr(),
            libc::S_IFCHR | mode,
            libc::makedev(major, minor),
        )
    })
    .map(drop)
}

/// A directory under `dir` with a fresh unique name (mkdtemp(3)).
pub fn mkdtemp(template: &Path) -> io::Result<std::path::PathBuf> {
    let mut buf = cstr(template)?.into_bytes_with_nul();
    // SAFETY: buf is a writable NUL-terminated template ending in XXXXXX (mkdtemp(3)).
    let ret = unsafe { libc::mkdtemp(buf.as_mut_ptr().cast()) };
    if ret.is_null() {
        return Err(io::Error::last_os_error());
    }
    buf.pop();
    let s: std::ffi::OsString = std::os::unix::ffi::OsStringExt::from_vec(buf);
    Ok(s.into())
}

// ---------------------------------------------------------------- paths inside a root
//
// A rootfs is hostile: any path in it may be a symlink to the host. Everything gocker makes
// or mounts inside the container is reached through a directory fd of the new root and
// openat2(RESOLVE_IN_ROOT), so a symlink resolves as the container would see it, and the
// mount API (open_tree, fsmount, move_mount) then mounts onto that fd, not onto a path.

/// openat2(2) under `root`: `path` is resolved as if `root` were `/` (RESOLVE_IN_ROOT: an
/// absolute symlink restarts at root, `..` stops there). `no_symlinks` refuses any symlink
/// on the way (ELOOP). Magic links (/proc/PID/fd/N) are never followed.
pub fn open_in_root(
    root: &OwnedFd,
    path: &Path,
    flags: libc::c_int,
    mode: u32,
    no_symlinks: bool,
) -> io::Result<OwnedFd> {
    let p = cstr(path)?;
    let mut resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    if no_symlinks {
        resolve |= libc::RESOLVE_NO_SYMLINKS;
    }
    // SAFETY: open_how is plain data; every field is set below (openat2(2)).
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.mode = if flags & libc::O_CREAT != 0 {
        mode as u64
    } else {
        0
    };
    how.resolve = resolve;
    loop {
        // SAFETY: root is an open directory fd, p a valid C string, how an open_how of the
        // size passed (openat2(2)).
        let r = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                root.as_raw_fd(),
                p.as_ptr(),
                &how as *const libc::open_how,
                std::mem::size_of::<libc::open_how>(),
            )
        };
        match check_long(r) {
            // The kernel asks for a retry when a rename raced the lookup (openat2(2)).
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => continue,
            Err(e) => return Err(e),
            // SAFETY: openat2 just returned this descriptor, which nothing else owns.
            Ok(fd) => return Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) }),
        }
    }
}

fn at_path(p: &OsStr) -> io::Result<CString> {
    cstr(p)
}

/// mkdirat(2): a directory `name` (one component) in the directory `dir`.
pub fn mkdirat(dir: &OwnedFd, name: &OsStr, mode: u32) -> io::Result<()> {
    let n = at_path(name)?;
    // SAFETY: dir is an open directory fd and n a valid C string (mkdirat(2)).
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), n.as_ptr(), mode as libc::mode_t) }).map(drop)
}

/// mknodat(2) of a character device `name` in `dir`, then fchmodat(2) to `mode` (mknod
/// applies the umask; device nodes are for everyone).
pub fn mknodat_char(
    dir: &OwnedFd,
    name: &OsStr,
    mode: u32,
    major: u32,
    minor: u32,
) -> io::Result<()> {
    let n = at_path(name)?;
    // SAFETY: dir is an open directory fd, n a valid C string; makedev packs two numbers
    // (mknodat(2)).
    check(unsafe {
        libc::mknodat(
            dir.as_raw_fd(),
            n.as_ptr(),
            libc::S_IFCHR | mode,
            libc::makedev(major, minor),
        )
    })?;
    // SAFETY: as above; flags 0 follows nothing, the node was just made (fchmodat(2)).
    check(unsafe { libc::fchmodat(dir.as_raw_fd(), n.as_ptr(), mode as libc::mode_t, 0) }).map(drop)
}

/// symlinkat(2): a link `name` in `dir` pointing at `target` (which is not resolved now).
pub fn symlinkat(target: &str, dir: &OwnedFd, name: &OsStr) -> io::Result<()> {
    let t = cstr(target)?;
    let n = at_path(name)?;
    // SAFETY: both are valid C strings and dir an open directory fd (symlinkat(2)).
    check(unsafe { libc::symlinkat(t.as_ptr(), dir.as_raw_fd(), n.as_ptr()) }).map(drop)
}

/// The file an fd refers to: (device, inode, file type bits).
pub fn fstat(fd: &OwnedFd) -> io::Result<(u64, u64, u32)> {
    // SAFETY: stat is plain data, filled by the kernel.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fd is open and st a valid out-pointer (fstat(2)).
    check(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) })?;
    Ok((st.st_dev, st.st_ino, st.st_mode & libc::S_IFMT))
}

/// The id of the mount `path` (relative to `dir`, or the fd itself when empty) is on, and
/// its inode: statx(2) with STATX_MNT_ID (Linux 5.8). None for the id on older kernels.
pub fn mount_id(dir: Option<&OwnedFd>, path: &Path) -> io::Result<(Option<u64>, u64, u64)> {
    let p = cstr(path)?;
    let (fd, flags) = match dir {
        Some(d) if path.as_os_str().is_empty() => (d.as_raw_fd(), libc::AT_EMPTY_PATH),
        Some(d) => (d.as_raw_fd(), 0),
        None => (libc::AT_FDCWD, 0),
    };
    // SAFETY: statx is plain data, filled by the kernel.
    let mut st: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: fd is open (or AT_FDCWD), p a valid C string, st a valid out-pointer (statx(2)).
    check(unsafe {
        libc::statx(
            fd,
            p.as_ptr(),
            flags,
            libc::STATX_MNT_ID | libc::STATX_INO,
            &mut st,
        )
    })?;
    let id = (st.stx_mask & libc::STATX_MNT_ID != 0).then_some(st.stx_mnt_id);
    let dev = libc::makedev(st.stx_dev_major, st.stx_dev_minor);
    Ok((id, dev, st.stx_ino))
}

/// The filesystem type (f_type magic) of the filesystem `path` is on (statfs(2)).
pub fn fs_magic(path: &Path) -> io::Result<i64> {
    let p = cstr(path)?;
    // SAFETY: statfs is plain data, filled by the kernel.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: p is a valid C string and st a valid out-pointer (statfs(2)).
    check(unsafe { libc::statfs(p.as_ptr(), &mut st) })?;
    Ok(st.f_type as i64)
}

/// Mount attributes (mount_setattr(2), fsmount(2)) for the per-mount MS_* flags.
fn mount_attrs(flags: u64) -> u64 {
    let mut a = 0;
    for (ms, attr) in [
        (libc::MS_RDONLY, libc::MOUNT_ATTR_RDONLY),
        (libc::MS_NOSUID, libc::MOUNT_ATTR_NOSUID),
        (libc::MS_NODEV, libc::MOUNT_ATTR_NODEV),
        (libc::MS_NOEXEC, libc::MOUNT_ATTR_NOEXEC),
    ] {
        if flags & ms != 0 {
            a |= attr;
        }
    }
    a
}

/// open_tree(2) with OPEN_TREE_CLONE: a detached copy of the mount at `path` (relative to
/// `dir`, or the fd itself when `path` is empty), with its submounts when `recursive`.
pub fn clone_tree(dir: Option<&OwnedFd>, path: &Path, recursive: bool) -> io::Result<OwnedFd> {
    let p = cstr(path)?;
    let mut flags = libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    let fd = match dir {
        Some(d) => {
            if path.as_os_str().is_empty() {
                flags |= libc::AT_EMPTY_PATH as libc::c_uint;
            }
            d.as_raw_fd()
        }
        None => libc::AT_FDCWD,
    };
    // SAFETY: fd is open (or AT_FDCWD) and p a valid C string (open_tree(2)).
    let r = check_long(unsafe { libc::syscall(libc::SYS_open_tree, fd, p.as_ptr(), flags) })?;
    // SAFETY: open_tree just returned this descriptor, which nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) })
}

/// mount_setattr(2) with AT_RECURSIVE: set the per-mount flags (`MS_RDONLY`, ...) on the
/// mount `tree` and every mount below it, which a remount of a bind cannot do.
pub fn set_mount_flags_recursive(tree: &OwnedFd, flags: u64) -> io::Result<()> {
    // SAFETY: mount_attr is plain data; the fields are set below.
    let mut attr: libc::mount_attr = unsafe { std::mem::zeroed() };
    attr.attr_set = mount_attrs(flags);
    let empty = c"";
    // SAFETY: tree is a mount fd, the path is empty with AT_EMPTY_PATH, attr a mount_attr of
    // the size passed (mount_setattr(2)).
    check_long(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            empty.as_ptr(),
            (libc::AT_EMPTY_PATH | libc::AT_RECURSIVE) as libc::c_uint,
            &mut attr as *mut libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    })
    .map(drop)
}

/// A new, detached filesystem instance (fsopen, fsconfig, fsmount: the mount API of Linux
/// 5.2). `options` are mount(8)-style `key=value` or bare `key` words; `flags` the per-mount
/// MS_* flags.
pub fn new_fs(fstype: &str, source: &str, options: &[&str], flags: u64) -> io::Result<OwnedFd> {
    let t = cstr(fstype)?;
    // SAFETY: t is a valid C string (fsopen(2)).
    let fs =
        check_long(unsafe { libc::syscall(libc::SYS_fsopen, t.as_ptr(), libc::FSOPEN_CLOEXEC) })?;
    // SAFETY: fsopen just returned this descriptor, which nothing else owns.
    let fs = unsafe { OwnedFd::from_raw_fd(fs as RawFd) };
    let config = |cmd: libc::c_uint, key: Option<&CStr>, value: Option<&CStr>| {
        let ptr = |c: Option<&CStr>| c.map_or(std::ptr::null(), |c| c.as_ptr());
        // SAFETY: fs is an fs context fd; key and value are valid C strings or NULL as the
        // command requires (fsconfig(2)).
        check_long(unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                fs.as_raw_fd(),
                cmd,
                ptr(key),
                ptr(value),
                0,
            )
        })
    };
    let src = cstr(source)?;
    config(libc::FSCONFIG_SET_STRING, Some(c"source"), Some(&src))?;
    for o in options {
        match o.split_once('=') {
            Some((k, v)) => config(libc::FSCONFIG_SET_STRING, Some(&cstr(k)?), Some(&cstr(v)?))?,
            None => config(libc::FSCONFIG_SET_FLAG, Some(&cstr(o)?), None)?,
        };
    }
    config(libc::FSCONFIG_CMD_CREATE, None, None)?;
    // SAFETY: fs is a created fs context (fsmount(2)).
    let m = check_long(unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            fs.as_raw_fd(),
            libc::FSMOUNT_CLOEXEC,
            mount_attrs(flags),
        )
    })?;
    // SAFETY: fsmount just returned this descriptor, which nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(m as RawFd) })
}

/// move_mount(2): attach the detached mount `tree` onto the file `target` refers to.
pub fn attach_mount(tree: &OwnedFd, target: &OwnedFd) -> io::Result<()> {
    let empty = c"";
    // SAFETY: both are open fds and both paths empty with the *_EMPTY_PATH flags (move_mount(2)).
    check_long(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            empty.as_ptr(),
            target.as_raw_fd(),
            empty.as_ptr(),
            libc::MOVE_MOUNT_F_EMPTY_PATH | libc::MOVE_MOUNT_T_EMPTY_PATH,
        )
    })
    .map(drop)
}

/// Mark every descriptor from 3 up close-on-exec, so that only stdin, stdout and stderr
/// reach the container's command whatever the caller left open (close_range(2), 5.11);
/// on older kernels, each fd listed in /proc/self/fd.
pub fn cloexec_from_3() -> io::Result<()> {
    // SAFETY: close_range only changes descriptor flags (close_range(2)).
    let r = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if r == 0 {
        return Ok(());
    }
    let fds: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd| fd > 2)
        .collect();
    for fd in fds {
        // SAFETY: F_SETFD only changes a descriptor flag; a closed fd gives EBADF (fcntl(2)).
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(())
}

/// chroot(2).
pub fn chroot(path: &Path) -> io::Result<()> {
    let p = cstr(path)?;
    // SAFETY: p is a valid C string (chroot(2)).
    check(unsafe { libc::chroot(p.as_ptr()) }).map(drop)
}

/// Which namespaces a clone creates, and whether the child starts in a cgroup.
pub struct CloneArgs {
    pub flags: u64,
    /// A cgroup v2 directory fd for CLONE_INTO_CGROUP (clone3 only).
    pub cgroup: Option<RawFd>,
}

pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

#[repr(C)]
#[derive(Default)]
struct Clone3Args {
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
fn threads() -> io::Result<u64> {
    let p = c"/proc/self/task";
    // SAFETY: stat is plain data, filled by stat(2); p is a valid C string.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: see above (stat(2)).
    check(unsafe { libc::stat(p.as_ptr(), &mut st) })?;
    Ok((st.st_nlink as u64).saturating_sub(2))
}

fn raw_clone(flags: u64, cgroup: Option<RawFd>) -> io::Result<pid_t> {
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

/// Undo the one disposition Rust's runtime changes at start-up: SIGPIPE is ignored in
/// Rust programs, and an ignored signal stays ignored across execve (signal(7)), so the
/// container's programs would never die of a broken pipe. Handlers need no reset: execve
/// resets every caught signal to its default.
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
fn poll(fds: &[RawFd], timeout_ms: libc::c_int) -> io::Result<Vec<bool>> {
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

/// A new pseudo-terminal from the devpts instance whose `ptmx` is `ptmx` (an fd opened
/// O_PATH inside the container): (master, slave). The slave comes from TIOCGPTPEER, so it
/// is the peer of this master on this instance, reached through no path the image controls.
pub fn open_pty_at(ptmx: &OwnedFd) -> io::Result<(OwnedFd, OwnedFd)> {
    let path = cstr(&format!("/proc/self/fd/{}", ptmx.as_raw_fd()))?;
    // SAFETY: path is a valid C string (open(2)); reopening an O_PATH fd through its
    // /proc/self/fd entry opens the very same inode.
    let m = check(unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: open just returned this descriptor, which nothing else owns.
    let master = unsafe { OwnedFd::from_raw_fd(m) };
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads an int (pty(7), ioctl_tty(2)).
    check(unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) })?;
    // SAFETY: TIOCGPTPEER takes open flags and returns a new fd (ioctl_tty(2), Linux 4.13).
    let s = check(unsafe {
        libc::ioctl(
            master.as_raw_fd(),
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: the ioctl just returned this descriptor, which nothing else owns.
    Ok((master, unsafe { OwnedFd::from_raw_fd(s) }))
}

/// A connected pair of Unix stream sockets, for passing a descriptor (socketpair(2)).
pub fn socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors socketpair(2) writes.
    check(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    // SAFETY: socketpair just returned these two descriptors, which nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Send descriptor `fd` over the Unix socket `sock` (SCM_RIGHTS, unix(7)), with one byte.
pub fn send_fd(sock: &OwnedFd, fd: &OwnedFd) -> io::Result<()> {
    let mut byte = [b'f'];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
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
    // SAFETY: msg_control points at a buffer of CMSG_SPACE(sizeof fd) bytes, so the first
    // header and its data fit (cmsg(3)).
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<RawFd>(), fd.as_raw_fd());
    }
    // SAFETY: msg describes valid buffers (sendmsg(2)).
    let n = unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Receive one descriptor sent with `send_fd`; None when the other end closed first.
pub fn recv_fd(sock: &OwnedFd) -> io::Result<Option<OwnedFd>> {
    let mut byte = [0u8];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
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
    let n = loop {
        // SAFETY: msg describes valid buffers (recvmsg(2)); CMSG_CLOEXEC sets the flag on
        // the received fd.
        let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n >= 0 {
            break n;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    };
    if n == 0 {
        return Ok(None);
    }
    // SAFETY: the kernel filled msg_control; CMSG_FIRSTHDR returns NULL when it is empty.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        if c.is_null() || (*c).cmsg_level != libc::SOL_SOCKET || (*c).cmsg_type != libc::SCM_RIGHTS
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "no descriptor in the message",
            ));
        }
        let fd = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<RawFd>());
        Ok(Some(OwnedFd::from_raw_fd(fd)))
    }
}

/// The terminal's end-of-file character (VEOF, usually Ctrl-D) of terminal `fd`.
pub fn eof_char(fd: RawFd) -> u8 {
    tcgetattr(fd).map_or(4, |t| t.c_cc[libc::VEOF])
}

pub fn isatty(fd: RawFd) -> bool {
    // SAFETY: isatty only queries the descriptor (isatty(3)).
    unsafe { libc::isatty(fd) == 1 }
}

pub type Termios = libc::termios;

pub fn tcgetattr(fd: RawFd) -> io::Result<Termios> {
    // SAFETY: termios is plain data filled by tcgetattr(3).
    let mut t: Termios = unsafe { std::mem::zeroed() };
    // SAFETY: t is a valid out-pointer (tcgetattr(3)).
    check(unsafe { libc::tcgetattr(fd, &mut t) })?;
    Ok(t)
}

pub fn tcsetattr(fd: RawFd, t: &Termios) -> io::Result<()> {
    // SAFETY: t is a valid termios (tcsetattr(3)).
    check(unsafe { libc::tcsetattr(fd, libc::TCSANOW, t) }).map(drop)
}

pub fn make_raw(t: &mut Termios) {
    // SAFETY: cfmakeraw only edits the struct (termios(3)).
    unsafe { libc::cfmakeraw(t) }
}

/// Copy the window size of terminal `from` to terminal `to` (TIOCGWINSZ/TIOCSWINSZ).
pub fn copy_winsize(from: RawFd, to: RawFd) -> io::Result<()> {
    // SAFETY: winsize is plain data.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ fills a winsize (ioctl_tty(2)).
    check(unsafe { libc::ioctl(from, libc::TIOCGWINSZ, &mut ws) })?;
    // SAFETY: TIOCSWINSZ reads a winsize (ioctl_tty(2)).
    check(unsafe { libc::ioctl(to, libc::TIOCSWINSZ, &ws) }).map(drop)
}

/// Bring a network interface up (SIOCSIFFLAGS with IFF_UP, netdevice(7)).
pub fn interface_up(name: &str) -> io::Result<()> {
    // SAFETY: socket() takes no pointers (socket(2)).
    let sock =
        check(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: the socket was just created and is owned here.
    let sock = unsafe { OwnedFd::from_raw_fd(sock) };
    // SAFETY: ifreq is plain data.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    let bytes = name.as_bytes();
    if bytes.len() >= req.ifr_name.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "interface name too long",
        ));
    }
    for (d, s) in req.ifr_name.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS fills ifr_flags of a valid ifreq (netdevice(7)).
    check(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) })?;
    // SAFETY: reading and writing the flags member of the union SIOCGIFFLAGS just filled.
    unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: SIOCSIFFLAGS reads a valid ifreq (netdevice(7)).
    check(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) }).map(drop)
}

/// Number of CPUs this process may run on (sched_getaffinity(2)). One system call; std's
/// available_parallelism also reads cgroup files, which a start-up need not pay for.
pub fn online_cpus() -> usize {
    // SAFETY: cpu_set_t is plain data, filled by the kernel.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: set is a valid cpu_set_t of the size passed (sched_getaffinity(2)).
    let r = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if r == -1 {
        return 1;
    }
    // SAFETY: CPU_COUNT only reads the set.
    (unsafe { libc::CPU_COUNT(&set) } as usize).max(1)
}

/// Total RAM in bytes (sysinfo(2)): no /proc/meminfo text to read and parse.
pub fn total_memory() -> u64 {
    // SAFETY: sysinfo is plain data, filled by the kernel.
    let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
    // SAFETY: info is a valid out-pointer (sysinfo(2)).
    if unsafe { libc::sysinfo(&mut info) } == -1 {
        return 0;
    }
    info.totalram as u64 * info.mem_unit as u64
}

/// keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL): a new anonymous session keyring for this
/// process, as runc gives each container, so it inherits none of its parent's keys.
pub fn join_new_session_keyring() -> io::Result<()> {
    // SAFETY: a NULL name asks for a new anonymous keyring; the other arguments are
    // unused (keyctl(2), KEYCTL_JOIN_SESSION_KEYRING).
    check_long(unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
            0,
            0,
            0,
        )
    })
    .map(drop)
}

/// prctl(PR_GET_SECCOMP): this thread's seccomp mode (0 none, 2 filter); EINVAL when
/// the kernel has no seccomp at all.
pub fn seccomp_mode() -> io::Result<i32> {
    // SAFETY: PR_GET_SECCOMP takes no further arguments (prctl(2)).
    check(unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) })
}

/// One eBPF instruction, `struct bpf_insn` of linux/bpf.h: the register nibbles are
/// packed as `src << 4 | dst`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpfInsn {
    pub code: u8,
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

/// The leading members of `union bpf_attr` for BPF_PROG_LOAD (linux/bpf.h); the kernel
/// treats the members after `size` as zero.
#[repr(C)]
struct BpfProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
}

/// The members of `union bpf_attr` for BPF_PROG_ATTACH (linux/bpf.h).
#[repr(C)]
struct BpfProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

/// bpf(BPF_PROG_LOAD) of a BPF_PROG_TYPE_CGROUP_DEVICE program; the kernel verifies it.
pub fn load_device_program(insns: &[BpfInsn]) -> io::Result<OwnedFd> {
    let license = c"GPL";
    let attr = BpfProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: 0,
        log_size: 0,
        log_buf: 0,
        kern_version: 0,
        prog_flags: 0,
    };
    // SAFETY: attr is a valid prefix of bpf_attr for BPF_PROG_LOAD, its pointers live
    // across the call, and size is its own (bpf(2)).
    let fd = check_long(unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_PROG_LOAD,
            &attr as *const BpfProgLoadAttr,
            std::mem::size_of::<BpfProgLoadAttr>() as libc::c_uint,
        )
    })?;
    // SAFETY: a successful BPF_PROG_LOAD returns a new fd that we own (bpf(2)).
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// bpf(BPF_PROG_ATTACH) of a device program to the cgroup directory `cgroup`, allowing
/// others beside it (BPF_F_ALLOW_MULTI, as systemd attaches its own): a device must pass
/// every program from the cgroup up to the root.
pub fn attach_device_program(cgroup: &OwnedFd, prog: &OwnedFd) -> io::Result<()> {
    let attr = BpfProgAttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        replace_bpf_fd: 0,
    };
    // SAFETY: attr is a valid prefix of bpf_attr for BPF_PROG_ATTACH with open fds
    // (bpf(2)).
    check_long(unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_PROG_ATTACH,
            &attr as *const BpfProgAttachAttr,
            std::mem::size_of::<BpfProgAttachAttr>() as libc::c_uint,
        )
    })
    .map(drop)
}
