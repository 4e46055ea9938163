//! The native runtime: `gocker run`, built from raw system calls.
//!
//! Order matters and fixes three of the lesson's bugs: the cgroup exists with its
//! limits before the clone, the command runs in it from its first instruction (clone3
//! with CLONE_INTO_CGROUP on v2; on v1 the child moves itself in just before exec), and
//! it is removed on every way out (the `Cgroup` guard).

mod channel;
mod child;
pub mod control;
pub mod create;
pub mod detach;
pub mod exec;
pub mod hooks;
mod joined;
pub mod layer;
pub(crate) mod newroot;
mod parent;

use crate::cgroup::{self, Cgroup, Version};
use crate::host::{CgroupHost, Roots};
use crate::spec::{ContainerSpec, Namespace, Root};
use crate::sys;
use anyhow::{Context, Result};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Signals gocker handles itself while the container runs: forwarded (TERM, INT, HUP,
/// QUIT), the child's exit (CHLD), terminal resizes (WINCH).
const HANDLED: [libc::c_int; 6] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGCHLD,
    libc::SIGWINCH,
];

/// Refuse early what this host cannot do, before anything is created: the same probes
/// `gocker check` reports (privileges, namespaces, cgroup controllers).
pub fn preflight(spec: &ContainerSpec, roots: &Roots) -> Result<Option<CgroupHost>> {
    let needs = crate::host::Needs {
        // Namespaces are probed when clone refuses one (host::explain_clone_failure):
        // the same probes and message, nothing created before, and ten /proc reads
        // fewer on every start.
        namespaces: Vec::new(),
        ..crate::host::Needs::run(spec)
    };
    crate::host::refuse_unsupported(&needs, roots)
}

/// Run the container; returns its exit status (128+N for signal N).
pub fn run(spec: &ContainerSpec, roots: &Roots) -> Result<i32> {
    let cg_host = preflight(spec, roots)?;
    let surface = Surface::prepare(spec, cg_host.as_ref())?;
    // gocker/<id>, or where an OCI bundle's cgroupsPath puts it.
    let leaf = spec.cgroup_leaf();
    let id = leaf.as_path();
    // v2: the cgroup must exist before clone, which starts the child in it. v1: the
    // parent makes it after clone, while the child builds its root (see start_and_wait).
    let mut cgroup = match &cg_host {
        Some(h) if h.version() == Version::V2 => Some(Cgroup::create(
            h.version(),
            &h.root,
            id,
            &spec.limits,
            spec.confinement.devices,
        )?),
        _ => None,
    };
    let staging = match &spec.root {
        Root::Dir(p) => Staging::Rootfs(p.clone()),
        Root::Overlay(p) => Staging::Layer(layer::merged_of(p)),
        Root::HostView => Staging::new_temp()?,
    };
    let status = start_and_wait(
        spec,
        roots,
        staging,
        cg_host.as_ref(),
        id,
        &mut cgroup,
        &surface,
    )?;
    // A container that exited 0 had nothing killed that it cared about.
    if let Some(cg) = cgroup
        .as_ref()
        .filter(|_| status != sys::WaitStatus::Exited(0))
    {
        let kills = cg.oom_kills();
        if kills > 0 {
            eprintln!(
                "gocker: the memory limit ({} MiB) was hit: the kernel's OOM killer killed {kills} process(es) in the container",
                spec.limits.memory_bytes.unwrap_or(0) >> 20
            );
        }
    }
    if let Some(mut cg) = cgroup {
        if spec
            .namespace_paths
            .iter()
            .any(|(n, _)| *n == Namespace::Pid)
        {
            // In a pid namespace of its own, the init's end took every other process of
            // the container with it; in a joined one they live on, in the cgroup.
            kill_members(&cg.dirs);
        }
        cg.remove()?;
    }
    Ok(match status {
        sys::WaitStatus::Exited(code) => code,
        sys::WaitStatus::Signaled(sig) => 128 + sig,
    })
}

