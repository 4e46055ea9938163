//! The container's side: everything between clone and execve, in the new namespaces.
//!
//! This is the lesson's `InitCommand` without the re-exec: private propagation, the new
//! root and its mounts, pivot_root, hostname, dropped privileges, the cgroup (v1), then
//! the command itself as PID 1. (The parent brings up loopback meanwhile.) It never
//! returns: it execs, or reports and exits.

use super::channel::ChildEnds;
use super::newroot::{self, NewRoot};
use crate::error::Failure;
use crate::spec::{ContainerSpec, Process, Root};
use crate::sys::{self, ms};
use anyhow::{Context, Result};
use std::ffi::{CString, OsStr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// What the child needs besides the spec.
pub struct ChildSetup<'a> {
    pub spec: &'a ContainerSpec,
    /// Where the new root is assembled: the rootfs, or the host view's staging directory.
    pub root: &'a Path,
    pub signal_mask: &'a sys::SigSet,
    /// Where to join the cgroup before exec, when clone could not start us in it
    /// (`cgroup::join_points`).
    pub join: &'a [(PathBuf, PathBuf)],
    /// The seccomp filters to install just before exec (none when unconfined).
    pub seccomp: Filters<'a>,
    /// `gocker create`: the exec fifo in the state directory. The init waits there, all
    /// built, until `gocker start` opens the other end (runc's exec fifo).
    pub gate: Option<&'a Path>,
    /// `run -d` with a copy-on-write root: the directory its layer is kept in
    /// (runtime/layer.rs), instead of the tmpfs that dies with the container.
    pub layer: Option<&'a Path>,
    /// `run -d`: the parent (the container's monitor) stays, so the parent death signal
    /// is kept through the gate's wait: a monitor SIGKILLed meanwhile takes the waiting
    /// init along (which holds a copy of the entry's lock until it execs) instead of
    /// leaving it there forever. It is cleared once the gate opens.
    pub monitored: bool,
    /// Namespaces given by path, joined before anything else is done (all but the pid
    /// namespace, which the parent entered for the clone).
    pub joined: &'a super::joined::Joined,
}

pub fn run(setup: ChildSetup, ends: ChildEnds) -> ! {
    // If gocker dies, so does the container: the kernel sends SIGKILL. The parent may
    // have died before this line; then its end of `ready` is closed, and we quit.
    let _ = sys::set_parent_death_signal(libc::SIGKILL);
    if !ends.parent_alive() {
        sys::exit_now(125);
    }
    match setup_and_exec(&setup, &ends) {
        Ok(never) => match never {},
        Err(e) => {
            let code = crate::error::exit_code_of(&e);
            ends.report_and_exit(code, &crate::error::one_line(&e))
        }
    }
}

enum Never {}

