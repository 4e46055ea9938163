//! `gocker create` and `gocker start`: `run` cut in two at the exec, as the OCI runtime
//! CLI wants it (runc's exec fifo is the model).
//!
//! `create` does everything `run` does up to the command's exec (the same `launch`, the
//! same child), but the init then waits at a fifo in the container's state directory,
//! and `create` returns: the init lives on as a child of the caller's subreaper (conmon,
//! the containerd shim), which reaps it to learn its status. `start` opens the fifo's
//! other end; the init writes one byte, installs its seccomp filter and execs.

use super::{Staging, Surface, launch, preflight};
use crate::cgroup::{Cgroup, Version};
use crate::error::{Failure, fail};
use crate::host::{CgroupHost, Roots};
use crate::spec::{ContainerSpec, Root};
use crate::state::{self, Entry, Record, Status};
use crate::sys;
use anyhow::{Context, Result};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The fifo in the container's state directory that `start` opens.
pub const EXEC_FIFO: &str = "exec.fifo";

/// What `create` leaves for the state record.
#[derive(Debug)]
pub struct Created {
    pub pid: sys::pid_t,
    pub pid_start_time: u64,
    pub cgroup_dirs: Vec<PathBuf>,
    pub cgroup_version: Version,
}

/// Build the container described by `spec` and leave its init waiting at the exec fifo
/// in `state_dir`. With a terminal, the master of the pty (opened inside the container)
/// goes over the unix socket `console_socket`; without one, the container keeps our
/// fds 0-2 (the engine's pipes). `layer`: where to keep a copy-on-write root's layer
/// (`run -d`), instead of the tmpfs that dies with the container; `monitored`: the
/// caller stays the init's parent (`run -d`'s monitor), and the init dies with it until
/// `start`.
pub fn create(
    spec: &ContainerSpec,
    roots: &Roots,
    state_dir: &Path,
    console_socket: Option<&Path>,
    layer: Option<&Path>,
    monitored: bool,
) -> Result<Created> {
    if spec.process.terminal && console_socket.is_none() {
        fail(
            Failure::Usage,
            "process.terminal is true but no --console-socket was given: a detached container's terminal needs a socket to be handed to",
        )?;
    }
    let mut spec = spec.clone();
    // The engine's pipes are the container's stdio: stdin too.
    spec.process.stdin = !spec.process.terminal;
    let spec = &spec;
    let cg_host = match preflight(spec, roots)? {
        Some(h) => Some(h),
        // Even without limits: `pause`, `kill --all` and `ps` need the processes grouped.
        None => CgroupHost::probe(&roots.cgroup),
    };
    let surface = Surface::prepare(spec, cg_host.as_ref())?;
    // gocker/<id>, or where the bundle's cgroupsPath puts it.
    let leaf = spec.cgroup_leaf();
    let mut cgroup = match &cg_host {
        Some(h) if h.version() == Version::V2 => Some(Cgroup::create(
            h.version(),
            &h.root,
            &leaf,
            &spec.limits,
            spec.confinement.devices,
        )?),
        _ => None,
    };
    let fifo = state_dir.join(EXEC_FIFO);
    sys::mkfifo(&fifo, 0o600).with_context(|| format!("mkfifo {}", fifo.display()))?;
    let staging = match &spec.root {
        Root::Dir(p) => Staging::Rootfs(p.clone()),
        Root::Overlay(p) => Staging::Layer(super::layer::merged_of(p)),
        Root::HostView => Staging::new_temp()?,
    };
    let mut l = launch(
        spec,
        roots,
        &staging,
        cg_host.as_ref(),
        &leaf,
        &mut cgroup,
        &surface,
        Some(&fifo),
        layer,
        monitored,
    )?;
    // v1 has the freezer in a hierarchy of its own, which no limit needs. Its directory
    // is made while the child builds its root (a v1 cgroup mkdir costs ~4 ms on this
    // machine: made after the gate, it was most of `run -d`'s lead over `run`); the init
    // joins once it waits at its gate, from outside (it forks nothing until `start`).
    let freezer = match cg_host.as_ref().filter(|h| h.version() == Version::V1) {
        Some(h) if h.root.join("freezer/cgroup.procs").exists() => {
            let dir = h.root.join("freezer").join(&leaf);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("create cgroup {}", dir.display()))?;
            Some(dir)
        }
        _ => None,
    };
    let gated = l.ends.wait_created();
    if let (Err(_), Some(dir)) = (&gated, &freezer) {
        // The child has exited (its report is the error): its cgroup is empty.
        let _ = std::fs::remove_dir(dir);
    }
    gated?;
    drop(staging);
    if let Some(master) = l.master.take() {
        let sock = console_socket.context("a terminal without a console socket")?;
        send_console(sock, &master)?;
    }
    let mut dirs = cgroup.as_mut().map(|c| c.dirs.clone()).unwrap_or_default();
    let version = cg_host.as_ref().map_or(Version::V1, |h| h.version());
    if let Some(dir) = freezer {
        dirs.push(dir.clone());
        // `tasks`, not `cgroup.procs`: the init is one thread (it waits at its gate),
        // and moving a thread skips the global rwsem whose RCU wait cost ~11 ms here
        // (see cgroup::join_points).
        let tasks = dir.join(crate::cgroup::TASKS);
        std::fs::write(&tasks, l.pid.to_string())
            .with_context(|| format!("write {} to {}", l.pid, tasks.display()))?;
    }
    let pid_start_time = state::proc_start(l.pid)
        .map(|(t, _)| t)
        .with_context(|| format!("read /proc/{}/stat", l.pid))?;
    // Success: the init and its cgroup outlive us (delete removes them).
    if let Some(cg) = cgroup.as_mut() {
        cg.dirs.clear();
    }
    l.guard.reaped();
    let _ = sys::set_signal_mask(&l.old_mask);
    Ok(Created {
        pid: l.pid,
        pid_start_time,
        cgroup_dirs: dirs,
        cgroup_version: version,
    })
}