fn start_and_wait(
    spec: &ContainerSpec,
    roots: &Roots,
    staging: Staging,
    cg_host: Option<&CgroupHost>,
    id: &Path,
    cgroup: &mut Option<Cgroup>,
    surface: &Surface,
) -> Result<sys::WaitStatus> {
    let mut l = launch(
        spec, roots, &staging, cg_host, id, cgroup, surface, None, None, false,
    )?;
    // No wait here for the exec: the child's report is read once it has exited. Waiting
    // would put one more wake-up of this process on the way (an idle vCPU's wake-up
    // costs tens of microseconds), and a failed setup ends the child anyway.
    let status = parent::supervise(l.pid, l.master.take(), spec.process.stdin)?;
    l.guard.reaped();
    let _ = sys::set_signal_mask(&l.old_mask);
    // The child has exited: its report is complete (empty when execve succeeded).
    l.ends.wait_started()?;
    // The child pivoted away from the staging directory long ago; a layer's writes
    // ended with the container's mount namespace.
    drop(staging);
    Ok(status)
}

/// A container's init, cloned and past the parent's share of the setup: what `run` then
/// supervises and `create` leaves waiting at its exec gate.
pub(crate) struct Launched {
    pub pid: sys::pid_t,
    /// Kills and reaps the init if the caller gives up before `reaped`.
    pub guard: parent::ChildGuard,
    pub ends: channel::ParentEnds,
    /// The caller's signal mask, to restore once the init is on its own.
    pub old_mask: sys::SigSet,
    /// The master of the container's terminal, when it has one.
    pub master: Option<std::os::fd::OwnedFd>,
}

/// Everything `run` and `create` share: the device program attached, the channels, the
/// clone, the parent's share (v1 cgroup, `lo`), the sweep, `ready`, and the terminal.
/// `gate`: the exec fifo the init waits at before exec (`create`), or none (`run`).
/// `layer`: where a detached container's copy-on-write layer is kept (`run -d`);
/// `monitored`: its parent stays (`run -d`'s monitor: see `child::ChildSetup`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn launch(
    spec: &ContainerSpec,
    roots: &Roots,
    staging: &Staging,
    cg_host: Option<&CgroupHost>,
    leaf: &Path,
    cgroup: &mut Option<Cgroup>,
    surface: &Surface,
    gate: Option<&Path>,
    layer: Option<&Path>,
    monitored: bool,
) -> Result<Launched> {
    let root = staging.path();
    // The v2 leaf as a directory fd: clone3 starts the child inside it.
    let cgroup_fd = match cgroup.as_ref() {
        Some(cg) if cg.version == Version::V2 => Some(
            sys::open(&cg.dirs[0], libc::O_RDONLY | libc::O_DIRECTORY)
                .with_context(|| format!("open cgroup {}", cg.dirs[0].display()))?,
        ),
        _ => None,
    };
    // Attached before clone, so the command is covered from its first instruction.
    if let (Some(fd), Some(prog)) = (cgroup_fd.as_ref(), surface.device_program.as_ref()) {
        sys::attach_device_program(fd, prog).map_err(|e| {
            crate::error::Failure::Host.with(format!(
                "attach the device program to the container's cgroup (bpf BPF_PROG_ATTACH): {}; run with {}",
                crate::error::os_reason(&e),
                crate::host::DEVICES_OPT_OUT
            ))
        })?;
    }
    let (parent_ends, child_ends) = channel::channels(spec.process.terminal)?;
    // Blocked before the clone so that no signal is lost between clone and the loop
    // that handles them; the child restores the old mask before exec.
    let old_mask = sys::block_signals(&sys::SigSet::of(&HANDLED)).context("block signals")?;
    let flags = spec.namespaces.iter().fold(0, |f, ns| f | ns.clone_flag());
    let clone_args = sys::CloneArgs {
        flags,
        cgroup: cgroup_fd.as_ref().map(|f| f.as_raw_fd()),
    };
    crate::trace::step(1, || crate::trace::clone_call(spec));
    // The child closes its copies of the parent's ends; the parent keeps them.
    let mut parent_slot = Some(parent_ends);
    // A pid namespace given by path applies to the children of whoever enters it.
    let cloned = joined::in_pid_namespace(&surface.joined, || {
        sys::clone(&clone_args, |in_cgroup| {
            drop(parent_slot.take());
            // Not born in its cgroup (v1, or a v2 kernel before 5.7): the child joins by
            // itself, just before exec.
            let join = match cg_host {
                Some(h) if !in_cgroup => cgroup::join_points(
                    h.version(),
                    &h.root,
                    &cgroup::controllers(&spec.limits, spec.confinement.devices),
                    leaf,
                ),
                _ => Vec::new(),
            };
            child::run(
                child::ChildSetup {
                    spec,
                    root,
                    signal_mask: &old_mask,
                    join: &join,
                    seccomp: child::Filters {
                        programs: &surface.seccomp,
                        profile: spec.seccomp_profile.is_some(),
                    },
                    gate,
                    layer,
                    monitored,
                    joined: &surface.joined,
                },
                child_ends,
            )
        })
    })?;
    let (pid, _) =
        cloned.map_err(|e| crate::host::explain_clone_failure(e, &spec.namespaces, roots))?;
    let mut parent_ends = parent_slot.context("the parent's ends of the channels")?;
    drop(cgroup_fd);
    let guard = parent::ChildGuard::new(pid);
    // The parent's share of the setup, done while the child builds its root: the v1
    // cgroup with its limits (the child joins it before exec), and `lo`. A new network
    // namespace has only lo, and it starts down; bringing it up costs ~50 us of kernel
    // time (dev_open), done from inside the child's namespace.
    let share = (|| -> Result<()> {
        if let Some(h) = cg_host
            && cgroup.is_none()
        {
            *cgroup = Some(Cgroup::create(
                h.version(),
                &h.root,
                leaf,
                &spec.limits,
                spec.confinement.devices,
            )?);
        }
        if spec.namespaces.contains(&Namespace::Net) {
            bring_up_lo(pid).context("bring up lo in the container's network namespace")?;
        }
        Ok(())
    })();
    if let Err(e) = share {
        // The child may have failed first and left its namespace: then its report is
        // the reason. Otherwise it exits when it sees us give up.
        parent_ends.give_up();
        parent_ends.wait_started()?;
        return Err(e);
    }
    // A child that already failed (and closed its end) has reported why: the write's
    // EPIPE is not the reason, the report below is.
    let _ = parent_ends.signal_ready();
    // With -t the child opens the terminal in its own devpts and sends the master; if it
    // fails first, the socket closes and its report below says why.
    let master = parent_ends.receive_console()?;
    // Leftovers of gockers (and scripts) that were SIGKILLed, swept while the container
    // starts: cgroups of owners that are gone by every run, their staging directories by
    // every run that makes one (only those leave one; a rootfs run is spared reading all
    // of TMPDIR). After `ready`, it overlaps the command's start instead of delaying it.
    let probed;
    let sweep_host = match cg_host {
        Some(h) => Some(h),
        None => {
            probed = CgroupHost::probe(&roots.cgroup);
            probed.as_ref()
        }
    };
    if let Some(h) = sweep_host {
        cgroup::sweep(h.version(), &h.root, sys::getpid(), sys::process_exists);
    }
    if let Staging::Temp(_) = staging {
        sweep_staging(&std::env::temp_dir(), sys::getpid(), sys::process_exists);
    }
    Ok(Launched {
        pid,
        guard,
        ends: parent_ends,
        old_mask,
        master,
    })
}

