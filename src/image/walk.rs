//! The walk of a root directory by descriptors, handing each entry to a `Sink` (the tar
//! writer, the directory copier) in a fixed order: a directory, its entries sorted by
//! name, then the end of that directory.
//!
//! Every entry is reached from the descriptor of the directory that listed it, by one
//! component: statx without following, then openat with O_NOFOLLOW (O_DIRECTORY for a
//! directory, O_PATH for a file, reopened to read only once it is known to be a regular
//! file), readlinkat for a link. So a hostile image, or a running container that
//! swaps a directory for a symlink between the stat and the open, can make the walk see a
//! link (kept as a link) or an open that fails (the entry, changed under the walk, is left
//! out), never a file outside the root. What was opened is checked again on its own
//! descriptor, and that descriptor's answer is the one the sink gets.
//!
//! The walk stays on the root's mount: a directory on another mount (the container's
//! /proc, /dev, /sys, a volume) is handed on as an empty directory, a regular file on
//! another mount (a bind-mounted file) as an empty file; neither is read. The walk is a
//! loop, not a recursion, so a deep tree costs a descriptor per level (at most
//! `MAX_DEPTH`), never the stack.

use crate::error::Failure;
use crate::sys::{self, Stat};
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// Directories deeper than this are refused: each open level holds a descriptor, and so
/// does each level commit is writing, under a common limit of 1024 open files. No image
/// has reason to come near (PATH_MAX is 4096 bytes).
pub const MAX_DEPTH: usize = 256;

/// Where the walk's entries go. `path` is relative to the root, without a leading `./`
/// (the root itself is the empty path); `st` is what the entry's own descriptor said.
pub trait Sink {
    /// A directory, before its entries.
    fn enter_dir(&mut self, path: &Path, st: &Stat) -> Result<()>;
    /// The same directory, after its entries.
    fn leave_dir(&mut self, path: &Path, st: &Stat) -> Result<()>;
    /// A regular file: `content` opened read-only, `st.size` bytes long when it was
    /// opened (a running container may change it meanwhile); None for a file on
    /// another mount, which is handed on empty.
    fn file(&mut self, path: &Path, st: &Stat, content: Option<File>) -> Result<()>;
    /// A symlink and its target, as bytes, never followed.
    fn symlink(&mut self, path: &Path, st: &Stat, target: &[u8]) -> Result<()>;
    /// A second name of a file or node already handed on as `first`.
    fn hard_link(&mut self, path: &Path, st: &Stat, first: &Path) -> Result<()>;
    /// A character or block device, or a fifo (`st.mode` says which): no content.
    fn node(&mut self, path: &Path, st: &Stat) -> Result<()>;
}

/// What the walk left out, for the caller to mention.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Skipped {
    /// Unix sockets: a socket is a live endpoint of a process, no file.
    pub sockets: u64,
    /// Entries that changed between their listing and their opening (a running
    /// container's), or that are the walk's own output.
    pub changed: u64,
}

struct Level {
    fd: OwnedFd,
    path: PathBuf,
    stat: Stat,
    names: std::vec::IntoIter<OsString>,
}