/// Hand the terminal's master to the engine: connect to its socket and send the fd with
/// SCM_RIGHTS (conmon and the shim take the first descriptor of the first message).
fn send_console(socket: &Path, master: &OwnedFd) -> Result<()> {
    let stream = std::os::unix::net::UnixStream::connect(socket)
        .with_context(|| format!("connect to console socket {}", socket.display()))?;
    let fd: OwnedFd = stream.into();
    sys::send_fd(&fd, master)
        .with_context(|| format!("send the terminal over {}", socket.display()))
}

/// Release a created container's init: open the exec fifo for reading (which lets the
/// init's open for writing return), and wait for its byte. Never blocks on an init that
/// died meanwhile.
pub fn start(entry: &Entry, record: &mut Record) -> Result<()> {
    match record.status() {
        Status::Created => {}
        s => fail(
            Failure::Usage,
            format!(
                "cannot start container {}: it is {s}, not created",
                record.id
            ),
        )?,
    }
    let path = entry.dir().join(EXEC_FIFO);
    // Non-blocking: an open for reading never waits for a writer, and a fifo nobody has
    // opened for writing yet does not poll as hung up, only as not yet readable.
    let fifo = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(&path)
        .with_context(|| format!("open exec fifo {}", path.display()))?;
    let fd = fifo.as_raw_fd();
    loop {
        let ready = sys::poll_readable_for(&[fd], 50).context("poll the exec fifo")?;
        if ready[0] {
            let mut b = [0u8; 1];
            match sys::read(fd, &mut b) {
                Ok(1) => break,
                // Hung up without the byte: the init died between its open and its write.
                Ok(_) => fail(
                    Failure::Host,
                    "the container's init exited before it started",
                )?,
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {}
                Err(e) => Err(e).with_context(|| format!("read {}", path.display()))?,
            }
        }
        if !record.init_alive() {
            fail(
                Failure::Host,
                "the container's init exited before it started",
            )?;
        }
    }
    let _ = std::fs::remove_file(&path);
    record.status_hint = Status::Running.as_str().to_string();
    entry.save(record)
}
