//! The new root, held as a directory fd: every path gocker makes or mounts onto inside the
//! container is resolved under it with openat2(RESOLVE_IN_ROOT), and every mount lands on
//! the fd that resolution returned, never on a path string.
//!
//! The rootfs is hostile: `proc -> /`, `dev -> ../../..` or `data -> /etc` in an image would
//! otherwise lead a mount or a mknod onto the host. Under RESOLVE_IN_ROOT an absolute symlink
//! restarts at the new root and `..` stops there, exactly as the container will see it after
//! pivot_root, so a symlink in an image still works as under Docker (a volume at `/data`
//! with `data -> srv/data` lands at `srv/data` of the rootfs) but never leaves it.

use crate::error::Failure;
use crate::mounts::{Mount, MountKind};
use crate::sys;
use anyhow::{Context, Result};
use std::ffi::OsString;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

pub struct NewRoot {
    fd: OwnedFd,
    /// (device, inode) of the root directory, to tell "this resolves to the root itself".
    ino: (u64, u64),
    /// The root mount's id (statx STATX_MNT_ID), for the check after pivot_root.
    mnt_id: Option<u64>,
    /// The host path, for messages.
    path: PathBuf,
}

/// The path relative to the root, without the leading `/` (openat2 takes it so).
fn rel(p: &Path) -> &Path {
    p.strip_prefix("/").unwrap_or(p)
}

fn is_enoent(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ENOENT)
}

impl NewRoot {
    /// Open the directory that is about to become `/` (after its own mount is on it).
    pub fn open(path: &Path) -> Result<NewRoot> {
        let fd = sys::open(path, libc::O_PATH | libc::O_DIRECTORY)
            .with_context(|| format!("open the new root {}", path.display()))?;
        let (dev, ino, _) = sys::fstat(&fd).with_context(|| format!("stat {}", path.display()))?;
        let (mnt_id, _, _) = sys::mount_id(Some(&fd), Path::new(""))
            .with_context(|| format!("statx {}", path.display()))?;
        Ok(NewRoot {
            fd,
            ino: (dev, ino),
            mnt_id,
            path: path.to_owned(),
        })
    }

    fn show(&self, p: &Path) -> String {
        format!("{}{}", self.path.display(), p.display())
    }

    fn is_root(&self, fd: &OwnedFd) -> io::Result<bool> {
        let (dev, ino, _) = sys::fstat(fd)?;
        Ok((dev, ino) == self.ino)
    }

    /// `p` resolved inside the root, as an O_PATH fd (plus `flags`).
    pub fn resolve(&self, p: &Path, flags: libc::c_int, no_symlinks: bool) -> io::Result<OwnedFd> {
        let r = rel(p);
        let r = if r.as_os_str().is_empty() {
            Path::new(".")
        } else {
            r
        };
        sys::open_in_root(&self.fd, r, libc::O_PATH | flags, 0, no_symlinks)
    }

    /// The directory `dir` inside the root, made (with its parents) where missing, each
    /// component resolved inside the root.
    fn make_dirs(&self, dir: &Path, no_symlinks: bool) -> Result<OwnedFd> {
        let mut at = PathBuf::from("/");
        let mut fd = self
            .resolve(&at, libc::O_DIRECTORY, no_symlinks)
            .with_context(|| format!("open {}", self.show(&at)))?;
        for c in dir.components() {
            let Component::Normal(name) = c else { continue };
            at.push(name);
            fd = match self.resolve(&at, libc::O_DIRECTORY, no_symlinks) {
                Err(e) if is_enoent(&e) => {
                    // mkdirat relative to the parent just resolved: a symlink named `name`
                    // makes it fail (EEXIST) rather than follow.
                    match sys::mkdirat(&fd, name, 0o755) {
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                        r => r.with_context(|| {
                            format!(
                                "create mount point {} (is the rootfs read-only? create it in the image)",
                                self.show(&at)
                            )
                        })?,
                    }
                    self.resolve(&at, libc::O_DIRECTORY, no_symlinks)
                }
                r => r,
            }
            .map_err(|e| self.refusal(&at, e))?;
        }
        Ok(fd)
    }

    /// The error for a path that cannot be resolved as asked: a symlink where none may be
    /// (ELOOP with RESOLVE_NO_SYMLINKS) is a refusal of the image, not an I/O failure.
    fn refusal(&self, at: &Path, e: io::Error) -> anyhow::Error {
        match e.raw_os_error() {
            Some(libc::ELOOP) => Failure::Host.with(format!(
                "{} in the rootfs is a symlink (or reached through one): it must be a real directory, as runc requires",
                at.display()
            )),
            Some(libc::ENOTDIR) => Failure::Host.with(format!(
                "{} in the rootfs is not a directory",
                at.display()
            )),
            _ => anyhow::Error::new(e).context(format!("open {}", self.show(at))),
        }
    }

    /// The directory `dir` and the last component of `p`, for making `p` itself.
    fn parent_of(&self, p: &Path, no_symlinks: bool) -> Result<(OwnedFd, OsString)> {
        let name = p
            .file_name()
            .ok_or_else(|| Failure::Usage.with(format!("{}: no file name", p.display())))?;
        let dir = self.make_dirs(p.parent().unwrap_or(Path::new("/")), no_symlinks)?;
        Ok((dir, name.to_owned()))
    }

    /// Whether the root brings its own /dev: a character device at `null_path`, reached
    /// through real directories only.
    pub fn has_char_device(&self, null_path: &Path) -> bool {
        self.resolve(null_path, 0, true)
            .and_then(|fd| sys::fstat(&fd))
            .is_ok_and(|(_, _, kind)| kind == libc::S_IFCHR)
    }

