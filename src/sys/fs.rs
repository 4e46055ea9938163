//! Mounts and paths: mount(2) and pivot_root, paths resolved inside a root
//! (openat2 RESOLVE_IN_ROOT), the new mount API, and descriptors above stderr.

use super::*;

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
    pub const SLAVE: u64 = libc::MS_SLAVE;
    pub const SHARED: u64 = libc::MS_SHARED;
    pub const UNBINDABLE: u64 = libc::MS_UNBINDABLE;
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

pub(crate) fn at_path(p: &OsStr) -> io::Result<CString> {
    cstr(p)
}

/// mkdirat(2): a directory `name` (one component) in the directory `dir`.
pub fn mkdirat(dir: &OwnedFd, name: &OsStr, mode: u32) -> io::Result<()> {
    let n = at_path(name)?;
    // SAFETY: dir is an open directory fd and n a valid C string (mkdirat(2)).
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), n.as_ptr(), mode as libc::mode_t) }).map(drop)
}

/// mknodat(2) of any node `name` in `dir`: `mode` holds its type (S_IFCHR, S_IFBLK,
/// S_IFIFO) and permission bits (the umask applies).
pub fn mknodat(dir: &OwnedFd, name: &OsStr, mode: u32, major: u32, minor: u32) -> io::Result<()> {
    let n = at_path(name)?;
    // SAFETY: dir is an open directory fd, n a valid C string; makedev packs two numbers
    // (mknodat(2)).
    check(unsafe {
        libc::mknodat(
            dir.as_raw_fd(),
            n.as_ptr(),
            mode as libc::mode_t,
            libc::makedev(major, minor),
        )
    })
    .map(drop)
}

/// fchownat(2) of `name` in `dir`, never following a symlink there.
pub fn fchownat_nofollow(dir: &OwnedFd, name: &OsStr, uid: u32, gid: u32) -> io::Result<()> {
    let n = at_path(name)?;
    // SAFETY: dir is an open directory fd and n a valid C string (fchownat(2)).
    check(unsafe {
        libc::fchownat(
            dir.as_raw_fd(),
            n.as_ptr(),
            uid,
            gid,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
    .map(drop)
}

/// umask(2): set the file mode creation mask, returning the old one.
pub fn umask(mask: u32) -> u32 {
    // SAFETY: umask only swaps a process attribute and cannot fail (umask(2)).
    unsafe { libc::umask(mask as libc::mode_t) as u32 }
}

/// The /proc/self/fd path of `fd`: mount(2) onto it mounts onto the file the fd holds
/// (the kernel follows the magic link to that very file; no path is looked up again).
pub fn fd_path(fd: &OwnedFd) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
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
pub(crate) fn mount_attrs(flags: u64) -> u64 {
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
