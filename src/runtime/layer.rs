//! The container's own writable layer over a `--rootfs` directory (`Root::Overlay`): an
//! overlayfs with the rootfs as its read-only lower layer, so that the directory is never
//! written and two containers on one image never see each other's changes.
//!
//! Nothing of it is on the host. In the child, in its own (private) mount namespace, the
//! rootfs directory is first held by a descriptor, then a tmpfs is mounted over its path:
//! it holds `upper/` (the container's writes), `work/` (overlayfs' scratch space, on the
//! same filesystem as `upper/`, as it requires) and `merged/`, where the overlay of the
//! held directory (`lowerdir=/proc/self/fd/N`: the fd still reaches the directory under
//! the tmpfs) is mounted and pivoted into. The image cannot reach the layer (it is not in
//! the rootfs), and after pivot_root nothing of the host's tree is left to reach it by.
//!
//! Why so: the writes die with the container's mount namespace, so nothing of them can be
//! left behind, even when gocker is SIGKILLed, and no directory is made on the host either.
//! Measured: a layer directory in `$TMPDIR` cost a mkdtemp and an rmdir per start, the
//! rmdir 3 ms on this machine's ext4 when others write (it waits on the journal), and three
//! of them 15-20 ms. The container's writes are memory, charged to its memory cgroup (`-m`
//! bounds them).

use crate::sys;
use anyhow::{Context, Result};
use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// Where the overlay is mounted, the new root before pivot_root, for a rootfs at `lower`:
/// on the layer's tmpfs, which covers `lower`'s path in the child's mount namespace.
pub fn merged_of(lower: &Path) -> PathBuf {
    lower.join("merged")
}

/// In the child, in its own mount namespace: the rootfs `lower` held by a descriptor, the
/// layer's tmpfs over its path, upper/, work/ and merged/ on it, and the overlay of the
/// held rootfs on merged/. The upper root is the merged `/`, so it takes the rootfs root's
/// mode and owner.
///
/// `kept`: a detached container's layer directory in its state directory (`run -d`):
/// upper/ and work/ are made there instead, so that the writes outlive the container for
/// `export` and `commit` until `rm`; merged/ stays on the tmpfs. The directory is the
/// store's (root's, mode 0700), not the image's, and is held by a descriptor before
/// anything is mounted.
pub fn mount_layer(lower: &Path, kept: Option<&Path>) -> Result<()> {
    let kept_fd = kept
        .map(|d| {
            sys::open(d, libc::O_PATH | libc::O_DIRECTORY)
                .with_context(|| format!("open the layer directory {}", d.display()))
        })
        .transpose()?;
    let lower_fd = open_resolved(lower)?;
    // Onto the directory the descriptor holds, not onto whatever the path names now.
    sys::mount(
        Some(Path::new("tmpfs")),
        &sys::fd_path(&lower_fd),
        Some("tmpfs"),
        0,
        Some("mode=700"),
    )
    .with_context(|| format!("mount the layer's tmpfs over {}", lower.display()))?;
    let layer_dir = kept_fd
        .as_ref()
        .map_or_else(|| lower.to_path_buf(), sys::fd_path);
    let (upper, work, merged) = (
        layer_dir.join("upper"),
        layer_dir.join("work"),
        merged_of(lower),
    );
    for d in [&upper, &work, &merged] {
        std::fs::create_dir(d).with_context(|| format!("create {}", d.display()))?;
    }
    // Through the descriptor: the rootfs's own root, under the tmpfs now.
    let meta = std::fs::metadata(sys::fd_path(&lower_fd))
        .with_context(|| format!("stat rootfs {}", lower.display()))?;
    std::os::unix::fs::chown(&upper, Some(meta.uid()), Some(meta.gid()))
        .with_context(|| format!("chown {}", upper.display()))?;
    std::fs::set_permissions(
        &upper,
        std::os::unix::fs::PermissionsExt::from_mode(meta.mode() & 0o7777),
    )
    .with_context(|| format!("chmod {}", upper.display()))?;
    mount_overlay(lower, &lower_fd, &upper, &work, &merged)
}

/// Mount the overlay on `merged` (in the child, in its own mount namespace): `lower` the
/// rootfs, `upper` and `work` the layer's. Each directory goes to the kernel as
/// /proc/self/fd/N of a descriptor opened here, never as its path: overlayfs' options are
/// one comma- and colon-separated string, so a rootfs at `…/x:/SECRET` would otherwise
/// stack the host's /SECRET into the container's root, and one at `…/y,lowerdir=/SECRET`
/// make it the root (the last lowerdir wins; tests/lifecycle.rs tries both). The rootfs is opened
/// with no symlink allowed on the way: its path was resolved when the options were
/// checked, so a symlink now is a component swapped since, and is refused.
fn mount_overlay(
    lower: &Path,
    lower_fd: &OwnedFd,
    upper: &Path,
    work: &Path,
    merged: &Path,
) -> Result<()> {
    let upper_fd = sys::open(upper, libc::O_PATH | libc::O_DIRECTORY)
        .with_context(|| format!("open {}", upper.display()))?;
    let work_fd = sys::open(work, libc::O_PATH | libc::O_DIRECTORY)
        .with_context(|| format!("open {}", work.display()))?;
    let data = format!(
        "lowerdir={},upperdir={},workdir={}",
        sys::fd_path(lower_fd).display(),
        sys::fd_path(&upper_fd).display(),
        sys::fd_path(&work_fd).display()
    );
    sys::mount(
        Some(Path::new("overlay")),
        merged,
        Some("overlay"),
        0,
        Some(&data),
    )
    .map_err(|e| {
        let hint = match e.raw_os_error() {
            Some(libc::ENODEV) => " (no overlayfs in this kernel: modprobe overlay, or run with --rootfs-rw)",
            Some(libc::EINVAL) => " (a rootfs on overlayfs or another filesystem overlayfs cannot stack on? run with --rootfs-rw)",
            _ => "",
        };
        anyhow::Error::new(e).context(format!(
            "mount overlay of {} on {}{hint}",
            lower.display(),
            merged.display()
        ))
    })
}

/// `path` (absolute, already canonical) opened as an O_PATH directory, refusing any
/// symlink on the way (openat2 RESOLVE_NO_SYMLINKS from `/`).
fn open_resolved(path: &Path) -> Result<OwnedFd> {
    let slash = sys::open(Path::new("/"), libc::O_PATH | libc::O_DIRECTORY).context("open /")?;
    let rel: PathBuf = path
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect();
    sys::open_in_root(&slash, &rel, libc::O_PATH | libc::O_DIRECTORY, 0, true).map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            crate::error::Failure::Host.with(format!(
                "rootfs {}: a symlink appeared on its path since it was checked: refusing to mount it",
                path.display()
            ))
        } else {
            anyhow::Error::new(e).context(format!("open rootfs {}", path.display()))
        }
    })
}