    /// One step of the mount table, inside this root.
    pub fn apply(&self, m: &Mount) -> Result<()> {
        match &m.kind {
            MountKind::Symlink { to } => {
                let (dir, name) = self.parent_of(&m.target, false)?;
                match sys::symlinkat(to, &dir, &name) {
                    Err(e) if m.optional && e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
                    r => r.with_context(|| {
                        format!("create symlink {} -> {to}", self.show(&m.target))
                    }),
                }
            }
            MountKind::Device { major, minor } => {
                // Device nodes go only into the /dev tmpfs gocker itself just mounted.
                let (dir, name) = self.parent_of(&m.target, true)?;
                sys::mknodat_char(&dir, &name, 0o666, *major, *minor)
                    .with_context(|| format!("mknod {} c {major} {minor}", self.show(&m.target)))
            }
            MountKind::Fs {
                fstype,
                source,
                data,
            } => {
                // A kernel filesystem goes onto a real directory of the image, never through
                // a symlink (runc refuses proc on a non-directory), and never onto `/`.
                let target = self.make_dirs(&m.target, true)?;
                self.refuse_root(&target, m)?;
                let options: Vec<&str> = data
                    .as_deref()
                    .map(|d| d.split(',').collect())
                    .unwrap_or_default();
                let tree = sys::new_fs(fstype, source, &options, m.flags)
                    .with_context(|| format!("mount {fstype} on {}", self.show(&m.target)))?;
                sys::attach_mount(&tree, &target)
                    .with_context(|| format!("mount {fstype} on {}", self.show(&m.target)))
            }
            MountKind::Bind { source, dir } => {
                let target = match self.resolve(&m.target, 0, false) {
                    Err(e) if is_enoent(&e) && m.optional => return Ok(()),
                    Err(e) if is_enoent(&e) => self.make_mountpoint(&m.target, *dir)?,
                    r => r.map_err(|e| self.refusal(&m.target, e))?,
                };
                self.refuse_root(&target, m)?;
                let what = || format!("bind {} on {}", source.display(), self.show(&m.target));
                let tree = sys::clone_tree(None, source, m.flags & sys::ms::REC != 0)
                    .with_context(what)?;
                self.set_flags(&tree, m).with_context(what)?;
                sys::attach_mount(&tree, &target).with_context(what)
            }
            MountKind::Rebind => {
                let target = match self.resolve(&m.target, 0, true) {
                    Err(e) if is_enoent(&e) && m.optional => return Ok(()),
                    r => r.map_err(|e| self.refusal(&m.target, e))?,
                };
                let what = || format!("remount {} read-only", self.show(&m.target));
                let tree =
                    sys::clone_tree(Some(&target), Path::new(""), true).with_context(what)?;
                self.set_flags(&tree, m).with_context(what)?;
                sys::attach_mount(&tree, &target).with_context(what)
            }
        }
    }

    /// Per-mount flags on a detached tree, on every mount in it (a `:ro` volume is
    /// read-only all the way down, which a remount of a bind never was).
    fn set_flags(&self, tree: &OwnedFd, m: &Mount) -> io::Result<()> {
        let per_mount =
            m.flags & (sys::ms::RDONLY | sys::ms::NOSUID | sys::ms::NODEV | sys::ms::NOEXEC);
        if per_mount == 0 {
            return Ok(());
        }
        sys::set_mount_flags_recursive(tree, per_mount)
    }

    fn refuse_root(&self, target: &OwnedFd, m: &Mount) -> Result<()> {
        if self.is_root(target).context("stat a mount point")? {
            return Err(Failure::Host.with(format!(
                "{} in the rootfs resolves to the container's root (a symlink to /?): refusing to mount {} over it",
                m.target.display(),
                m.why
            )));
        }
        Ok(())
    }

    /// A missing bind target, made inside the root: a directory, or an empty file.
    fn make_mountpoint(&self, p: &Path, dir: bool) -> Result<OwnedFd> {
        if dir {
            return self.make_dirs(p, false);
        }
        self.parent_of(p, false)?;
        // O_CREAT follows a dangling symlink to create its target, and RESOLVE_IN_ROOT keeps
        // that target inside the root, as the container would see the link.
        drop(
            sys::open_in_root(
                &self.fd,
                rel(p),
                libc::O_CREAT | libc::O_RDONLY,
                0o644,
                false,
            )
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ENOENT | libc::EROFS | libc::EACCES) => {
                    anyhow::Error::new(e).context(format!(
                        "create mount point {} (is the rootfs read-only? create it in the image)",
                        self.show(p)
                    ))
                }
                _ => self.refusal(p, e),
            })?,
        );
        self.resolve(p, 0, false).map_err(|e| self.refusal(p, e))
    }

    /// After pivot_root (or the move that replaces it): `/..` must be the container's
    /// root. Anything still stacked on `/` (the old root left by a detach that took off
    /// something else) would be reached through `/..`; refuse to exec then.
    pub fn verify_pivoted(&self) -> Result<()> {
        let (id, dev, ino) = sys::mount_id(None, Path::new("/..")).context("statx /..")?;
        let same = match (id, self.mnt_id) {
            (Some(a), Some(b)) => a == b && (dev, ino) == self.ino,
            _ => (dev, ino) == self.ino,
        };
        if !same {
            return Err(Failure::Host.with(
                "after pivot_root, /.. is not the container's root: a mount of the host is still reachable; refusing to start",
            ));
        }
        Ok(())
    }
}