fn setup_and_exec(s: &ChildSetup, ends: &ChildEnds) -> Result<Never> {
    let spec = s.spec;
    // Whatever the caller left open (a secret file, a directory of the host: a way out)
    // must not reach the command: everything above stderr is closed at exec.
    sys::cloexec_from_3().context("mark inherited descriptors close-on-exec")?;
    // The gate is in the host's state directory: out of reach by path after pivot_root,
    // so held as an O_PATH descriptor and reopened for writing through /proc/self/fd.
    let gate = s
        .gate
        .map(|p| {
            sys::open(p, libc::O_PATH).with_context(|| format!("open exec fifo {}", p.display()))
        })
        .transpose()?;
    // The cgroup hierarchies to join through, opened now: after pivot_root they are out
    // of reach by path. The parent makes the cgroup meanwhile; the join is the last step
    // before exec, which also keeps the setup's page faults out of a fresh memory cgroup.
    let hierarchies = s
        .join
        .iter()
        .map(|(dir, _)| {
            sys::open(dir, libc::O_PATH | libc::O_DIRECTORY)
                .with_context(|| format!("open {}", dir.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    // After what is opened by the host's paths above: a joined mount namespace has its
    // own.
    s.joined.join_in_child()?;
    new_session()?;
    // /proc/sys is the host's /proc still, but a namespaced key's file shows the
    // namespace of whoever writes it: ours.
    for (key, value) in &spec.sysctl {
        let file = crate::spec::sysctl_file(key);
        std::fs::write(&file, value)
            .with_context(|| format!("write {value:?} to {} (sysctl)", file.display()))?;
    }
    if let Some(n) = spec.process.oom_score_adj {
        // Inherited by every process the command starts (proc(5)).
        std::fs::write("/proc/self/oom_score_adj", n.to_string())
            .with_context(|| format!("write {n} to /proc/self/oom_score_adj"))?;
    }
    if !spec.process.stdin && !spec.process.terminal {
        let null = sys::open(Path::new("/dev/null"), libc::O_RDONLY).context("open /dev/null")?;
        sys::dup2(null.as_raw_fd(), 0).context("connect stdin to /dev/null")?;
    }

    // Lesson 18 fails here on hosts with shared propagation (systemd's default): a
    // pivot_root whose mounts would propagate back to the host is refused with EINVAL.
    // A bundle may ask for slave (rootfsPropagation): the host's later mounts still
    // arrive, and nothing goes back either way.
    let propagation = if spec.rootfs_slave {
        ms::SLAVE
    } else {
        ms::PRIVATE
    };
    sys::mount(None, Path::new("/"), None, ms::REC | propagation, None)
        .context("make / private (mount --make-rprivate /, or --make-rslave)")?;
    crate::trace::step(2, crate::trace::private);
    let mut root = prepare_root(spec, s.root, s.layer)?;
    crate::trace::step(3, || crate::trace::root_call(spec, s.root));
    // Device nodes are for everyone (0666): no umask while the table is applied, and the
    // caller's back before anything of the container's runs.
    let umask = sys::umask(0);
    let applied = newroot::apply(&spec.mounts, &mut root);
    sys::umask(umask);
    applied?;
    if spec.process.terminal {
        terminal(&root, ends)?;
    }
    pivot(s.root, &root)?;
    crate::trace::step(5, crate::trace::pivoted);
    sys::sethostname(&spec.hostname).with_context(|| format!("sethostname {}", spec.hostname))?;
    crate::trace::step(6, || format!("sethostname({:?})", spec.hostname));
    enter_workdir(&spec.process.cwd)?;
    if spec.readonly_root {
        // After the workdir is made, as runc orders it; the mounts on / keep their flags.
        sys::mount(
            None,
            Path::new("/"),
            None,
            ms::REMOUNT | ms::BIND | ms::RDONLY,
            None,
        )
        .context("remount / read-only (root.readonly)")?;
    }
    if let Some(m) = spec.process.umask {
        // After the workdir is made and before the command runs, as runc sets it.
        sys::umask(m);
    }
    let command = resolve_command(&spec.process)?;
    drop(root);
    set_rlimits(&spec.rlimits)?;
    // The parent brings up lo meanwhile (see runtime::start_and_wait); the command may
    // use it from its first instruction.
    if !ends.wait_parent_ready() {
        // The parent died or gave up, and says why itself.
        sys::exit_now(125);
    }
    let join: Vec<(&OwnedFd, &Path)> = hierarchies
        .iter()
        .zip(s.join)
        .map(|(dir, (_, file))| (dir, file.as_path()))
        .collect();
    // The init joins before it drops privileges: a user other than root could not
    // write the cgroup's file. (join_and_exec then has nothing left to join.)
    join_cgroups(&join)?;
    let late = s.seccomp.before_cap_drop(spec.no_new_privs)?;
    drop_privileges_as(
        &spec.capabilities,
        spec.no_new_privs,
        Some(&spec.process.user),
    )?;
    let gate = gate.as_ref().map(|g| (g, ends, s.monitored));
    Err(join_and_exec(&[], s.signal_mask, gate, late, &command))
}

/// The seccomp filters a process gets as its last step: gocker's default filter (one
/// program), a bundle's profile (stacked programs), or none.
#[derive(Clone, Copy)]
pub(crate) struct Filters<'a> {
    pub programs: &'a [seccompiler::BpfProgram],
    /// A bundle's `linux.seccomp`, installed as `seccomp::profile` does.
    pub profile: bool,
}

impl Filters<'_> {
    pub const NONE: Filters<'static> = Filters {
        programs: &[],
        profile: false,
    };

    /// Called just before the capabilities are cut: without no_new_privs, installing a
    /// filter takes CAP_SYS_ADMIN, so a bundle's profile goes in now (runc's order, for
    /// the init and for exec) and must allow what is left (capset, prctl, setresuid,
    /// rt_sigprocmask, execve). Returns what is still to install at the end.
    pub(super) fn before_cap_drop(self, no_new_privs: bool) -> Result<Self> {
        if self.profile && !no_new_privs {
            self.install()?;
            return Ok(Filters::NONE);
        }
        Ok(self)
    }

    fn install(&self) -> Result<()> {
        match self.programs.first() {
            None => Ok(()),
            Some(_) if self.profile => crate::seccomp::profile::install(self.programs),
            Some(filter) => crate::seccomp::install(filter),
        }
    }
}

/// A command found and ready for execve(2): its path, argv and environment.
pub(super) struct Command {
    pub path: CString,
    pub argv: Vec<CString>,
    pub env: Vec<CString>,
}

/// A session of its own: terminal signals reach the container only through its own
/// terminal (-t) or through gocker's forwarding, never twice. And a fresh session
/// keyring (as runc does, for its init and for exec): none of gocker's keys are
/// inherited. A kernel without keys (ENOSYS) has nothing to inherit.
pub(super) fn new_session() -> Result<()> {
    sys::setsid().context("setsid")?;
    match sys::join_new_session_keyring() {
        Err(e) if e.raw_os_error() != Some(libc::ENOSYS) => {
            Err(e).context("join a new session keyring (keyctl)")
        }
        _ => Ok(()),
    }
}

pub(super) fn set_rlimits(rlimits: &[crate::spec::Rlimit]) -> Result<()> {
    for r in rlimits {
        sys::set_rlimit(r.resource, r.soft, r.hard)
            .with_context(|| format!("setrlimit {} {} {}", r.resource, r.soft, r.hard))?;
    }
    Ok(())
}

/// The last steps of the init and of every exec'd process, in this order: into the
/// cgroup (each `(dir, file)`: write 0 to `file` under the open `dir`), from where on the
/// limits hold; the signal dispositions and mask the command should start with; the
/// seccomp filter; execve. `create`'s init waits at its `gate` before the filter. Returns
/// only on failure, with the reason in the learner's words.
pub(super) fn join_and_exec(
    join: &[(&OwnedFd, &Path)],
    signal_mask: &sys::SigSet,
    gate: Option<(&OwnedFd, &ChildEnds, bool)>,
    seccomp: Filters,
    command: &Command,
) -> anyhow::Error {
    match try_join_and_exec(join, signal_mask, gate, seccomp, command) {
        Ok(never) => match never {},
        Err(e) => e,
    }
}

fn try_join_and_exec(
    join: &[(&OwnedFd, &Path)],
    signal_mask: &sys::SigSet,
    gate: Option<(&OwnedFd, &ChildEnds, bool)>,
    seccomp: Filters,
    command: &Command,
) -> Result<Never> {
    join_cgroups(join)?;
    sys::restore_sigpipe();
    sys::set_signal_mask(signal_mask).context("restore the signal mask")?;
    if let Some((gate, ends, monitored)) = gate {
        wait_at_gate(gate, ends, monitored)?;
    }
    let Command { path, argv, env } = command;
    crate::trace::step(8, || format!("execve({path:?}, {argv:?})"));
    // The last step: from here on only the allowed system calls work, execve among them.
    seccomp.install()?;
    let err = sys::execve(path, argv, env);
    let name = argv[0].to_string_lossy();
    // Only now, on the way out, is it worth a stat to say why in the learner's words.
    let path = Path::new(OsStr::from_bytes(path.as_bytes()));
    let reason = if path.is_dir() {
        "is a directory".to_string()
    } else {
        crate::error::os_reason(&err)
    };
    let failure = if err.raw_os_error() == Some(libc::ENOENT) {
        Failure::NotFound
    } else {
        Failure::CannotInvoke
    };
    Err(failure.with(format!("exec {name}: {reason}")))
}

/// Into the container's cgroup (each `(dir, file)`: write 0 to `file` under the open
/// `dir`): from here on, the limits hold.
pub(super) fn join_cgroups(join: &[(&OwnedFd, &Path)]) -> Result<()> {
    if join.is_empty() {
        return Ok(());
    }
    for (dir, file) in join {
        sys::openat(dir, file, libc::O_WRONLY)
            .and_then(|f| sys::write_all(f.as_raw_fd(), b"0"))
            .with_context(|| {
                format!("join the container's cgroup: write 0 to {}", file.display())
            })?;
    }
    crate::trace::step_if(7, crate::trace::cgroup_joined);
    Ok(())
}

/// `create`'s init, all built: outlive `gocker create` (its parent) from here on, tell it
/// we are ready, and wait until `gocker start` opens the fifo's other end. Opening a fifo
/// for writing blocks until a reader comes; the byte then tells `start` we went on.
/// Seccomp comes after this, as in runc: the wait itself needs open and write.
fn wait_at_gate(gate: &std::os::fd::OwnedFd, ends: &ChildEnds, monitored: bool) -> Result<()> {
    if !monitored {
        sys::set_parent_death_signal(0).context("clear the parent death signal")?;
    }
    ends.report_gated()?;
    let path = PathBuf::from(format!("/proc/self/fd/{}", gate.as_raw_fd()));
    let fifo = sys::open(&path, libc::O_WRONLY)
        .with_context(|| format!("open the exec fifo for writing ({})", path.display()))?;
    if monitored {
        // Started: from here on the container outlives its monitor.
        sys::set_parent_death_signal(0).context("clear the parent death signal")?;
    }
    sys::write_all(fifo.as_raw_fd(), b"0").context("write to the exec fifo")
}

/// -t: a pseudo-terminal from the container's own devpts (mounted by `newroot::apply`), so the
/// command can name it (`tty` prints /dev/pts/0). The master goes to gocker over the
/// console socket, as an OCI runtime hands it to its caller; the slave becomes our
/// controlling terminal and stdio.
fn terminal(root: &NewRoot, ends: &ChildEnds) -> Result<()> {
    let ptmx = root
        .resolve(Path::new("/dev/pts/ptmx"), 0, true)
        .context("open /dev/pts/ptmx in the container")?;
    let (master, slave) = sys::open_pty_at(&ptmx).context("open a pseudo-terminal (-t)")?;
    // Our stdin is still the caller's: give the new terminal its size before anything
    // runs on it.
    let _ = sys::copy_winsize(0, slave.as_raw_fd());
    ends.send_console(&master)?;
    drop(master);
    sys::set_controlling_tty(slave.as_raw_fd()).context("make the pseudo-terminal controlling")?;
    for fd in 0..3 {
        sys::dup2(slave.as_raw_fd(), fd).context("connect the pseudo-terminal")?;
    }
    Ok(())
}

fn prepare_root(spec: &ContainerSpec, root: &Path, layer: Option<&Path>) -> Result<NewRoot> {
    match &spec.root {
        // pivot_root needs the new root to be a mount point; binding the directory onto
        // itself makes it one (the lesson's MS_BIND|MS_REC).
        Root::Dir(_) => {
            sys::mount(Some(root), root, None, ms::BIND | ms::REC, None).map_err(|e| {
                let hint = if e.raw_os_error() == Some(libc::EINVAL) {
                    " (the filesystem cannot be bind-mounted onto itself)"
                } else {
                    ""
                };
                anyhow::Error::new(e)
                    .context(format!("bind rootfs {} onto itself{hint}", root.display()))
            })?
        }
        // The rootfs as the lower layer of an overlay on the layer's merged/ (`root`),
        // upper/ and work/ beside it on the layer's tmpfs over the rootfs's path
        // (runtime/layer.rs).
        Root::Overlay(lower) => super::layer::mount_layer(lower, layer)?,
        Root::HostView => sys::mount(
            Some(Path::new("tmpfs")),
            root,
            Some("tmpfs"),
            ms::NOSUID | ms::NODEV,
            Some("mode=755"),
        )
        .with_context(|| format!("mount tmpfs root on {}", root.display()))?,
    }
    NewRoot::open(root)
}

/// Filesystem magic numbers (statfs(2)) of an initramfs root.
const RAMFS_MAGIC: i64 = 0x8584_58f6;
const TMPFS_MAGIC: i64 = 0x0102_1994;

/// pivot_root(".", "."): the old root ends up stacked on the new one, and a detached
/// unmount of "." removes it. No `.pivot_root` directory is made, so none can be left.
/// On a host whose `/` is the initramfs, pivot_root cannot work (EINVAL: the initial
/// rootfs can never be unmounted); then the new root is moved onto `/` and chroot'ed into,
/// as runc and crun do with --no-pivot.
fn pivot(path: &Path, root: &NewRoot) -> Result<()> {
    sys::chdir(path).with_context(|| format!("chdir {}", path.display()))?;
    match sys::pivot_root(Path::new("."), Path::new(".")) {
        Ok(()) => sys::umount_detach(Path::new(".")).context("detach the old root")?,
        Err(e)
            if e.raw_os_error() == Some(libc::EINVAL)
                && sys::fs_magic(Path::new("/"))
                    .is_ok_and(|m| m == RAMFS_MAGIC || m == TMPFS_MAGIC) =>
        {
            eprintln!(
                "gocker: / is an initramfs, which pivot_root cannot leave: moving the new root onto / and chroot'ing into it instead (as runc --no-pivot)"
            );
            sys::mount(Some(Path::new(".")), Path::new("/"), None, ms::MOVE, None)
                .with_context(|| format!("move {} onto /", path.display()))?;
            sys::chroot(Path::new(".")).context("chroot into the new root")?;
        }
        Err(e) => {
            return Err(e).with_context(|| format!("pivot_root into {}", path.display()));
        }
    }
    sys::chdir(Path::new("/")).context("chdir /")?;
    root.verify_pivoted()
}

/// Enter the workdir, creating it if missing. pivot left us in "/" already.
fn enter_workdir(cwd: &Path) -> Result<()> {
    if cwd == Path::new("/") {
        return Ok(());
    }
    match sys::chdir(cwd) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
            std::fs::create_dir_all(cwd)
                .with_context(|| format!("create workdir {}", cwd.display()))?;
            sys::chdir(cwd)
        }
        r => r,
    }
    .with_context(|| format!("chdir {}", cwd.display()))
}

