//! Namespaces a bundle joins by path (`linux.namespaces[].path`) instead of making them.
//!
//! Each file is opened and checked before anything is made, while gocker still sees
//! the host: it must be a namespace of the type it is listed as (NS_GET_NSTYPE), and
//! not one of gocker's own, which is the host's (the container would share the host's
//! mounts, processes, network or hostname; a cgroup namespace is the exception, as
//! sharing it is what a container without one does). The pid namespace applies to
//! children only, so the parent enters it around the clone; the child joins the others
//! first thing, the mount namespace last (runc's order).

use crate::error::Failure;
use crate::spec::{ContainerSpec, Namespace};
use crate::sys;
use anyhow::{Context, Result};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The namespace files of `spec.namespace_paths`, open.
pub(crate) struct Joined {
    files: Vec<(Namespace, OwnedFd)>,
}

/// The child's order: the mount namespace last, since after it the paths of the host
/// are out of sight.
const CHILD_ORDER: [Namespace; 5] = [
    Namespace::Cgroup,
    Namespace::Ipc,
    Namespace::Uts,
    Namespace::Net,
    Namespace::Mount,
];

impl Joined {
    pub(crate) const NONE: Joined = Joined { files: Vec::new() };

    pub(crate) fn open(spec: &ContainerSpec) -> Result<Joined> {
        let mut files = Vec::new();
        for (ns, path) in &spec.namespace_paths {
            let field = format!(
                "config.json: linux.namespaces ({}): path {}",
                ns.proc_name(),
                path.display()
            );
            let refuse = |why: String| Failure::Usage.with(format!("{field}: {why}"));
            let fd =
                sys::open(path, libc::O_RDONLY).map_err(|e| refuse(crate::error::os_reason(&e)))?;
            match sys::namespace_type(&fd) {
                Ok(t) if t == ns.clone_flag() => {}
                Ok(t) => {
                    let other = Namespace::ALL
                        .iter()
                        .find(|n| n.clone_flag() == t)
                        .map_or("another type", |n| n.proc_name());
                    return Err(refuse(format!(
                        "is a {other} namespace, not a {} one",
                        ns.proc_name()
                    )));
                }
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTTY | libc::EINVAL)) => {
                    return Err(refuse("not a namespace file".into()));
                }
                Err(e) => return Err(e).with_context(|| format!("{field}: ioctl NS_GET_NSTYPE")),
            }
            if *ns != Namespace::Cgroup && is_own(*ns, &fd)? {
                return Err(refuse(format!(
                    "is gocker's own {} namespace (the host's): the container would share it",
                    ns.proc_name()
                )));
            }
            files.push((*ns, fd));
        }
        Ok(Joined { files })
    }

    /// The pid namespace to give the init, if one is joined.
    pub(crate) fn pid(&self) -> Option<&OwnedFd> {
        self.files
            .iter()
            .find(|(n, _)| *n == Namespace::Pid)
            .map(|(_, fd)| fd)
    }

    /// The child's part: every joined namespace but the pid one, in `CHILD_ORDER`.
    pub(super) fn join_in_child(&self) -> Result<()> {
        for ns in CHILD_ORDER {
            for (_, fd) in self.files.iter().filter(|(n, _)| *n == ns) {
                sys::setns(fd, ns.clone_flag() as libc::c_int).with_context(|| {
                    format!(
                        "join the {} namespace given by path (setns)",
                        ns.proc_name()
                    )
                })?;
            }
        }
        Ok(())
    }
}

/// Whether the namespace `fd` names is the one gocker itself is in (for pid: the one
/// its children are born in).
fn is_own(ns: Namespace, fd: &OwnedFd) -> Result<bool> {
    let name = if ns == Namespace::Pid {
        "pid_for_children"
    } else {
        ns.proc_name()
    };
    let ours = Path::new("/proc/self/ns").join(name);
    let mine = std::fs::metadata(&ours).with_context(|| format!("stat {}", ours.display()))?;
    let theirs = std::fs::metadata(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .context("stat a namespace file given by path")?;
    Ok((mine.dev(), mine.ino()) == (theirs.dev(), theirs.ino()))
}

/// Run `f` (the clone) with gocker's children born in the joined pid namespace, if
/// there is one, and gocker's own again afterwards, whatever `f` returned.
pub(crate) fn in_pid_namespace<T>(joined: &Joined, f: impl FnOnce() -> T) -> Result<T> {
    let Some(target) = joined.pid() else {
        return Ok(f());
    };
    let own_path = Path::new("/proc/self/ns/pid_for_children");
    let own = sys::open(own_path, libc::O_RDONLY)
        .with_context(|| format!("open {}", own_path.display()))?;
    sys::setns(target, libc::CLONE_NEWPID)
        .context("enter the pid namespace given by path for the init (setns)")?;
    let out = f();
    sys::setns(&own, libc::CLONE_NEWPID).context("return to gocker's own pid namespace (setns)")?;
    Ok(out)
}