/// The seccomp programs a container's processes get (its init, and every exec): a
/// bundle's profile, compiled, or gocker's default filter, or none when unconfined.
pub(crate) fn seccomp_programs(spec: &ContainerSpec) -> Result<Vec<seccompiler::BpfProgram>> {
    Ok(match &spec.seccomp_profile {
        Some(p) => crate::seccomp::profile::build(p)?,
        None if spec.confinement.seccomp => vec![crate::seccomp::build()?],
        None => Vec::new(),
    })
}

/// The kernel walls made ready before anything exists, so that a host that cannot
/// have them is refused early: the seccomp filter, compiled (~5 us), and on v2 the
/// device program, loaded and verified by the kernel (attached once the cgroup exists);
/// and the namespace files a bundle joins, opened and checked.
pub(crate) struct Surface {
    /// The filters to install, in order: the default one, a bundle's profile's, or none.
    seccomp: Vec<seccompiler::BpfProgram>,
    device_program: Option<std::os::fd::OwnedFd>,
    /// The namespaces a bundle joins by path, open and checked.
    joined: joined::Joined,
}

impl Surface {
    pub(crate) fn prepare(spec: &ContainerSpec, cg_host: Option<&CgroupHost>) -> Result<Surface> {
        let seccomp = seccomp_programs(spec)?;
        let device_program = match cg_host {
            Some(h) if spec.confinement.devices && h.version() == Version::V2 => Some(
                sys::load_device_program(&crate::devices::program(&crate::devices::List::for_container(&spec.limits.devices)))
                    .map_err(|e| {
                        crate::error::Failure::Host.with(format!(
                            "load the device cgroup program (bpf BPF_PROG_LOAD): {}; use a kernel with CONFIG_CGROUP_BPF=y, or run with {}",
                            crate::error::os_reason(&e),
                            crate::host::DEVICES_OPT_OUT
                        ))
                    })?,
            ),
            _ => None,
        };
        let joined = if spec.namespace_paths.is_empty() {
            joined::Joined::NONE
        } else {
            joined::Joined::open(spec)?
        };
        Ok(Surface {
            seccomp,
            device_program,
            joined,
        })
    }
}

