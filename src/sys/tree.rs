//! A tree by descriptors, for `gocker export` and `gocker commit`: each entry reached
//! relative to the descriptor of its directory, one component at a time, never by a path
//! string, so that a symlink swapped in mid-walk is read as a link and never followed;
//! and a detached overlay mount (the new mount API) that is in no mount namespace at all.

use super::*;
use std::ffi::OsString;

/// What statx(2) tells about one entry, the entry itself (a symlink is not followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// Type (`S_IFMT`) and permission bits, setuid, setgid and sticky included.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub nlink: u32,
    pub dev: u64,
    pub ino: u64,
    pub rdev_major: u32,
    pub rdev_minor: u32,
    /// Seconds and nanoseconds since the epoch.
    pub atime: (i64, u32),
    pub mtime: (i64, u32),
    /// The id of the mount the entry is on (None before Linux 5.8).
    pub mnt_id: Option<u64>,
}

impl Stat {
    pub fn kind(&self) -> u32 {
        self.mode & libc::S_IFMT
    }
}

fn name_or_empty(name: &OsStr) -> io::Result<(CString, libc::c_int)> {
    let flags = if name.is_empty() {
        libc::AT_EMPTY_PATH
    } else {
        0
    };
    Ok((cstr(name)?, flags))
}

/// statx(2) of `name` in `dir` without following a symlink; an empty `name` is `dir`.
pub fn statx_at(dir: &OwnedFd, name: &OsStr) -> io::Result<Stat> {
    let (n, empty) = name_or_empty(name)?;
    // SAFETY: statx is plain data, filled by the kernel.
    let mut st: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: dir is open, n a valid C string, st a valid out-pointer (statx(2)).
    check(unsafe {
        libc::statx(
            dir.as_raw_fd(),
            n.as_ptr(),
            empty | libc::AT_SYMLINK_NOFOLLOW | libc::AT_NO_AUTOMOUNT,
            libc::STATX_BASIC_STATS | libc::STATX_MNT_ID,
            &mut st,
        )
    })?;
    Ok(Stat {
        mode: st.stx_mode as u32,
        uid: st.stx_uid,
        gid: st.stx_gid,
        size: st.stx_size,
        nlink: st.stx_nlink,
        dev: libc::makedev(st.stx_dev_major, st.stx_dev_minor),
        ino: st.stx_ino,
        rdev_major: st.stx_rdev_major,
        rdev_minor: st.stx_rdev_minor,
        atime: (st.stx_atime.tv_sec, st.stx_atime.tv_nsec),
        mtime: (st.stx_mtime.tv_sec, st.stx_mtime.tv_nsec),
        mnt_id: (st.stx_mask & libc::STATX_MNT_ID != 0).then_some(st.stx_mnt_id),
    })
}

