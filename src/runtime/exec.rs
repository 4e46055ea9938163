//! `gocker exec`: a new process inside a running container, as `nsenter` plus the
//! init's last steps.
//!
//! Three processes, as in runc's nsexec. gocker (the parent) pins the container's init
//! with a pidfd and opens everything of the host it needs while it can still see the
//! host (namespace files, cgroup directories, the container's terminal). A first child
//! joins every namespace but the mount namespace: the pid (and time) namespace only
//! applies to the children of whoever joins it, so a second clone is needed, and
//! CLONE_PARENT makes that one gocker's own child, which gocker then waits for (or, with
//! `detach`, leaves to its caller's subreaper). The second child joins the mount
//! namespace, which puts it in the container's root, and ends as the init does
//! (`child::drop_privileges`, `child::join_and_exec`): the container's capabilities,
//! `no_new_privs`, rlimits, cgroup, seccomp filter, then execve.

use super::channel::{self, ChildEnds};
use super::child;
use crate::error::Failure;
use crate::spec::{Capabilities, ContainerSpec, Namespace, Process};
use crate::sys;
use anyhow::{Context, Result};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// The running container to join.
pub struct Target<'a> {
    /// Its init, as the host sees it.
    pub pid: i32,
    /// Field 22 of /proc/PID/stat when the init was recorded: another process that got
    /// the same pid later is refused.
    pub pid_start_time: u64,
    /// Every cgroup directory the container's processes are in (one per v1 hierarchy).
    pub cgroup_dirs: &'a [PathBuf],
    pub spec: &'a ContainerSpec,
}

/// What to run, and how the caller wants it back.
#[derive(Debug)]
pub struct ExecOptions {
    pub process: Process,
    /// Return 0 once the process has started, leaving it to the caller's subreaper.
    pub detach: bool,
    /// Where to write the process's host pid (bare digits) once it has started.
    pub pid_file: Option<PathBuf>,
    /// With a terminal: send its master over this socket (SCM_RIGHTS, runc's payload)
    /// instead of relaying it on our own stdio.
    pub console_socket: Option<PathBuf>,
    /// The process's five capability sets, when it asks for others than the container's.
    pub capabilities: Option<Capabilities>,
    /// `no_new_privs`, when the process says otherwise than the container.
    pub no_new_privs: Option<bool>,
    /// Resource limits instead of the container's.
    pub rlimits: Option<Vec<crate::spec::Rlimit>>,
}

/// devpts's ptmx (Documentation/filesystems/devpts.rst) and the filesystem's magic.
const PTMX_DEVICE: (u32, u32) = (5, 2);
const DEVPTS_MAGIC: i64 = 0x1cd1;