/// Walk the directory `root` (an O_PATH descriptor is enough) into `sink`. Entries whose
/// (device, inode) is in `skip` are left out (the archive or directory being written, if
/// it is inside the root).
pub fn walk(root: &OwnedFd, skip: &[(u64, u64)], sink: &mut dyn Sink) -> Result<Skipped> {
    let root_st = sys::statx_at(root, OsStr::new("")).context("stat the root")?;
    if root_st.kind() != libc::S_IFDIR {
        return Err(Failure::Host.with("the root to walk is not a directory"));
    }
    let other_mount = |st: &Stat| match (root_st.mnt_id, st.mnt_id) {
        (Some(a), Some(b)) => a != b,
        // Without mount ids (before 5.8): a directory on another device. A non-directory
        // on overlayfs reports its layer's device, so only directories are told apart.
        _ => st.kind() == libc::S_IFDIR && st.dev != root_st.dev,
    };
    let mut skipped = Skipped::default();
    let mut first_names: HashMap<(u64, u64), PathBuf> = HashMap::new();
    sink.enter_dir(Path::new(""), &root_st)?;
    let root_fd = root.try_clone().context("dup the root's descriptor")?;
    let mut stack = vec![Level {
        names: names_of(&root_fd, Path::new(""))?,
        fd: root_fd,
        path: PathBuf::new(),
        stat: root_st,
    }];
    while let Some(top) = stack.last_mut() {
        let Some(name) = top.names.next() else {
            let done = stack.pop().expect("a level");
            sink.leave_dir(&done.path, &done.stat)?;
            continue;
        };
        let path = top.path.join(&name);
        let st = match sys::statx_at(&top.fd, &name) {
            Ok(st) => st,
            // Removed since the directory was listed.
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                skipped.changed += 1;
                continue;
            }
            Err(e) => return Err(e).with_context(|| format!("stat {}", show(&path))),
        };
        if skip.contains(&(st.dev, st.ino)) {
            skipped.changed += 1;
            continue;
        }
        let kind = st.kind();
        if kind != libc::S_IFDIR
            && st.nlink > 1
            && let Some(first) = first_names.get(&(st.dev, st.ino))
        {
            sink.hard_link(&path, &st, first)?;
            continue;
        }
        match kind {
            libc::S_IFDIR => {
                if other_mount(&st) {
                    sink.enter_dir(&path, &st)?;
                    sink.leave_dir(&path, &st)?;
                    continue;
                }
                let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW;
                let Some(fd) = open_changed_ok(&top.fd, &name, flags, &path)? else {
                    skipped.changed += 1;
                    continue;
                };
                let now = sys::statx_at(&fd, OsStr::new(""))
                    .with_context(|| format!("stat {}", show(&path)))?;
                if other_mount(&now) {
                    // A mount appeared on it between the stat and the open.
                    sink.enter_dir(&path, &now)?;
                    sink.leave_dir(&path, &now)?;
                    continue;
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(Failure::Usage.with(format!(
                        "{}: directories nested deeper than {MAX_DEPTH} levels: refusing to walk on",
                        show(&path)
                    )));
                }
                sink.enter_dir(&path, &now)?;
                stack.push(Level {
                    names: names_of(&fd, &path)?,
                    fd,
                    path,
                    stat: now,
                });
            }
            libc::S_IFREG => {
                if other_mount(&st) {
                    sink.file(&path, &Stat { size: 0, ..st }, None)?;
                    continue;
                }
                // O_PATH first: should a device or a fifo have been swapped in, it is not
                // opened (a device's open can act: rewind a tape, hang up a line); only
                // a regular file is, through its descriptor, so it is this very inode.
                let flags = libc::O_PATH | libc::O_NOFOLLOW;
                let Some(fd) = open_changed_ok(&top.fd, &name, flags, &path)? else {
                    skipped.changed += 1;
                    continue;
                };
                let now = sys::statx_at(&fd, OsStr::new(""))
                    .with_context(|| format!("stat {}", show(&path)))?;
                if now.kind() != libc::S_IFREG {
                    skipped.changed += 1;
                    continue;
                }
                if other_mount(&now) {
                    sink.file(&path, &Stat { size: 0, ..now }, None)?;
                } else {
                    let content =
                        reopen_to_read(&fd).with_context(|| format!("open {}", show(&path)))?;
                    sink.file(&path, &now, Some(content))?;
                }
                if now.nlink > 1 {
                    first_names.insert((now.dev, now.ino), path);
                }
            }
            libc::S_IFLNK => match sys::readlinkat(&top.fd, &name) {
                Ok(target) => sink.symlink(&path, &st, &target)?,
                // No longer a link (EINVAL), or gone.
                Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOENT)) => {
                    skipped.changed += 1;
                }
                Err(e) => return Err(e).with_context(|| format!("readlink {}", show(&path))),
            },
            libc::S_IFCHR | libc::S_IFBLK | libc::S_IFIFO => {
                sink.node(&path, &st)?;
                if st.nlink > 1 {
                    first_names.insert((st.dev, st.ino), path);
                }
            }
            _ => skipped.sockets += 1,
        }
    }
    Ok(skipped)
}

/// The names in a directory, sorted (bytewise), so that one tree always walks the same.
fn names_of(fd: &OwnedFd, path: &Path) -> Result<std::vec::IntoIter<OsString>> {
    let mut names = sys::dir_names(fd).with_context(|| format!("read directory {}", show(path)))?;
    names.sort();
    Ok(names.into_iter())
}

/// openat of one entry; None when it changed since its stat (a link now: ELOOP, not a
/// directory now: ENOTDIR, gone: ENOENT, a device or fifo now: ENXIO).
fn open_changed_ok(
    dir: &OwnedFd,
    name: &OsStr,
    flags: libc::c_int,
    path: &Path,
) -> Result<Option<OwnedFd>> {
    match sys::openat_mode(dir, name, flags, 0) {
        Ok(fd) => Ok(Some(fd)),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::ELOOP | libc::ENOTDIR | libc::ENOENT | libc::ENXIO)
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e).with_context(|| format!("open {}", show(path))),
    }
}

/// The regular file an O_PATH descriptor holds, opened to read through /proc/self/fd
/// (the magic link is that inode itself, no path is looked up again), without updating
/// its access time where gocker may say so.
fn reopen_to_read(fd: &OwnedFd) -> std::io::Result<File> {
    let path = sys::fd_path(fd);
    let flags = libc::O_RDONLY | libc::O_NOCTTY | libc::O_NONBLOCK;
    match sys::open(&path, flags | libc::O_NOATIME) {
        Ok(f) => Ok(File::from(f)),
        // O_NOATIME needs the file's owner or CAP_FOWNER.
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => sys::open(&path, flags).map(File::from),
        Err(e) => Err(e),
    }
}

/// A path inside the root as the user reads it: `/etc/passwd`; a hostile tree's deep
/// path by its last 200 characters, so that a message stays one readable line.
pub fn show(path: &Path) -> String {
    let s = path.display().to_string();
    let chars = s.chars().count();
    if chars <= 240 {
        return format!("/{s}");
    }
    let tail: String = s.chars().skip(chars - 200).collect();
    format!("/...{tail}")
}
