//! The new root, held as a directory fd: every path gocker makes or mounts onto inside the
//! container is resolved under it with openat2(RESOLVE_IN_ROOT), and every mount lands on
//! the fd that resolution returned, never on a path string.
//!
//! The rootfs is hostile: `proc -> /`, `dev -> ../../..` or `data -> /etc` in an image would
//! otherwise lead a mount or a mknod onto the host. Under RESOLVE_IN_ROOT an absolute symlink
//! restarts at the new root and `..` stops there, exactly as the container will see it after
//! pivot_root, so a symlink in an image still works as under Docker (a volume at `/data`
//! with `data -> srv/data` lands at `srv/data` of the rootfs) but never leaves it.
//!
//! The mount table becomes a plan of `Op`s (`plan`), carried out by an `Executor`:
//! `NewRoot` with the real calls, or the unit tests' recorder, which checks the plan's
//! order and arguments without root.

use crate::error::Failure;
use crate::mounts::{Mount, MountKind};
use crate::sys;
use anyhow::{Context, Result};
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

pub struct NewRoot {
    fd: OwnedFd,
    /// The directory the last device node or link was made in (see `in_parent_of`).
    parent: std::cell::RefCell<Option<(PathBuf, bool, OwnedFd)>>,
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
        let (mnt_id, dev, ino) = sys::mount_id(Some(&fd), Path::new(""))
            .with_context(|| format!("statx {}", path.display()))?;
        Ok(NewRoot {
            fd,
            parent: std::cell::RefCell::new(None),
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
        // Most directories exist: one lookup, and the walk below only when one is missing.
        match self.resolve(dir, libc::O_DIRECTORY, no_symlinks) {
            Err(e) if is_enoent(&e) => {}
            r => return r.map_err(|e| self.refusal(dir, e)),
        }
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

    /// `f` with the directory of `p` and its last component, for a run of entries made in
    /// one directory (the device nodes and links of /dev): the directory is resolved once,
    /// and its fd kept until a mount changes what lies under it.
    fn in_parent_of<T>(
        &self,
        p: &Path,
        no_symlinks: bool,
        f: impl FnOnce(&OwnedFd, &OsStr) -> T,
    ) -> Result<T> {
        let parent = p.parent().unwrap_or(Path::new("/"));
        let name = p
            .file_name()
            .ok_or_else(|| Failure::Usage.with(format!("{}: no file name", p.display())))?;
        let mut cache = self.parent.borrow_mut();
        match &*cache {
            Some((d, n, fd)) if d == parent && *n == no_symlinks => Ok(f(fd, name)),
            _ => {
                let (dir, _) = self.parent_of(p, no_symlinks)?;
                let out = f(&dir, name);
                *cache = Some((parent.to_owned(), no_symlinks, dir));
                Ok(out)
            }
        }
    }

    /// Whether the root brings its own /dev: a character device at `null_path`, reached
    /// through real directories only.
    pub fn has_char_device(&self, null_path: &Path) -> bool {
        self.resolve(null_path, 0, true)
            .and_then(|fd| sys::fstat(&fd))
            .is_ok_and(|(_, _, kind)| kind == libc::S_IFCHR)
    }

    /// Perform one operation of the mount plan inside this root.
    fn perform(&self, op: &Op) -> Result<()> {
        match *op {
            Op::Symlink {
                target,
                to,
                optional,
            } => {
                let made =
                    self.in_parent_of(target, false, |dir, name| sys::symlinkat(to, dir, name))?;
                match made {
                    Err(e) if optional && e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
                    r => r.with_context(|| format!("create symlink {} -> {to}", self.show(target))),
                }
            }
            Op::Mknod {
                target,
                major,
                minor,
            } => {
                // Device nodes go only into the /dev tmpfs gocker itself just mounted.
                self.in_parent_of(target, true, |dir, name| {
                    sys::mknodat(dir, name, libc::S_IFCHR | 0o666, major, minor)
                })?
                .with_context(|| format!("mknod {} c {major} {minor}", self.show(target)))
            }
            Op::Node {
                target,
                mode,
                major,
                minor,
                uid,
                gid,
            } => {
                // Reached through real directories only; the front end placed it on a
                // tmpfs of the container's, so nothing is left on the rootfs's disk.
                self.in_parent_of(target, true, |dir, name| {
                    sys::mknodat(dir, name, mode, major, minor)
                        .and_then(|()| sys::fchownat_nofollow(dir, name, uid, gid))
                })?
                .with_context(|| {
                    format!(
                        "mknod {} {major}:{minor} mode {:o} owner {uid}:{gid} (linux.devices)",
                        self.show(target),
                        mode & 0o7777
                    )
                })
            }
            Op::NewFs {
                target,
                fstype,
                source,
                data,
                flags,
                why,
            } => {
                // A kernel filesystem goes onto a real directory of the image, never through
                // a symlink (runc refuses proc on a non-directory), and never onto `/`.
                let at = self.make_dirs(target, true)?;
                self.refuse_root(&at, target, why)?;
                // mount(2) onto /proc/self/fd/N mounts onto the very directory the fd
                // holds (the kernel follows the magic link to it, not a path), as runc
                // does: one call, where fsopen/fsconfig/fsmount/move_mount take five.
                self.forget_parent();
                sys::mount(
                    Some(Path::new(source)),
                    &sys::fd_path(&at),
                    Some(fstype),
                    flags,
                    data,
                )
                .with_context(|| format!("mount {fstype} on {}", self.show(target)))
            }
            Op::Bind {
                target,
                source,
                recursive,
                per_mount,
                dir,
                optional,
                why,
            } => {
                let at = match self.resolve(target, 0, false) {
                    Err(e) if is_enoent(&e) && optional => return Ok(()),
                    Err(e) if is_enoent(&e) => self.make_mountpoint(target, dir)?,
                    r => r.map_err(|e| self.refusal(target, e))?,
                };
                self.refuse_root(&at, target, why)?;
                self.forget_parent();
                let what = || format!("bind {} on {}", source.display(), self.show(target));
                if per_mount == 0 {
                    // Nothing to set on the new mount: one bind onto the fd's file.
                    let flags = sys::ms::BIND | if recursive { sys::ms::REC } else { 0 };
                    return sys::mount(Some(source), &sys::fd_path(&at), None, flags, None)
                        .with_context(what);
                }
                let tree = sys::clone_tree(None, source, recursive).with_context(what)?;
                set_flags(&tree, per_mount).with_context(what)?;
                sys::attach_mount(&tree, &at).with_context(what)
            }
            Op::Mask { target } => self.mask(target),
            Op::Propagation { target, flags } => {
                let at = self
                    .resolve(target, 0, true)
                    .map_err(|e| self.refusal(target, e))?;
                sys::mount(None, &sys::fd_path(&at), None, flags, None).with_context(|| {
                    format!("change the propagation of {} (mount(2))", self.show(target))
                })
            }
            Op::Rebind {
                target,
                per_mount,
                optional,
            } => {
                let at = match self.resolve(target, 0, true) {
                    Err(e) if is_enoent(&e) && optional => return Ok(()),
                    r => r.map_err(|e| self.refusal(target, e))?,
                };
                let what = || format!("remount {} read-only", self.show(target));
                let tree = sys::clone_tree(Some(&at), Path::new(""), true).with_context(what)?;
                set_flags(&tree, per_mount).with_context(what)?;
                sys::attach_mount(&tree, &at).with_context(what)
            }
        }
    }

    /// `Op::Mask`: the kind of what is there decides, as in runc's maskPath.
    fn mask(&self, target: &Path) -> Result<()> {
        let at = match self.resolve(target, 0, false) {
            Err(e) if is_enoent(&e) => return Ok(()),
            r => r.map_err(|e| self.refusal(target, e))?,
        };
        self.refuse_root(&at, target, "a mask")?;
        let is_dir = sys::fstat(&at)
            .with_context(|| format!("stat {}", self.show(target)))?
            .2
            == libc::S_IFDIR;
        self.forget_parent();
        let r = if is_dir {
            sys::mount(
                Some(Path::new("tmpfs")),
                &sys::fd_path(&at),
                Some("tmpfs"),
                sys::ms::RDONLY,
                None,
            )
        } else {
            sys::mount(
                Some(Path::new(crate::mounts::MASK_FILE)),
                &sys::fd_path(&at),
                None,
                sys::ms::BIND,
                None,
            )
        };
        r.with_context(|| format!("mask {}", self.show(target)))
    }

    /// A mount changes what lies under a directory fd kept for making entries: drop it.
    fn forget_parent(&self) {
        self.parent.borrow_mut().take();
    }

    fn refuse_root(&self, at: &OwnedFd, target: &Path, why: &str) -> Result<()> {
        if self.is_root(at).context("stat a mount point")? {
            return Err(Failure::Host.with(format!(
                "{} in the rootfs resolves to the container's root (a symlink to /?): refusing to mount {why} over it",
                target.display(),
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

/// Per-mount flags on a detached tree, on every mount in it (a `:ro` volume is read-only
/// all the way down, which a remount of a bind never was).
fn set_flags(tree: &OwnedFd, per_mount: u64) -> io::Result<()> {
    if per_mount == 0 {
        return Ok(());
    }
    sys::set_mount_flags_recursive(tree, per_mount)
}

/// One operation of the child's mount plan: what `perform` does under the new root, as
/// data, so that the plan is tested without root (`tests`' recording executor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op<'a> {
    /// A symlink at `target`; `optional` keeps one that exists already.
    Symlink {
        target: &'a Path,
        to: &'a str,
        optional: bool,
    },
    /// A character device node, only ever in gocker's own /dev (no symlink on the way).
    Mknod {
        target: &'a Path,
        major: u32,
        minor: u32,
    },
    /// The propagation of the mount on `target` set to `flags` (ms::SHARED, SLAVE or
    /// UNBINDABLE, maybe with ms::REC).
    Propagation { target: &'a Path, flags: u64 },
    /// A node of `linux.devices`: `mode` is its type and permission bits.
    Node {
        target: &'a Path,
        mode: u32,
        major: u32,
        minor: u32,
        uid: u32,
        gid: u32,
    },
    /// A new filesystem instance on a real directory of the image, never onto `/`.
    NewFs {
        target: &'a Path,
        fstype: &'a str,
        source: &'a str,
        data: Option<&'a str>,
        flags: u64,
        why: &'a str,
    },
    /// A host path's tree bound onto `target` (made if missing, as a directory or an
    /// empty file; an `optional` one that is missing is skipped), then `per_mount` flags.
    Bind {
        target: &'a Path,
        source: &'a Path,
        recursive: bool,
        per_mount: u64,
        dir: bool,
        optional: bool,
        why: &'a str,
    },
    /// `target` hidden: an empty read-only tmpfs on a directory, the host's /dev/null
    /// bound on anything else, nothing when it is missing (`MountKind::Mask`).
    Mask { target: &'a Path },
    /// The tree at `target`, already inside the root, bound onto itself with new flags.
    Rebind {
        target: &'a Path,
        per_mount: u64,
        optional: bool,
    },
}

impl<'a> Op<'a> {
    /// The operation one entry of the mount table becomes.
    pub fn of(m: &'a Mount) -> Op<'a> {
        let target = m.target.as_path();
        match &m.kind {
            MountKind::Symlink { to } => Op::Symlink {
                target,
                to,
                optional: m.optional,
            },
            MountKind::Device { major, minor } => Op::Mknod {
                target,
                major: *major,
                minor: *minor,
            },
            MountKind::Node {
                kind,
                major,
                minor,
                mode,
                uid,
                gid,
            } => Op::Node {
                target,
                mode: kind.type_bits() | mode,
                major: *major,
                minor: *minor,
                uid: *uid,
                gid: *gid,
            },
            MountKind::Fs {
                fstype,
                source,
                data,
            } => Op::NewFs {
                target,
                fstype,
                source,
                data: data.as_deref(),
                flags: m.flags.per_mount_bits(),
                why: &m.why,
            },
            MountKind::Bind { source, dir } => Op::Bind {
                target,
                source,
                recursive: m.flags.recursive,
                per_mount: m.flags.per_mount_bits(),
                dir: *dir,
                optional: m.optional,
                why: &m.why,
            },
            MountKind::Rebind => Op::Rebind {
                target,
                per_mount: m.flags.per_mount_bits(),
                optional: m.optional,
            },
            MountKind::Mask => Op::Mask { target },
            MountKind::Propagation { flags } => Op::Propagation {
                target,
                flags: *flags,
            },
        }
    }
}

/// What carries out a mount plan: `NewRoot` with real system calls, or a test's recorder.
pub trait Executor {
    /// Whether the root brings its own /dev (a character device at `null_path`).
    fn has_char_device(&self, null_path: &Path) -> bool;
    fn perform(&mut self, op: &Op) -> Result<()>;
}

impl Executor for NewRoot {
    fn has_char_device(&self, null_path: &Path) -> bool {
        NewRoot::has_char_device(self, null_path)
    }

    fn perform(&mut self, op: &Op) -> Result<()> {
        NewRoot::perform(self, op)
    }
}

/// The mount plan: every entry of `mounts` in order, except the /dev that a root with its
/// own keeps (`mounts::ROOT_HAS_DEV`). An iterator, so a start allocates nothing for it.
pub fn plan(mounts: &[Mount], root_has_dev: bool) -> impl Iterator<Item = Op<'_>> {
    mounts
        .iter()
        .filter(move |m| !(m.dev && root_has_dev))
        .map(Op::of)
}

/// Carry out the plan for `mounts` with `exec`, stopping at the first failure.
pub fn apply(mounts: &[Mount], exec: &mut impl Executor) -> Result<()> {
    // Probed only when the table has a /dev to skip: one resolution fewer otherwise.
    let root_has_dev = mounts.iter().any(|m| m.dev)
        && exec.has_char_device(Path::new(crate::mounts::ROOT_HAS_DEV));
    for op in plan(mounts, root_has_dev) {
        exec.perform(&op)?;
        crate::trace::mounted(&op);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The mount plan, applied by a recording executor (youki's recording syscall double):
    //! the order and arguments of every step, without root. The end-to-end tests
    //! (tests/run.rs, tests/hostile.rs) prove the real calls.
    use super::*;
    use crate::mounts::standard_mounts;
    use crate::sys::ms;
    use std::cell::Cell;

    #[derive(Default)]
    struct Recorder {
        has_dev: bool,
        probes: Cell<usize>,
        ops: Vec<String>,
        fail_at: Option<usize>,
    }

    impl Executor for Recorder {
        fn has_char_device(&self, null_path: &Path) -> bool {
            assert_eq!(null_path, Path::new("/dev/null"));
            self.probes.set(self.probes.get() + 1);
            self.has_dev
        }

        fn perform(&mut self, op: &Op) -> Result<()> {
            if self.fail_at == Some(self.ops.len()) {
                anyhow::bail!("refused");
            }
            self.ops.push(match *op {
                Op::Symlink { target, to, .. } => format!("symlink {} -> {to}", target.display()),
                Op::Mknod {
                    target,
                    major,
                    minor,
                } => format!("mknod {} {major}:{minor}", target.display()),
                Op::Node {
                    target,
                    mode,
                    major,
                    minor,
                    uid,
                    gid,
                } => format!(
                    "node {} {mode:o} {major}:{minor} {uid}:{gid}",
                    target.display()
                ),
                Op::NewFs {
                    target,
                    fstype,
                    data,
                    flags,
                    ..
                } => format!(
                    "fs {fstype} {} {flags:#x} {}",
                    target.display(),
                    data.unwrap_or("-")
                ),
                Op::Bind {
                    target,
                    source,
                    recursive,
                    per_mount,
                    dir,
                    optional,
                    ..
                } => format!(
                    "bind {} {} rec={recursive} {per_mount:#x} dir={dir} optional={optional}",
                    source.display(),
                    target.display()
                ),
                Op::Rebind {
                    target,
                    per_mount,
                    optional,
                } => format!(
                    "rebind {} {per_mount:#x} optional={optional}",
                    target.display()
                ),
                Op::Mask { target } => format!("mask {}", target.display()),
                Op::Propagation { target, flags } => {
                    format!("propagation {} {flags:#x}", target.display())
                }
            });
            Ok(())
        }
    }

    fn run(mounts: &[Mount], has_dev: bool) -> Recorder {
        let mut r = Recorder {
            has_dev,
            ..Default::default()
        };
        apply(mounts, &mut r).unwrap();
        r
    }

    #[test]
    fn a_root_without_dev_gets_one_in_table_order() {
        let mounts = standard_mounts(false);
        let r = run(&mounts, false);
        assert_eq!(r.probes.get(), 1);
        assert_eq!(r.ops.len(), mounts.len());
        assert_eq!(
            r.ops[0],
            format!("fs proc /proc {:#x} -", ms::NOSUID | ms::NODEV | ms::NOEXEC)
        );
        let dev = r
            .ops
            .iter()
            .position(|o| o.starts_with("fs tmpfs /dev "))
            .unwrap();
        assert_eq!(
            r.ops[dev],
            format!(
                "fs tmpfs /dev {:#x} mode=755,size=64k",
                ms::NOSUID | ms::NOEXEC
            )
        );
        // The nodes come after their tmpfs, the links after the nodes.
        assert_eq!(r.ops[dev + 1], "mknod /dev/null 1:3");
        assert!(
            r.ops[dev + 7..]
                .iter()
                .all(|o| o.starts_with("symlink /dev/"))
        );
        assert!(
            r.ops
                .contains(&"symlink /dev/fd -> /proc/self/fd".to_string())
        );
        // /proc/sys and friends: bound onto themselves read-only, skipped when absent.
        let ro = ms::RDONLY | ms::NOSUID | ms::NODEV | ms::NOEXEC;
        assert!(
            r.ops
                .contains(&format!("rebind /proc/sys {ro:#x} optional=true"))
        );
        // The masks: /dev/null bound over files, never recursive, never made.
        assert!(r.ops.contains(
            &"bind /dev/null /proc/kcore rec=false 0x0 dir=false optional=true".to_string()
        ));
    }

    #[test]
    fn a_root_with_its_own_dev_keeps_it() {
        let mounts = standard_mounts(true);
        let r = run(&mounts, true);
        assert_eq!(r.ops.len(), mounts.iter().filter(|m| !m.dev).count());
        assert!(!r.ops.iter().any(|o| o.starts_with("fs tmpfs /dev ")));
        assert!(!r.ops.iter().any(|o| o.starts_with("mknod ")));
        // -t: the devpts of its own is mounted all the same, then its ptmx link.
        assert_eq!(
            r.ops[r.ops.len() - 2],
            format!(
                "fs devpts /dev/pts {:#x} newinstance,ptmxmode=0666,mode=0620",
                ms::NOSUID | ms::NOEXEC
            )
        );
        assert_eq!(r.ops[r.ops.len() - 1], "symlink /dev/ptmx -> pts/ptmx");
    }

    #[test]
    fn a_table_without_dev_entries_probes_nothing() {
        let vol = Mount::volume("/srv".into(), "/data".into(), true, true);
        let r = run(std::slice::from_ref(&vol), true);
        assert_eq!(r.probes.get(), 0);
        // `:ro` is read-only all the way down: recursive, then RDONLY on every mount.
        assert_eq!(
            r.ops,
            [format!(
                "bind /srv /data rec=true {:#x} dir=true optional=false",
                ms::RDONLY
            )]
        );
    }

    #[test]
    fn the_first_failure_stops_the_plan() {
        let mounts = standard_mounts(false);
        let mut r = Recorder {
            fail_at: Some(3),
            ..Default::default()
        };
        assert!(apply(&mounts, &mut r).is_err());
        assert_eq!(r.ops.len(), 3);
    }
}
