//! A container's merged root as an image: `gocker export` (a tar archive) and `gocker
//! commit` (a new rootfs directory), as Docker's export and commit do.
//!
//! Where the root comes from (`open_root`), given the container's record:
//! - running: its init's root, `/proc/PID/root` opened as a directory (and the init's
//!   start time checked again once it is open, so a reused pid is refused);
//! - stopped, with a writable layer that outlived it (`Record.layer`) over an overlay
//!   root: the layer's `upper/` over the rootfs mounted again, read-only, as a detached
//!   mount (fsopen/fsmount): it is in no mount namespace, has no mount point, and goes
//!   away when gocker closes it (or dies): nothing of it on the host;
//! - stopped, written in place (`--rootfs-rw`, a bundle's root): the rootfs itself;
//! - otherwise (the host's read-only view, an overlay whose layer died with it) refused:
//!   there is no root left to read.
//!
//! The root is walked by descriptors (`walk`: never by a path string, never off its mount,
//! never following a link), into a tar writer (`tar`) or a directory copier (`copy`).
//!
//! Kept: regular files (content, mode with setuid, setgid and sticky bits, owner, mtime;
//! commit keeps nanoseconds and atime), directories, symlinks (as links, targets byte for
//! byte), hard links (the content once, then links to its first name), character and
//! block devices and fifos (as entries), names of any bytes and length. Not kept:
//! extended attributes (file capabilities, SELinux labels, overlayfs' own), ACLs, sockets
//! (live endpoints, no files), holes in sparse files (written as zeros), and whatever is
//! mounted inside the root (/proc, /dev, /sys, volumes: empty directories, as Docker's
//! export has them).

mod copy;
mod tar;
pub mod walk;

use crate::error::Failure;
use crate::spec::Root;
use crate::state::Record;
use crate::sys;
use anyhow::{Context, Result};
use std::ffi::OsStr;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

pub use copy::DirSink;
pub use tar::TarSink;
pub use walk::{Sink, Skipped, walk};

/// The container's merged root, opened as a directory descriptor (see the module's header).
pub fn open_root(record: &Record) -> Result<OwnedFd> {
    if record.init_alive() {
        let proc_root = PathBuf::from(format!("/proc/{}/root", record.pid));
        // Following /proc/PID/root is the point: it is the init's root directory itself.
        let fd = sys::open(&proc_root, libc::O_PATH | libc::O_DIRECTORY)
            .with_context(|| format!("open container {}'s root", record.id))?;
        // The pid may have been reused between the check and the open.
        if record.init_alive() {
            return Ok(fd);
        }
    }
    match (&record.spec.root, &record.layer) {
        (Root::Overlay(rootfs), Some(layer)) => mount_layer(rootfs, layer)
            .with_context(|| format!("container {}'s layer {}", record.id, layer.display())),
        (Root::Dir(rootfs), _) => open_no_symlinks(rootfs)
            .with_context(|| format!("container {}'s rootfs", record.id)),
        (Root::Overlay(_), None) => Err(Failure::Usage.with(format!(
            "container {} is stopped and its writable layer died with it: there is no root to read \
             (a container started with run -d keeps it)",
            record.id
        ))),
        (Root::HostView, _) => Err(Failure::Usage.with(format!(
            "container {} is stopped and ran in the host's read-only view: it has no root of its own",
            record.id
        ))),
    }
}

/// The overlay of the layer's `upper/` over `rootfs`, as a detached mount. Both go in as
/// lower layers (`lowerdir=UPPER:ROOTFS`, upper first): an overlay of lower layers only is
/// read-only by nature and needs no work directory, so the layer is not written at all
/// (not even `work/`), and whiteouts and opaque directories in a lower layer hide what is
/// under them as they do in an upper one. Each directory goes to overlayfs as
/// /proc/self/fd/N of a descriptor opened here, never as its path (runtime/layer.rs says
/// why); the layer's `upper/` is opened without following a symlink.
fn mount_layer(rootfs: &Path, layer: &Path) -> Result<OwnedFd> {
    let lower = open_no_symlinks(rootfs)?;
    let layer_fd = open_no_symlinks(layer)?;
    let upper = sys::openat_mode(
        &layer_fd,
        OsStr::new("upper"),
        libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW,
        0,
    )
    .with_context(|| format!("open {}", layer.join("upper").display()))?;
    let ctx = sys::fsopen("overlay").map_err(|e| {
        let hint = match e.raw_os_error() {
            Some(libc::ENODEV) => " (no overlayfs in this kernel: modprobe overlay)",
            Some(libc::ENOSYS) => " (the new mount API needs Linux 5.2)",
            _ => "",
        };
        anyhow::Error::new(e).context(format!("fsopen overlay{hint}"))
    })?;
    let layers = format!(
        "{}:{}",
        sys::fd_path(&upper).display(),
        sys::fd_path(&lower).display()
    );
    sys::fsconfig(&ctx, "lowerdir", Some(OsStr::new(&layers)))
        .context("overlay option lowerdir")?;
    sys::fsconfig_create(&ctx).with_context(|| {
        format!(
            "mount overlay of {} over {}",
            layer.join("upper").display(),
            rootfs.display()
        )
    })?;
    sys::fsmount(&ctx, sys::ms::RDONLY | sys::ms::NOSUID | sys::ms::NODEV).context("fsmount")
}

