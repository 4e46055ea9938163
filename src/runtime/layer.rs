//! The container's own writable layer over a `--rootfs` directory (`Root::Overlay`): an
//! overlayfs with the rootfs as its read-only lower layer, so that the directory is never
//! written and two containers on one image never see each other's changes.
//!
//! A layer is a directory `gocker-layer.<owner pid>.XXXXXX` beside the staging
//! directories (in `$TMPDIR`), with `upper/` (the container's writes), `work/` (overlayfs'
//! scratch space, on the same filesystem as `upper/`, as it requires) and `merged/` (where
//! the overlay is mounted, in the container's mount namespace only, and pivoted into).
//! None of it is inside the rootfs, so the image cannot reach it; after pivot_root nothing
//! of the host's tree is left to reach it by. It is removed when the container has exited,
//! and swept, as the staging directories are, when its owner was SIGKILLed first.

use crate::sys;
use anyhow::{Context, Result};
use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

pub const LAYER_PREFIX: &str = "gocker-layer.";

/// A container's layer directory, removed with everything in it when dropped.
pub struct Layer {
    dir: PathBuf,
}

impl Layer {
    /// A new layer in `parent` for a container over `lower`. Its upper directory takes
    /// the lower root's mode and owner: overlayfs shows the upper root as the merged `/`.
    pub fn create(parent: &Path, lower: &Path) -> Result<Layer> {
        let template = parent.join(format!("{LAYER_PREFIX}{}.XXXXXX", sys::getpid()));
        let dir = sys::mkdtemp(&template)
            .with_context(|| format!("create layer directory {}", template.display()))?;
        let layer = Layer { dir };
        let meta =
            std::fs::metadata(lower).with_context(|| format!("stat rootfs {}", lower.display()))?;
        for d in [layer.upper(), layer.work(), layer.merged()] {
            std::fs::create_dir(&d).with_context(|| format!("create {}", d.display()))?;
        }
        let upper = layer.upper();
        std::os::unix::fs::chown(&upper, Some(meta.uid()), Some(meta.gid()))
            .with_context(|| format!("chown {}", upper.display()))?;
        std::fs::set_permissions(
            &upper,
            std::os::unix::fs::PermissionsExt::from_mode(meta.mode() & 0o7777),
        )
        .with_context(|| format!("chmod {}", upper.display()))?;
        Ok(layer)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn upper(&self) -> PathBuf {
        self.dir.join("upper")
    }

    pub fn work(&self) -> PathBuf {
        self.dir.join("work")
    }

    /// The overlay's mount point: the new root, before pivot_root.
    pub fn merged(&self) -> PathBuf {
        self.dir.join("merged")
    }
}

impl Drop for Layer {
    fn drop(&mut self) {
        // remove_dir_all never follows a symlink the container left in its upper layer.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Mount the overlay on `merged` (in the child, in its own mount namespace): `lower` the
/// rootfs, `upper` and `work` the layer's. Each directory goes to the kernel as
/// /proc/self/fd/N of a descriptor opened here, never as its path: overlayfs' options are
/// one comma- and colon-separated string, so a rootfs named `img,upperdir=/etc` would
/// otherwise give the container a host directory to write into. The rootfs is opened
/// with no symlink allowed on the way: its path was resolved when the options were
/// checked, so a symlink now is a component swapped since, and is refused.
pub fn mount_overlay(lower: &Path, upper: &Path, work: &Path, merged: &Path) -> Result<()> {
    let lower_fd = open_resolved(lower)?;
    let upper_fd = sys::open(upper, libc::O_PATH | libc::O_DIRECTORY)
        .with_context(|| format!("open {}", upper.display()))?;
    let work_fd = sys::open(work, libc::O_PATH | libc::O_DIRECTORY)
        .with_context(|| format!("open {}", work.display()))?;
    let data = format!(
        "lowerdir={},upperdir={},workdir={}",
        sys::fd_path(&lower_fd).display(),
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

/// Remove the layers in `dir` whose owner is gone (gocker was SIGKILLed while its
/// container ran: the container died with it, by PR_SET_PDEATHSIG). A layer whose owner
/// lives is left alone.
pub fn sweep(dir: &Path, self_pid: i32, alive: impl Fn(i32) -> bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(owner) = name
            .to_str()
            .and_then(|n| n.strip_prefix(LAYER_PREFIX))
            .and_then(|rest| rest.split_once('.'))
            .and_then(|(pid, _)| pid.parse::<i32>().ok())
        else {
            continue;
        };
        // Only a directory: never follow a symlink someone planted under the name.
        if owner != self_pid && !alive(owner) && e.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    #[test]
    fn sweep_removes_only_layers_of_dead_owners() {
        let t = TempDir::new("layers");
        let d = |n: &str| t.path().join(n);
        for n in [
            "gocker-layer.100.aaaaaa/upper/etc",
            "gocker-layer.200.bbbbbb/upper",
            "gocker-layer.400.dddddd/upper",
            "gocker-layer.XXXXXX",
            "other.100.x",
        ] {
            std::fs::create_dir_all(d(n)).unwrap();
        }
        std::fs::write(d("gocker-layer.100.aaaaaa/upper/etc/f"), "x").unwrap();
        let target = TempDir::new("layers-target");
        std::fs::write(target.path().join("keep"), "").unwrap();
        std::os::unix::fs::symlink(target.path(), d("gocker-layer.300.cccccc")).unwrap();
        // 200 is alive; 400 is this gocker; 100 and 300 are gone, 300 is a symlink.
        sweep(t.path(), 400, |pid| pid == 200);
        let mut left: Vec<String> = std::fs::read_dir(t.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "gocker-layer.200.bbbbbb",
                "gocker-layer.300.cccccc",
                "gocker-layer.400.dddddd",
                "gocker-layer.XXXXXX",
                "other.100.x"
            ]
        );
        assert!(target.path().join("keep").exists());
    }
}
