//! The container's side: everything between clone and execve, in the new namespaces.
//!
//! This is the lesson's `InitCommand` without the re-exec: private propagation, the new
//! root and its mounts, pivot_root, hostname, dropped privileges, the cgroup (v1), then
//! the command itself as PID 1. (The parent brings up loopback meanwhile.) It never
//! returns: it execs, or reports and exits.

use super::channel::ChildEnds;
use crate::error::Failure;
use crate::mounts::{CallSource, MountCall, MountKind};
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
    /// The pseudo-terminal's slave end, with -t.
    pub tty: Option<OwnedFd>,
    pub signal_mask: &'a sys::SigSet,
    /// Where to join the cgroup before exec, when clone could not start us in it
    /// (`cgroup::join_points`).
    pub join: &'a [(PathBuf, PathBuf)],
    /// The seccomp filter to install just before exec; `None` when unconfined.
    pub seccomp: Option<&'a seccompiler::BpfProgram>,
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
    // A session of its own: terminal signals reach the container only through its
    // own terminal (-t) or through gocker's forwarding, never twice.
    sys::setsid().context("setsid")?;
    // A fresh session keyring (as runc does): none of gocker's keys are inherited. A
    // kernel without keys (ENOSYS) has nothing to inherit.
    match sys::join_new_session_keyring() {
        Err(e) if e.raw_os_error() != Some(libc::ENOSYS) => {
            Err(e).context("join a new session keyring (keyctl)")?
        }
        _ => {}
    }
    stdio(&spec.process, s.tty.as_ref())?;

    // Lesson 18 fails here on hosts with shared propagation (systemd's default): a
    // pivot_root whose mounts would propagate back to the host is refused with EINVAL.
    sys::mount(None, Path::new("/"), None, ms::REC | ms::PRIVATE, None)
        .context("make / private (mount --make-rprivate /)")?;
    prepare_root(spec, s.root)?;
    mount_all(spec, s.root)?;
    pivot(s.root)?;
    sys::sethostname(&spec.hostname).with_context(|| format!("sethostname {}", spec.hostname))?;
    enter_workdir(&spec.process.cwd)?;
    let (path, argv, env) = resolve_command(&spec.process)?;
    drop_privileges()?;
    // The parent brings up lo meanwhile (see runtime::start_and_wait); the command may
    // use it from its first instruction.
    if !ends.wait_parent_ready() {
        // The parent died or gave up, and says why itself.
        sys::exit_now(125);
    }
    // Into the cgroup (v1): from here on, the limits hold for the command.
    for (dir, (_, file)) in hierarchies.iter().zip(s.join) {
        sys::openat(dir, file, libc::O_WRONLY)
            .and_then(|f| sys::write_all(f.as_raw_fd(), b"0"))
            .with_context(|| {
                format!("join the container's cgroup: write 0 to {}", file.display())
            })?;
    }
    sys::restore_sigpipe();
    sys::set_signal_mask(s.signal_mask).context("restore the signal mask")?;
    // The last step: from here on only the allowed system calls work, execve among them.
    if let Some(filter) = s.seccomp {
        crate::seccomp::install(filter)?;
    }
    let err = sys::execve(&path, &argv, &env);
    let name = spec.process.argv[0].to_string_lossy();
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

/// Every entry of `spec.mounts`, under the new root `root`, in order.
fn mount_all(spec: &ContainerSpec, root: &Path) -> Result<()> {
    // A root with its own /dev keeps it (mounts::ROOT_HAS_DEV).
    let root_has_dev = spec.mounts.iter().any(|m| m.dev)
        && std::fs::metadata(inside(root, Path::new(crate::mounts::ROOT_HAS_DEV)))
            .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_char_device(&m.file_type()));
    for m in &spec.mounts {
        if m.dev && root_has_dev {
            continue;
        }
        let target = inside(root, &m.target);
        match &m.kind {
            MountKind::Symlink { to } => {
                match sys::symlink(to, &target) {
                    Err(e) if m.optional && e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    r => {
                        r.with_context(|| format!("create symlink {} -> {to}", target.display()))?
                    }
                }
                continue;
            }
            MountKind::Device { major, minor } => {
                sys::mknod_char(&target, 0o666, *major, *minor)
                    .and_then(|()| {
                        // mknod applies the umask; these nodes are for everyone.
                        std::fs::set_permissions(
                            &target,
                            std::os::unix::fs::PermissionsExt::from_mode(0o666),
                        )
                    })
                    .with_context(|| format!("mknod {} c {major} {minor}", target.display()))?;
                continue;
            }
            _ => {}
        }
        // Mount first and look only when the kernel says the target is missing: most
        // targets exist, and a stat each is a system call on every start.
        let calls = m.calls();
        let Some((first, rest)) = calls.split_first() else {
            continue;
        };
        match do_mount(root, first) {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) && m.optional => continue,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) && m.mountpoint_is_dir().is_some() => {
                make_mountpoint(&target, m.mountpoint_is_dir() == Some(true))?;
                do_mount(root, first).map_err(|e| mount_error(root, first, e))?;
            }
            r => r.map_err(|e| mount_error(root, first, e))?,
        }
        for call in rest {
            do_mount(root, call).map_err(|e| mount_error(root, call, e))?;
        }
    }
    Ok(())
}

