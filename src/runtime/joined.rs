//! Namespaces a bundle joins by path (`linux.namespaces[].path`) instead of making them.
//!
//! Each file is opened and checked before anything is made, while gocker still sees
//! the host: it must be a namespace of the type it is listed as (NS_GET_NSTYPE), and
//! neither one of gocker's own nor one of pid 1's, which are the host's (the container
//! would share the host's mounts, processes, network or hostname; a cgroup namespace is
//! the exception, as sharing it is what a container without one does). The pid namespace applies to
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
            if *ns != Namespace::Cgroup && is_the_hosts(*ns, &fd)? {
                return Err(refuse(format!(
                    "is gocker's own {} namespace or pid 1's (the host's): the container would share it",
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

/// Whether the namespace `fd` names is the one gocker itself is in (for pid: the one its
/// children are born in), or pid 1's: gocker may itself run in a namespace of its own (a
/// test lane's mount namespace), and then the host's is pid 1's.
fn is_the_hosts(ns: Namespace, fd: &OwnedFd) -> Result<bool> {
    let theirs = std::fs::metadata(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .context("stat a namespace file given by path")?;
    let ours = if ns == Namespace::Pid {
        "self/ns/pid_for_children"
    } else {
        &format!("self/ns/{}", ns.proc_name())
    };
    for (p, must) in [
        (ours.to_string(), true),
        (format!("1/ns/{}", ns.proc_name()), false),
    ] {
        let path = Path::new("/proc").join(p);
        let m = match std::fs::metadata(&path) {
            Ok(m) => m,
            // A pid 1 that gocker may not inspect (one holding capabilities gocker lacks)
            // has namespaces gocker cannot open by /proc either.
            Err(e) if !must && e.kind() == std::io::ErrorKind::PermissionDenied => continue,
            Err(e) => return Err(e).with_context(|| format!("stat {}", path.display())),
        };
        if (m.dev(), m.ino()) == (theirs.dev(), theirs.ino()) {
            return Ok(true);
        }
    }
    Ok(false)
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