/// Run a process inside every namespace and the cgroup of the running container `target`,
/// with its capabilities, no_new_privs, seccomp filter and device rules. Returns the exit
/// status (128+N for signal N), or 0 at once with `detach` (the pid written to pid_file).
pub fn exec(target: &Target, opts: &ExecOptions) -> Result<i32> {
    let init = Pinned::open(target.pid, target.pid_start_time)?;
    let namespaces = Joinable::open(target.pid).map_err(|e| init.gone_or(e))?;
    let cgroups = target
        .cgroup_dirs
        .iter()
        .map(|d| CgroupDir::open(d))
        .collect::<Result<Vec<_>>>()?;
    let root = sys::open(
        Path::new(&format!("/proc/{}/root", target.pid)),
        libc::O_PATH | libc::O_DIRECTORY,
    )
    .map_err(|e| init.gone_or(anyhow::Error::new(e).context("open the container's root")))?;
    // Everything above was opened by pid: it is the container's only if its init still
    // lives now (a pid is not reused while its process lives).
    init.check_alive()?;
    let programs = super::seccomp_programs(target.spec)?;
    let terminal = if opts.process.terminal {
        Some(open_terminal(&root)?)
    } else {
        None
    };
    drop(root);
    let console = opts
        .console_socket
        .as_deref()
        .map(|p| {
            sys::connect_unix(p)
                .with_context(|| format!("connect to console socket {}", p.display()))
        })
        .transpose()?;
    let null = if opts.process.stdin || opts.process.terminal {
        None
    } else {
        Some(sys::open(Path::new("/dev/null"), libc::O_RDONLY).context("open /dev/null")?)
    };
    let setup = Setup {
        init: &init,
        namespaces: &namespaces,
        cgroups: &cgroups,
        process: &opts.process,
        capabilities: opts.capabilities.unwrap_or(target.spec.capabilities),
        no_new_privs: opts.no_new_privs.unwrap_or(target.spec.no_new_privs),
        rlimits: opts.rlimits.as_deref().unwrap_or(&target.spec.rlimits),
        seccomp: child::Filters {
            programs: &programs,
            profile: target.spec.seccomp_profile.is_some(),
        },
        slave: terminal.as_ref().map(|(_, s)| s),
        null: null.as_ref(),
        detach: opts.detach,
    };
    let (parent_ends, child_ends) = channel::channels(false)?;
    let (pid_r, pid_w) = sys::pipe().context("create pid pipe")?;
    // Blocked before the clone, as for run: no signal is lost before supervise handles
    // them; the process restores the old mask before exec.
    let old_mask =
        sys::block_signals(&sys::SigSet::of(&super::HANDLED)).context("block signals")?;
    let mut parent_slot = Some(parent_ends);
    let (middle, _) = sys::clone(
        &sys::CloneArgs {
            flags: 0,
            cgroup: None,
        },
        |_| {
            drop(parent_slot.take());
            join_then_spawn(&setup, &old_mask, &child_ends, &pid_w)
        },
    )
    .context("clone")?;
    // Our copies of the children's ends: the report pipe ends (EOF) only when the last
    // writer is gone, and the pid pipe when the middle process is.
    drop(child_ends);
    drop(pid_w);
    let parent_ends = parent_slot.context("the parent's ends of the channels")?;
    let pid = read_pid(&pid_r);
    // The middle process has nothing more to do once it has said the pid (or failed).
    let middle_status = sys::waitpid(middle, false).context("wait for the joining process")?;
    let mut guard = pid.map(super::parent::ChildGuard::new);
    parent_ends.wait_started()?;
    let pid = match (pid, middle_status) {
        (Some(pid), _) => pid,
        (None, st) => anyhow::bail!(
            "the process joining the container ended without starting the command ({st:?})"
        ),
    };
    if let Some(f) = &opts.pid_file {
        write_pid_file(f, pid)?;
    }
    let master = match (terminal, &console) {
        (Some((master, slave)), Some(sock)) => {
            drop(slave);
            sys::send_fd_named(sock, &master, b"/dev/ptmx")
                .context("send the terminal over the console socket")?;
            None
        }
        (Some((master, slave)), None) => {
            drop(slave);
            Some(master)
        }
        (None, _) => None,
    };
    drop(console);
    if opts.detach {
        // Left running: it is ours until we exit, then the caller's subreaper's.
        if let Some(g) = guard.as_mut() {
            g.reaped();
        }
        let _ = sys::set_signal_mask(&old_mask);
        return Ok(0);
    }
    let status = super::parent::supervise(pid, master, opts.process.stdin)?;
    if let Some(g) = guard.as_mut() {
        g.reaped();
    }
    let _ = sys::set_signal_mask(&old_mask);
    Ok(match status {
        sys::WaitStatus::Exited(code) => code,
        sys::WaitStatus::Signaled(sig) => 128 + sig,
    })
}

/// The container's init, pinned: a pidfd where the kernel has them (5.3), and the start
/// time it was recorded with.
struct Pinned {
    pid: i32,
    start_time: u64,
    pidfd: Option<OwnedFd>,
}

impl Pinned {
    fn open(pid: i32, start_time: u64) -> Result<Pinned> {
        let pidfd = match sys::pidfd_open(pid) {
            Ok(fd) => Some(fd),
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return Err(not_running(pid)),
            Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => None,
            Err(e) => return Err(e).with_context(|| format!("pidfd_open {pid}")),
        };
        let p = Pinned {
            pid,
            start_time,
            pidfd,
        };
        // After pidfd_open: if the pid is still the recorded process now, the pidfd is it.
        p.check_alive()?;
        Ok(p)
    }