fn inside(root: &Path, p: &Path) -> PathBuf {
    root.join(p.strip_prefix("/").unwrap_or(p))
}

fn stdio(p: &Process, tty: Option<&OwnedFd>) -> Result<()> {
    if let Some(t) = tty {
        sys::set_controlling_tty(t.as_raw_fd()).context("make the pseudo-terminal controlling")?;
        for fd in 0..3 {
            sys::dup2(t.as_raw_fd(), fd).context("connect the pseudo-terminal")?;
        }
    } else if !p.stdin {
        let null = sys::open(Path::new("/dev/null"), libc::O_RDONLY).context("open /dev/null")?;
        sys::dup2(null.as_raw_fd(), 0).context("connect stdin to /dev/null")?;
    }
    Ok(())
}

fn prepare_root(spec: &ContainerSpec, root: &Path) -> Result<()> {
    match &spec.root {
        // pivot_root needs the new root to be a mount point; binding the directory onto
        // itself makes it one (the lesson's MS_BIND|MS_REC).
        Root::Dir(_) => sys::mount(Some(root), root, None, ms::BIND | ms::REC, None).map_err(|e| {
            let hint = if e.raw_os_error() == Some(libc::EINVAL) {
                " (the filesystem cannot be bind-mounted onto itself)"
            } else {
                ""
            };
            anyhow::Error::new(e)
                .context(format!("bind rootfs {} onto itself{hint}", root.display()))
        }),
        Root::HostView => sys::mount(
            Some(Path::new("tmpfs")),
            root,
            Some("tmpfs"),
            ms::NOSUID | ms::NODEV,
            Some("mode=755"),
        )
        .with_context(|| format!("mount tmpfs root on {}", root.display())),
    }
}

fn make_mountpoint(target: &Path, dir: bool) -> Result<()> {
    let made = if dir {
        std::fs::create_dir_all(target)
    } else {
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).ok();
        }
        std::fs::File::create(target).map(drop)
    };
    made.with_context(|| {
        format!(
            "create mount point {} (is the rootfs read-only? create it in the image)",
            target.display()
        )
    })
}

/// The mount(2) call `c`, under `root`.
fn do_mount(root: &Path, c: &MountCall) -> std::io::Result<()> {
    let target = inside(root, &c.target);
    let source = call_source(root, c);
    sys::mount(source.as_deref(), &target, c.fstype, c.flags, c.data)
}

fn call_source(root: &Path, c: &MountCall) -> Option<PathBuf> {
    c.source.as_ref().map(|s| match s {
        CallSource::Host(p) => p.clone(),
        CallSource::Container(p) => inside(root, p),
        CallSource::Name(n) => PathBuf::from(n),
    })
}

/// The error of a failed mount call, naming what was mounted where.
fn mount_error(root: &Path, c: &MountCall, e: std::io::Error) -> anyhow::Error {
    let target = inside(root, &c.target);
    let what = match (call_source(root, c), c.fstype) {
        _ if c.flags & ms::REMOUNT != 0 => "remount".to_string(),
        (Some(s), None) => format!("bind {}", s.display()),
        (_, Some(t)) => format!("mount {t}"),
        (None, None) => "mount".into(),
    };
    anyhow::Error::new(e).context(format!("{what} on {}", target.display()))
}

/// pivot_root(".", "."): the old root ends up stacked on the new one, and a detached
/// unmount of "." removes it. No `.pivot_root` directory is made, so none can be left.
fn pivot(root: &Path) -> Result<()> {
    sys::chdir(root).with_context(|| format!("chdir {}", root.display()))?;
    sys::pivot_root(Path::new("."), Path::new("."))
        .with_context(|| format!("pivot_root into {}", root.display()))?;
    sys::umount_detach(Path::new(".")).context("detach the old root")?;
    sys::chdir(Path::new("/")).context("chdir /")
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
fn resolve_command(p: &Process) -> Result<(CString, Vec<CString>, Vec<CString>)> {
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
    Ok((c(path.as_os_str())?, argv, env))
}

fn drop_privileges() -> Result<()> {
    // Capabilities this kernel does not know make PR_CAPBSET_DROP fail with EINVAL:
    // that is where the list ends (no need to read /proc/sys/kernel/cap_last_cap).
    for cap in crate::security::dropped_caps(63) {
        match sys::drop_bounding_cap(cap) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => break,
            Err(e) => return Err(e).with_context(|| format!("drop capability {cap}")),
        }
    }
    sys::set_no_new_privs().context("set no_new_privs")
}