/// Find the command the way a shell would, but with the container's PATH and inside
/// the container's root.
pub(super) fn resolve_command(p: &Process) -> Result<Command> {
    let name = &p.argv[0];
    let path = if name.as_bytes().contains(&b'/') {
        PathBuf::from(name)
    } else {
        let search = p
            .env
            .iter()
            .rev()
            .find_map(|e| e.as_bytes().strip_prefix(b"PATH="))
            .unwrap_or(crate::spec::DEFAULT_PATH.as_bytes());
        let mut denied = None;
        let found = search.split(|&b| b == b':').find_map(|dir| {
            let cand = Path::new(OsStr::from_bytes(dir)).join(name);
            let meta = std::fs::metadata(&cand).ok()?;
            if meta.is_file()
                && std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o111 != 0
            {
                Some(cand)
            } else {
                denied.get_or_insert(cand);
                None
            }
        });
        match (found, denied) {
            (Some(f), _) => f,
            (None, Some(d)) => {
                return Err(Failure::CannotInvoke.with(format!(
                    "exec {}: {} is not an executable file",
                    name.to_string_lossy(),
                    d.display()
                )));
            }
            (None, None) => {
                return Err(Failure::NotFound.with(format!(
                    "exec {}: executable file not found in PATH={}",
                    name.to_string_lossy(),
                    String::from_utf8_lossy(search)
                )));
            }
        }
    };
    let c = |s: &OsStr| sys::cstr(s).context("command line");
    let argv = p.argv.iter().map(|a| c(a)).collect::<Result<Vec<_>>>()?;
    let env = p.env.iter().map(|a| c(a)).collect::<Result<Vec<_>>>()?;
    Ok(Command {
        path: c(path.as_os_str())?,
        argv,
        env,
    })
}