    /// The recorded process still runs (not a zombie, not a successor with its pid).
    fn check_alive(&self) -> Result<()> {
        if let Some(fd) = &self.pidfd
            && !sys::pidfd_alive(fd)
        {
            return Err(not_running(self.pid));
        }
        match crate::state::proc_start(self.pid) {
            Some((start, false)) if start == self.start_time => Ok(()),
            _ => Err(not_running(self.pid)),
        }
    }

    /// `e`, unless the reason for it is that the init is gone.
    fn gone_or(&self, e: anyhow::Error) -> anyhow::Error {
        match self.check_alive() {
            Ok(()) => e,
            Err(gone) => gone,
        }
    }
}

fn not_running(pid: i32) -> anyhow::Error {
    Failure::Host.with(format!(
        "the container is not running (its init, pid {pid}, has exited)"
    ))
}

/// The namespaces of the container that are not ours, each by its file; and the
/// container's init's pidfd joins them all at once where the kernel can (5.8).
struct Joinable {
    files: Vec<(Namespace, OwnedFd)>,
}

/// nsenter's order: the user namespace first (it grants the rights to join the others),
/// the mount namespace last but one (after it, the host's /proc is out of sight), time
/// last. Only the pid and time namespaces wait for a child; see `join_then_spawn`.
const JOIN_ORDER: [Namespace; 8] = [
    Namespace::User,
    Namespace::Cgroup,
    Namespace::Ipc,
    Namespace::Uts,
    Namespace::Net,
    Namespace::Pid,
    Namespace::Mount,
    Namespace::Time,
];

impl Joinable {
    /// Every namespace type whose /proc/PID/ns file differs from ours: those the
    /// container made, and any it was given by path (a bundle's `linux.namespaces`).
    fn open(pid: i32) -> Result<Joinable> {
        use std::os::unix::fs::MetadataExt;
        let mut files = Vec::new();
        for ns in JOIN_ORDER {
            let theirs = PathBuf::from(format!("/proc/{pid}/ns/{}", ns.proc_name()));
            let ours = Path::new("/proc/self/ns").join(ns.proc_name());
            let Ok(mine) = std::fs::metadata(&ours) else {
                // A type this kernel does not have.
                continue;
            };
            let meta =
                std::fs::metadata(&theirs).with_context(|| format!("stat {}", theirs.display()))?;
            if (meta.dev(), meta.ino()) == (mine.dev(), mine.ino()) {
                continue;
            }
            let fd = sys::open(&theirs, libc::O_RDONLY)
                .with_context(|| format!("open {}", theirs.display()))?;
            files.push((ns, fd));
        }
        Ok(Joinable { files })
    }

    /// Join those of `which`: through the pidfd in one call, else file by file in
    /// JOIN_ORDER (a kernel before 5.8 refuses a pidfd with EINVAL).
    fn join(&self, init: &Pinned, which: impl Fn(Namespace) -> bool) -> Result<()> {
        let chosen: Vec<&(Namespace, OwnedFd)> =
            self.files.iter().filter(|(ns, _)| which(*ns)).collect();
        if chosen.is_empty() {
            return Ok(());
        }
        if let Some(pidfd) = &init.pidfd {
            let flags = chosen.iter().fold(0, |f, (ns, _)| f | ns.clone_flag());
            match sys::setns_flags(pidfd, flags) {
                Ok(()) => return Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {
                    return Err(not_running(init.pid));
                }
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
                Err(e) => {
                    return Err(e).context("join the container's namespaces (setns with a pidfd)");
                }
            }
        }
        for (ns, fd) in chosen {
            sys::setns(fd, ns.clone_flag() as libc::c_int).with_context(|| {
                format!(
                    "join the container's {} namespace (setns /proc/{}/ns/{})",
                    ns.proc_name(),
                    init.pid,
                    ns.proc_name()
                )
            })?;
        }
        Ok(())
    }
}