/// openat(2) of one entry `name` of `dir`, with `mode` for O_CREAT (the umask applies).
pub fn openat_mode(
    dir: &OwnedFd,
    name: &OsStr,
    flags: libc::c_int,
    mode: u32,
) -> io::Result<OwnedFd> {
    let n = cstr(name)?;
    // SAFETY: dir is an open directory fd and n a valid C string (openat(2)).
    let fd = check(unsafe {
        libc::openat(
            dir.as_raw_fd(),
            n.as_ptr(),
            flags | libc::O_CLOEXEC,
            mode as libc::c_uint,
        )
    })?;
    // SAFETY: openat just returned this descriptor, which nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// readlinkat(2): the target of the symlink `name` in `dir`, as bytes (EINVAL: not a link).
pub fn readlinkat(dir: &OwnedFd, name: &OsStr) -> io::Result<Vec<u8>> {
    let n = cstr(name)?;
    let mut buf = vec![0u8; 256];
    loop {
        // SAFETY: buf is valid for writes of buf.len() bytes (readlinkat(2)).
        let r = check_long(unsafe {
            libc::readlinkat(
                dir.as_raw_fd(),
                n.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            ) as libc::c_long
        })? as usize;
        // A full buffer may be a cut target: try again with room to spare.
        if r < buf.len() {
            buf.truncate(r);
            return Ok(buf);
        }
        if buf.len() >= 1 << 16 {
            return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
        }
        buf.resize(buf.len() * 4, 0);
    }
}

/// The names in the directory `dir` (which may be an O_PATH fd), without `.` and `..`:
/// a fresh descriptor of it (its own read offset), read with fdopendir(3)/readdir(3).
pub fn dir_names(dir: &OwnedFd) -> io::Result<Vec<OsString>> {
    let own = openat_mode(dir, OsStr::new("."), libc::O_RDONLY | libc::O_DIRECTORY, 0)?;
    let raw = std::os::fd::IntoRawFd::into_raw_fd(own);
    // SAFETY: raw is an open directory fd that fdopendir takes over (fdopendir(3)).
    let d = unsafe { libc::fdopendir(raw) };
    if d.is_null() {
        let e = io::Error::last_os_error();
        // SAFETY: fdopendir failed, so raw is still ours to close (close(2)).
        unsafe { libc::close(raw) };
        return Err(e);
    }
    let mut names = Vec::new();
    let result = loop {
        // SAFETY: errno is this thread's; zero tells the end of the stream from an error.
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: d is an open DIR stream (readdir(3)).
        let ent = unsafe { libc::readdir(d) };
        if ent.is_null() {
            let e = io::Error::last_os_error();
            break if e.raw_os_error() == Some(0) {
                Ok(())
            } else {
                Err(e)
            };
        }
        // SAFETY: d_name of the entry readdir just returned is a NUL-terminated string,
        // valid until the next readdir on d.
        let name = unsafe { CStr::from_ptr((*ent).d_name.as_ptr()) }.to_bytes();
        if name != b"." && name != b".." {
            names.push(OsStr::from_bytes(name).to_os_string());
        }
    };
    // SAFETY: d is an open DIR stream, closed once here (closedir(3)).
    unsafe { libc::closedir(d) };
    result.map(|()| names)
}

/// linkat(2) without following: `new_name` in `new_dir` becomes a hard link to `old_name`
/// in `old_dir` (the link itself if that is a symlink).
pub fn linkat(
    old_dir: &OwnedFd,
    old_name: &OsStr,
    new_dir: &OwnedFd,
    new_name: &OsStr,
) -> io::Result<()> {
    let o = cstr(old_name)?;
    let n = cstr(new_name)?;
    // SAFETY: both fds are open directories and both names valid C strings (linkat(2)).
    check(unsafe {
        libc::linkat(
            old_dir.as_raw_fd(),
            o.as_ptr(),
            new_dir.as_raw_fd(),
            n.as_ptr(),
            0,
        )
    })
    .map(drop)
}

/// symlinkat(2) with a target of any bytes (a link's target need not be UTF-8).
pub fn symlinkat_bytes(target: &[u8], dir: &OwnedFd, name: &OsStr) -> io::Result<()> {
    let t = cstr(OsStr::from_bytes(target))?;
    let n = cstr(name)?;
    // SAFETY: both are valid C strings and dir an open directory fd (symlinkat(2)).
    check(unsafe { libc::symlinkat(t.as_ptr(), dir.as_raw_fd(), n.as_ptr()) }).map(drop)
}

/// fchownat(2) of `name` in `dir` (empty: `dir` itself) without following a symlink.
pub fn chown_at(dir: &OwnedFd, name: &OsStr, uid: u32, gid: u32) -> io::Result<()> {
    let (n, empty) = name_or_empty(name)?;
    // SAFETY: dir is open and n a valid C string (fchownat(2)).
    check(unsafe {
        libc::fchownat(
            dir.as_raw_fd(),
            n.as_ptr(),
            uid,
            gid,
            empty | libc::AT_SYMLINK_NOFOLLOW,
        )
    })
    .map(drop)
}

/// fchmod(2) of an open file or directory.
pub fn fchmod(fd: &OwnedFd, mode: u32) -> io::Result<()> {
    // SAFETY: fd is open (fchmod(2)).
    check(unsafe { libc::fchmod(fd.as_raw_fd(), mode as libc::mode_t) }).map(drop)
}

/// fchmodat(2) of `name` in `dir` without following a symlink (for nodes gocker just
/// made, which it cannot open without opening the device).
pub fn chmod_at(dir: &OwnedFd, name: &OsStr, mode: u32) -> io::Result<()> {
    let n = cstr(name)?;
    // SAFETY: dir is an open directory fd and n a valid C string (fchmodat(2); glibc
    // takes AT_SYMLINK_NOFOLLOW through fchmodat2 or an O_PATH descriptor).
    check(unsafe {
        libc::fchmodat(
            dir.as_raw_fd(),
            n.as_ptr(),
            mode as libc::mode_t,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
    .map(drop)
}

fn timespecs(atime: (i64, u32), mtime: (i64, u32)) -> [libc::timespec; 2] {
    [atime, mtime].map(|(s, ns)| libc::timespec {
        tv_sec: s as libc::time_t,
        tv_nsec: ns as libc::c_long,
    })
}

/// utimensat(2) of `name` in `dir` (empty: `dir` itself) without following a symlink.
pub fn set_times_at(
    dir: &OwnedFd,
    name: &OsStr,
    atime: (i64, u32),
    mtime: (i64, u32),
) -> io::Result<()> {
    let ts = timespecs(atime, mtime);
    if name.is_empty() {
        // SAFETY: dir is an open fd and ts two timespecs (futimens(3)).
        return check(unsafe { libc::futimens(dir.as_raw_fd(), ts.as_ptr()) }).map(drop);
    }
    let n = cstr(name)?;
    // SAFETY: dir is open, n a valid C string, ts two timespecs (utimensat(2)).
    check(unsafe {
        libc::utimensat(
            dir.as_raw_fd(),
            n.as_ptr(),
            ts.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
    .map(drop)
}

// The new mount API's constants (linux/mount.h), as the kernel defines them.
const FSOPEN_CLOEXEC: libc::c_uint = 1;
const FSMOUNT_CLOEXEC: libc::c_uint = 1;
const FSCONFIG_SET_FLAG: libc::c_uint = 0;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;

/// fsopen(2): a filesystem context for `fstype`, to configure and create.
pub fn fsopen(fstype: &str) -> io::Result<OwnedFd> {
    let t = cstr(fstype)?;
    // SAFETY: t is a valid C string (fsopen(2)).
    let fd = check_long(unsafe { libc::syscall(libc::SYS_fsopen, t.as_ptr(), FSOPEN_CLOEXEC) })?;
    // SAFETY: fsopen just returned this descriptor, which nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// fsconfig(2) FSCONFIG_SET_STRING `key=value`, or FSCONFIG_SET_FLAG `key` when no value.
pub fn fsconfig(ctx: &OwnedFd, key: &str, value: Option<&OsStr>) -> io::Result<()> {
    let k = cstr(key)?;
    let v = value.map(cstr).transpose()?;
    let (cmd, vp) = match &v {
        Some(v) => (FSCONFIG_SET_STRING, v.as_ptr()),
        None => (FSCONFIG_SET_FLAG, std::ptr::null()),
    };
    // SAFETY: ctx is an fsopen fd, k (and v) valid C strings or NULL (fsconfig(2)).
    check_long(unsafe {
        libc::syscall(libc::SYS_fsconfig, ctx.as_raw_fd(), cmd, k.as_ptr(), vp, 0)
    })
    .map(drop)
}

/// fsconfig(2) FSCONFIG_CMD_CREATE: make the superblock the context describes.
pub fn fsconfig_create(ctx: &OwnedFd) -> io::Result<()> {
    let null: *const libc::c_char = std::ptr::null();
    // SAFETY: ctx is an fsopen fd; the create command takes no key nor value (fsconfig(2)).
    check_long(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            ctx.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            null,
            null,
            0,
        )
    })
    .map(drop)
}

/// fsmount(2): a detached mount of the context's superblock, as a descriptor of its root.
/// It is in no mount namespace, and goes away when the last descriptor of it closes.
pub fn fsmount(ctx: &OwnedFd, flags: u64) -> io::Result<OwnedFd> {
    // SAFETY: ctx is an fsopen fd whose superblock was created (fsmount(2)).
    let fd = check_long(unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            ctx.as_raw_fd(),
            FSMOUNT_CLOEXEC,
            mount_attrs(flags) as libc::c_uint,
        )
    })?;
    // SAFETY: fsmount just returned this descriptor, which nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}