/// Set the five capability sets to `caps` and `no_new_privs`, in runc's order: the
/// bounding set is cut first, then the switch to `user` (process.user), then
/// effective, permitted and inheritable (capset), then each ambient capability is raised
/// (the kernel wants it permitted and inheritable first), then no_new_privs. The
/// init's and every exec'd process's.
pub(super) fn drop_privileges_as(
    caps: &crate::spec::Capabilities,
    no_new_privs: bool,
    user: Option<&crate::spec::User>,
) -> Result<()> {
    // Capabilities this kernel does not know make PR_CAPBSET_DROP fail with EINVAL:
    // that is where the list ends (no need to read /proc/sys/kernel/cap_last_cap).
    for cap in caps.bounding.dropped(63) {
        match sys::drop_bounding_cap(cap) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => break,
            Err(e) => return Err(e).with_context(|| format!("drop capability {cap}")),
        }
    }
    if let Some(user) = user.filter(|u| !u.is_root()) {
        // Keep the permitted set across the change of uid, so that the sets below can
        // still be set; a command run by a user other than root then keeps only the
        // ambient set through execve, as under runc.
        sys::set_keep_caps(true).context("prctl PR_SET_KEEPCAPS")?;
        sys::set_user(user.uid, user.gid, &user.additional_gids).with_context(|| {
            format!(
                "switch to uid {} gid {} groups {:?}",
                user.uid, user.gid, user.additional_gids
            )
        })?;
        sys::set_keep_caps(false).context("prctl PR_SET_KEEPCAPS")?;
    }
    // The bounding set limits what execve grants, but not what the inheritable and
    // ambient sets carry through it: a caller holding inheritable CAP_SYS_ADMIN would hand
    // it on. So every set is set whole, to the spec's alone, and the caller's ambient
    // set is emptied before the spec's is raised.
    sys::clear_ambient_caps().context("clear the ambient capabilities")?;
    sys::set_caps(caps.effective.0, caps.permitted.0, caps.inheritable.0)
        .context("set the capability sets (capset)")?;
    for cap in caps.ambient.members() {
        sys::raise_ambient_cap(cap).with_context(|| {
            format!("raise ambient capability {cap} (prctl PR_CAP_AMBIENT_RAISE)")
        })?;
    }
    if no_new_privs {
        sys::set_no_new_privs().context("set no_new_privs")?;
    }
    Ok(())
}
