//! The directory sink of the walk (`gocker commit`): the tree rebuilt under a directory
//! DIR, every entry made relative to the descriptor of a directory this sink has just
//! made itself (mkdirat, openat O_CREAT|O_EXCL|O_NOFOLLOW, symlinkat, mknodat, linkat),
//! then given its owner, its mode (after the owner: chown clears setuid bits) and its
//! times. A directory gets its own mode and times only once its entries are made.
//!
//! Every directory is 0700 and root's until it is finished, and DIR itself stays 0700
//! and root's: DIR holds the image's setuid files and device nodes, and no user of the
//! host may reach them through it (a container run on DIR sees its root as root's 0700,
//! which root inside passes). Nobody but root can enter DIR while it is written, so no
//! entry is swapped under this sink either.

use super::walk::Sink;
use crate::sys::{self, Stat};
use anyhow::{Context, Result};
use std::ffi::OsStr;
use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

pub struct DirSink {
    /// DIR, the root of the copy.
    root: OwnedFd,
    /// Where DIR is, for messages.
    shown: PathBuf,
    /// The directories being written, the innermost last (DIR first).
    open: Vec<OwnedFd>,
}

impl DirSink {
    /// A sink writing under `root`, an empty directory gocker owns, opened O_DIRECTORY.
    pub fn new(root: OwnedFd, shown: &Path) -> DirSink {
        DirSink {
            root,
            shown: shown.to_path_buf(),
            open: Vec::new(),
        }
    }

    fn at(&self, path: &Path) -> String {
        self.shown.join(path).display().to_string()
    }

    /// The directory being written and the entry's name in it.
    fn parent<'a>(&self, path: &'a Path) -> Result<(&OwnedFd, &'a OsStr)> {
        let dir = self.open.last().context("an entry outside any directory")?;
        let name = path.file_name().context("an entry without a name")?;
        Ok((dir, name))
    }

    /// Owner, then mode, then times of the entry `name` (empty: `fd` itself) in `fd`.
    fn finish_at(&self, fd: &OwnedFd, name: &OsStr, st: &Stat, path: &Path) -> Result<()> {
        sys::chown_at(fd, name, st.uid, st.gid)
            .with_context(|| format!("chown {}", self.at(path)))?;
        let mode = st.mode & 0o7777;
        if name.is_empty() {
            sys::fchmod(fd, mode)
        } else {
            sys::chmod_at(fd, name, mode)
        }
        .with_context(|| format!("chmod {}", self.at(path)))?;
        sys::set_times_at(fd, name, st.atime, st.mtime)
            .with_context(|| format!("set the times of {}", self.at(path)))
    }
}

impl Sink for DirSink {
    fn enter_dir(&mut self, path: &Path, _st: &Stat) -> Result<()> {
        if path.as_os_str().is_empty() {
            let fd = self.root.try_clone().context("dup DIR's descriptor")?;
            self.open.push(fd);
            return Ok(());
        }
        let (dir, name) = self.parent(path)?;
        sys::mkdirat(dir, name, 0o700).with_context(|| format!("mkdir {}", self.at(path)))?;
        let fd = sys::openat_mode(
            dir,
            name,
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
            0,
        )
        .with_context(|| format!("open {}", self.at(path)))?;
        self.open.push(fd);
        Ok(())
    }

    fn leave_dir(&mut self, path: &Path, st: &Stat) -> Result<()> {
        let fd = self.open.pop().context("a directory left twice")?;
        if path.as_os_str().is_empty() {
            // DIR keeps root's 0700 (see the module's header), and the root's times.
            return sys::set_times_at(&fd, OsStr::new(""), st.atime, st.mtime)
                .with_context(|| format!("set the times of {}", self.shown.display()));
        }
        self.finish_at(&fd, OsStr::new(""), st, path)
    }

    fn file(&mut self, path: &Path, st: &Stat, content: Option<File>) -> Result<()> {
        let (dir, name) = self.parent(path)?;
        let fd = sys::openat_mode(
            dir,
            name,
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW,
            0o600,
        )
        .with_context(|| format!("create {}", self.at(path)))?;
        let mut out = File::from(fd);
        if let Some(f) = content {
            // At most the size it had when opened: a file a running container keeps
            // growing must not keep the copy going.
            std::io::copy(&mut f.take(st.size), &mut out)
                .with_context(|| format!("copy into {}", self.at(path)))?;
        }
        let fd = OwnedFd::from(out);
        self.finish_at(&fd, OsStr::new(""), st, path)
    }

    fn symlink(&mut self, path: &Path, st: &Stat, target: &[u8]) -> Result<()> {
        let (dir, name) = self.parent(path)?;
        sys::symlinkat_bytes(target, dir, name)
            .with_context(|| format!("symlink {}", self.at(path)))?;
        sys::chown_at(dir, name, st.uid, st.gid)
            .with_context(|| format!("chown {}", self.at(path)))?;
        sys::set_times_at(dir, name, st.atime, st.mtime)
            .with_context(|| format!("set the times of {}", self.at(path)))
    }

    fn hard_link(&mut self, path: &Path, _st: &Stat, first: &Path) -> Result<()> {
        let (dir, name) = self.parent(path)?;
        let first_name = first.file_name().context("a hard link to no name")?;
        let first_dir = match first.parent() {
            Some(p) if !p.as_os_str().is_empty() => {
                // Made by this sink, under DIR: no symlink may be on the way.
                sys::open_in_root(&self.root, p, libc::O_PATH | libc::O_DIRECTORY, 0, true)
                    .with_context(|| format!("open {}", self.at(p)))?
            }
            _ => self.root.try_clone().context("dup DIR's descriptor")?,
        };
        sys::linkat(&first_dir, first_name, dir, name)
            .with_context(|| format!("link {} to {}", self.at(path), self.at(first)))
    }

    fn node(&mut self, path: &Path, st: &Stat) -> Result<()> {
        let (dir, name) = self.parent(path)?;
        sys::mknodat(dir, name, st.kind() | 0o600, st.rdev_major, st.rdev_minor)
            .with_context(|| format!("mknod {}", self.at(path)))?;
        self.finish_at(dir, name, st, path)
    }
}