/// SIGKILL every process in the cgroup directories `dirs` (their cgroup.procs), until
/// none is left or a second has passed: what a container leaves in a pid namespace it
/// joined.
fn kill_members(dirs: &[PathBuf]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        let mut any = false;
        for d in dirs {
            let Ok(text) = std::fs::read_to_string(d.join(cgroup::PROCS)) else {
                continue;
            };
            for pid in text.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                any = true;
                let _ = sys::kill(pid, libc::SIGKILL);
            }
        }
        if !any || std::time::Instant::now() > deadline {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Join `pid`'s network namespace and bring its `lo` up. gocker itself uses no network,
/// so it can stay there.
fn bring_up_lo(pid: sys::pid_t) -> Result<()> {
    let path = PathBuf::from(format!("/proc/{pid}/ns/net"));
    let ns =
        sys::open(&path, libc::O_RDONLY).with_context(|| format!("open {}", path.display()))?;
    sys::setns(&ns, libc::CLONE_NEWNET).with_context(|| format!("setns {}", path.display()))?;
    sys::interface_up("lo").context("ioctl SIOCSIFFLAGS lo up")
}

/// Where the new root is assembled. The host view needs an empty directory to mount its
/// tmpfs on; once the child has pivoted, nothing uses it, and it is removed.
pub(crate) enum Staging {
    Rootfs(PathBuf),
    Temp(PathBuf),
    /// The copy-on-write root: the overlay's merged/, on the layer's tmpfs over the
    /// rootfs's path in the child's mount namespace only (runtime/layer.rs).
    Layer(PathBuf),
}

/// Staging directories are named `gocker-root.<owner pid>.XXXXXX`, so that a later run can
/// tell a leftover (its owner gone: gocker was SIGKILLed between clone and the child's
/// pivot_root) from one in use.
const STAGING_PREFIX: &str = "gocker-root.";

/// Remove the empty staging directories whose owner is gone. rmdir never removes a
/// directory with anything in it, and one whose owner lives is left alone.
fn sweep_staging(dir: &Path, self_pid: i32, alive: impl Fn(i32) -> bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(owner) = name
            .to_str()
            .and_then(|n| n.strip_prefix(STAGING_PREFIX))
            .and_then(|rest| rest.split_once('.'))
            .and_then(|(pid, _)| pid.parse::<i32>().ok())
        else {
            continue;
        };
        if owner != self_pid && !alive(owner) {
            let _ = std::fs::remove_dir(e.path());
        }
    }
}

impl Staging {
    pub(crate) fn new_temp() -> Result<Staging> {
        let template =
            std::env::temp_dir().join(format!("{STAGING_PREFIX}{}.XXXXXX", sys::getpid()));
        sys::mkdtemp(&template)
            .map(Staging::Temp)
            .with_context(|| format!("create staging directory {}", template.display()))
    }

    fn path(&self) -> &Path {
        match self {
            Staging::Rootfs(p) | Staging::Temp(p) | Staging::Layer(p) => p,
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Staging::Temp(p) = self {
            let _ = std::fs::remove_dir(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    #[test]
    fn staging_sweep_removes_only_empty_dirs_of_dead_owners() {
        let t = TempDir::new("staging");
        let d = |n: &str| t.path().join(n);
        for n in [
            "gocker-root.100.aaaaaa",
            "gocker-root.200.bbbbbb",
            "gocker-root.300.cccccc",
            "gocker-root.400.dddddd",
            "gocker-root.XXXXXX",
            "other.100.x",
        ] {
            std::fs::create_dir(d(n)).unwrap();
        }
        std::fs::write(d("gocker-root.300.cccccc/file"), "").unwrap();
        // 200 is alive; 400 is this gocker; 100 and 300 are gone, but 300 is not empty.
        sweep_staging(t.path(), 400, |pid| pid == 200);
        let left: Vec<String> = {
            let mut v: Vec<String> = std::fs::read_dir(t.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            left,
            [
                "gocker-root.200.bbbbbb",
                "gocker-root.300.cccccc",
                "gocker-root.400.dddddd",
                "gocker-root.XXXXXX",
                "other.100.x"
            ]
        );
    }
}