/// One of the container's cgroup directories, open, and how a process joins it.
struct CgroupDir {
    dir: OwnedFd,
    /// Where "0" is written: v1's per-thread `tasks` (see `cgroup::join_points`), v2's
    /// `cgroup.procs`.
    file: &'static Path,
    v2: bool,
}

impl CgroupDir {
    fn open(dir: &Path) -> Result<CgroupDir> {
        let fd = sys::open(dir, libc::O_RDONLY | libc::O_DIRECTORY)
            .with_context(|| format!("open the container's cgroup {}", dir.display()))?;
        // Only a v2 directory has cgroup.controllers.
        let v2 = dir.join(crate::cgroup::CONTROLLERS).exists();
        let file = Path::new(if v2 {
            crate::cgroup::PROCS
        } else {
            crate::cgroup::TASKS
        });
        Ok(CgroupDir { dir: fd, file, v2 })
    }
}

/// A pseudo-terminal for the process, from the container's own devpts (so `tty` names
/// it, as under `run -t`): its ptmx found inside the container's root (symlinks as the
/// container sees them, no magic links), and checked to be devpts's ptmx, before gocker,
/// still privileged and on the host, opens it. A container without a devpts of its own
/// (started without -t) gets one of the host's, which it cannot name.
fn open_terminal(root: &OwnedFd) -> Result<(OwnedFd, OwnedFd)> {
    let ptmx = match sys::open_in_root(root, Path::new("dev/pts/ptmx"), libc::O_PATH, 0, false) {
        Ok(fd) => {
            let (kind, major, minor, magic) =
                sys::device_of(&fd).context("stat /dev/pts/ptmx in the container")?;
            if kind != libc::S_IFCHR || (major, minor) != PTMX_DEVICE || magic != DEVPTS_MAGIC {
                return Err(Failure::Host.with(
                    "exec -t: the container's /dev/pts/ptmx is not a devpts ptmx; refusing to open it",
                ));
            }
            fd
        }
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
            sys::open(Path::new("/dev/ptmx"), libc::O_PATH).context("open /dev/ptmx")?
        }
        Err(e) => return Err(e).context("open /dev/pts/ptmx in the container"),
    };
    let (master, slave) = sys::open_pty_at(&ptmx).context("open a pseudo-terminal (-t)")?;
    let _ = sys::copy_winsize(0, slave.as_raw_fd());
    Ok((master, slave))
}

/// What the two children need, all opened by the parent.
struct Setup<'a> {
    init: &'a Pinned,
    namespaces: &'a Joinable,
    cgroups: &'a [CgroupDir],
    process: &'a Process,
    capabilities: Capabilities,
    no_new_privs: bool,
    rlimits: &'a [crate::spec::Rlimit],
    seccomp: child::Filters<'a>,
    slave: Option<&'a OwnedFd>,
    null: Option<&'a OwnedFd>,
    detach: bool,
}

/// The first child: every namespace but the mount namespace, then the process that
/// runs the command, as gocker's child (CLONE_PARENT), born in the cgroup on v2. Says
/// its pid on `pid_w` and exits.
fn join_then_spawn(s: &Setup, mask: &sys::SigSet, ends: &ChildEnds, pid_w: &OwnedFd) -> ! {
    let _ = sys::set_parent_death_signal(libc::SIGKILL);
    if !ends.parent_alive() {
        sys::exit_now(125);
    }
    // The pid and time namespaces apply to our children only: the command, spawned
    // next, is inside them, and its pid there is small.
    if let Err(e) = s.namespaces.join(s.init, |ns| ns != Namespace::Mount) {
        ends.report_and_exit(crate::error::exit_code_of(&e), &crate::error::one_line(&e));
    }
    let v2 = s.cgroups.iter().find(|c| c.v2).map(|c| c.dir.as_raw_fd());
    match sys::clone_sibling(v2, |in_cgroup| run_command(s, mask, ends, in_cgroup)) {
        Ok((pid, _)) => {
            let _ = sys::write_all(pid_w.as_raw_fd(), pid.to_string().as_bytes());
            sys::exit_now(0)
        }
        Err(e) => {
            let e = anyhow::Error::new(e).context("clone the process into the container");
            ends.report_and_exit(125, &crate::error::one_line(&e))
        }
    }
}