/// An absolute path gocker itself resolved (a rootfs, a layer it made) opened as an O_PATH
/// directory, refusing any symlink on the way: one now is a component swapped since.
fn open_no_symlinks(path: &Path) -> Result<OwnedFd> {
    let slash = sys::open(Path::new("/"), libc::O_PATH | libc::O_DIRECTORY).context("open /")?;
    let rel: PathBuf = path
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect();
    sys::open_in_root(&slash, &rel, libc::O_PATH | libc::O_DIRECTORY, 0, true).map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            Failure::Host.with(format!(
                "{}: a symlink is on its path: refusing to read through it",
                path.display()
            ))
        } else {
            anyhow::Error::new(e).context(format!("open {}", path.display()))
        }
    })
}

/// The (device, inode) of an open file, to leave out of the walk when it is inside the root.
fn identity(fd: &OwnedFd) -> Result<(u64, u64)> {
    let st = sys::statx_at(fd, OsStr::new("")).context("stat the output")?;
    Ok((st.dev, st.ino))
}

/// The container's root as a tar archive on `out` (`out_fd`: the same file, left out of
/// the walk should it be inside the root).
pub fn export(record: &Record, out: impl Write, out_fd: Option<&OwnedFd>) -> Result<Skipped> {
    let root = open_root(record)?;
    let skip: Vec<(u64, u64)> = out_fd.map(identity).transpose()?.into_iter().collect();
    let mut sink = TarSink::new(out);
    let skipped = walk(&root, &skip, &mut sink)?;
    let mut out = sink.finish()?;
    out.flush().context("write the tar")?;
    Ok(skipped)
}

/// The container's root copied into `dir`, which must not exist (it is made) or be an
/// empty directory. On failure, what was made in it is removed again.
pub fn commit(record: &Record, dir: &Path) -> Result<Skipped> {
    let root = open_root(record)?;
    let made = match std::fs::create_dir(dir) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) => return Err(e).with_context(|| format!("create {}", dir.display())),
    };
    let fd = match open_empty(dir) {
        Ok(fd) => fd,
        Err(e) => {
            if made {
                let _ = std::fs::remove_dir(dir);
            }
            return Err(e);
        }
    };
    let result = commit_into(&root, fd, dir);
    if result.is_err() {
        // Only what this commit made: DIR was empty (or new) when it began.
        if made {
            let _ = std::fs::remove_dir_all(dir);
        } else if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                let p = e.path();
                let _ = if e.file_type().is_ok_and(|t| t.is_dir()) {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
            }
        }
    }
    result
}

/// DIR opened as a directory (not through a symlink at its end), refused unless empty.
fn open_empty(dir: &Path) -> Result<OwnedFd> {
    let fd = sys::open(dir, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .with_context(|| format!("open {}", dir.display()))?;
    let names = sys::dir_names(&fd).with_context(|| format!("read {}", dir.display()))?;
    if !names.is_empty() {
        return Err(Failure::Usage.with(format!(
            "{} is not empty: commit writes a new rootfs into a new or empty directory",
            dir.display()
        )));
    }
    Ok(fd)
}

fn commit_into(root: &OwnedFd, fd: OwnedFd, dir: &Path) -> Result<Skipped> {
    // Root's and 0700 from the start: see copy.rs for why DIR stays so.
    sys::chown_at(&fd, OsStr::new(""), 0, 0).with_context(|| format!("chown {}", dir.display()))?;
    sys::fchmod(&fd, 0o700).with_context(|| format!("chmod {}", dir.display()))?;
    // Again, now that nobody else can add to it: an entry put in before the chmod would
    // be someone else's inside the new rootfs.
    let names = sys::dir_names(&fd).with_context(|| format!("read {}", dir.display()))?;
    if !names.is_empty() {
        return Err(Failure::Usage.with(format!(
            "{}: entries appeared in it as commit began: refusing to write there",
            dir.display()
        )));
    }
    let skip = [identity(&fd)?];
    let mut sink = DirSink::new(fd, dir);
    walk(root, &skip, &mut sink)
}

#[cfg(test)]
mod tests;