/// The second child: the mount namespace, then the init's last steps.
fn run_command(s: &Setup, mask: &sys::SigSet, ends: &ChildEnds, in_cgroup: bool) -> ! {
    match enter_and_exec(s, mask, ends, in_cgroup) {
        Ok(never) => match never {},
        Err(e) => ends.report_and_exit(crate::error::exit_code_of(&e), &crate::error::one_line(&e)),
    }
}

enum Never {}

fn enter_and_exec(
    s: &Setup,
    mask: &sys::SigSet,
    ends: &ChildEnds,
    in_cgroup: bool,
) -> Result<Never> {
    if !s.detach {
        // As under run: if gocker dies, so does the process; detached, it outlives us.
        let _ = sys::set_parent_death_signal(libc::SIGKILL);
        if !ends.parent_alive() {
            sys::exit_now(125);
        }
    }
    // Until execve this is a copy of gocker, root with every capability, among the
    // container's processes: not dumpable, none of them may open its /proc/PID/exe
    // (gocker's binary on the host, CVE-2019-5736), mem or fds, or ptrace it.
    sys::set_dumpable(false).context("prctl PR_SET_DUMPABLE 0")?;
    // Whatever gocker has open (the host's namespace and cgroup files, the caller's
    // secrets) must not reach the command.
    sys::cloexec_from_3().context("mark inherited descriptors close-on-exec")?;
    // Into the container's mount namespace: setns puts us in its root, as its init sees it.
    s.namespaces.join(s.init, |ns| ns == Namespace::Mount)?;
    child::new_session()?;
    match (s.slave, s.null) {
        (Some(slave), _) => {
            sys::set_controlling_tty(slave.as_raw_fd())
                .context("make the pseudo-terminal controlling")?;
            for fd in 0..3 {
                sys::dup2(slave.as_raw_fd(), fd).context("connect the pseudo-terminal")?;
            }
        }
        (None, Some(null)) => {
            sys::dup2(null.as_raw_fd(), 0).context("connect stdin to /dev/null")?
        }
        (None, None) => {}
    }
    let cwd = &s.process.cwd;
    sys::chdir(cwd).with_context(|| format!("chdir to the working directory {}", cwd.display()))?;
    let command = child::resolve_command(s.process)?;
    child::set_rlimits(s.rlimits)?;
    let join: Vec<(&OwnedFd, &Path)> = s
        .cgroups
        .iter()
        .filter(|c| !(c.v2 && in_cgroup))
        .map(|c| (&c.dir, c.file))
        .collect();
    // Into the cgroup while still root with every capability, as the init does: a user
    // other than root without CAP_DAC_OVERRIDE could not write the cgroup's file.
    child::join_cgroups(&join)?;
    // process.user between the bounding set and the other sets (runc's order).
    let late = s.seccomp.before_cap_drop(s.no_new_privs)?;
    child::drop_privileges_as(&s.capabilities, s.no_new_privs, Some(&s.process.user))?;
    Err(child::join_and_exec(&[], mask, None, late, &command))
}

/// The pid the middle process said, if it got that far.
fn read_pid(r: &OwnedFd) -> Option<i32> {
    let mut buf = [0u8; 16];
    let mut len = 0;
    while len < buf.len() {
        match sys::read(r.as_raw_fd(), &mut buf[len..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => len += n,
        }
    }
    std::str::from_utf8(&buf[..len]).ok()?.parse().ok()
}

/// The pid, bare digits, written beside the file and renamed over it: a reader never
/// sees an empty or partial pid file.
fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("pid file {}: not a file name", path.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", sys::getpid()));
    let tmp = path.with_file_name(tmp_name);
    std::fs::write(&tmp, pid.to_string())
        .and_then(|()| std::fs::rename(&tmp, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
        .with_context(|| format!("write pid file {}", path.display()))
}
