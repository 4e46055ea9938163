//! `gocker run -d`: a container that outlives the command and its terminal, with no
//! daemon. A small monitor process per container (the role conmon plays for podman) is
//! the init's parent: it holds the container's output (a log file in the state
//! directory), reaps the init and records its exit status, and with `--rm` removes it.
//!
//! The way there is the OCI path: `gocker run -d` forks the monitor, which starts a
//! session of its own (no controlling terminal, so no SIGHUP when the terminal goes; one
//! fork, not a daemon's two: it never opens a terminal that could become its controlling
//! one) and is init's (or a subreaper's) child once `run -d` exits. It makes the
//! container with `create::create` (the init waits at the exec fifo), saves the record,
//! `start`s it, and only then tells `run -d` over a pipe that it runs, or why not (so
//! `run -d` exits 125 with the message); then it waits. It is one thread, ignores SIGHUP,
//! SIGINT and SIGQUIT once the container runs (never the container's own), and keeps
//! nothing open but the state it needs.
//!
//! Every step leaves the store consistent if someone SIGKILLs it: the record is saved
//! (atomically, under the entry's lock) before anything is made that `rm` must find, so
//! `rm -f` can clean up after a monitor killed at any moment: it finds the cgroup by the
//! id even when the record has no pid yet.

use super::{control, create};
use crate::error::{Failure, fail};
use crate::host::Roots;
use crate::spec::{ContainerSpec, Root};
use crate::state::{self, Entry, Record, Status, Store};
use crate::sys;
use anyhow::{Context, Result};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The container's output, in its state directory.
pub const LOG_FILE: &str = "container.log";
/// Where a copy-on-write root's `upper/` and `work/` are kept (`Record.layer`).
pub const LAYER_DIR: &str = "layer";

/// How `run -d` was asked to run the container.
#[derive(Debug, Clone, Default)]
pub struct Detach {
    pub name: Option<String>,
    /// `--rm`: removed by the monitor once it exited.
    pub auto_remove: bool,
    /// `-i`: stdin a pipe the monitor holds open (never written), so that a shell in the
    /// container waits instead of reading EOF.
    pub interactive: bool,
}

/// Start `spec` detached in `store`; returns its id once the command runs.
pub fn run_detached(
    spec: &ContainerSpec,
    roots: &Roots,
    store: &Store,
    d: &Detach,
) -> Result<String> {
    if spec.process.terminal {
        fail(
            Failure::Usage,
            "run -d with a terminal (-t, or process.terminal in a bundle) is not supported yet: drop -t (or set terminal to false), and use `gocker exec -it ID sh` for a shell in it",
        )?;
    }
    if let Some(n) = &d.name {
        state::validate_name(n)?;
    }
    let id = state::new_id()?;
    let mut spec = spec.clone();
    // The cgroup leaf is gocker/<id>: never a pid, so no run's sweep takes it for a
    // leftover of a dead gocker.
    spec.id = id.clone();
    let (rx, tx) = sys::pipe().context("create the monitor's report pipe")?;
    match sys::fork().context("fork the container's monitor")? {
        0 => {
            drop(rx);
            // A session of its own: no controlling terminal, so the terminal's hang-up
            // never reaches it, and it never gets one (it opens no terminal).
            let code = match sys::setsid() {
                Ok(()) => monitor(&spec, roots, store, d, tx),
                Err(e) => {
                    let msg = format!("error 125 start a session for the monitor: {e}\n");
                    let _ = sys::write_all(tx.as_raw_fd(), msg.as_bytes());
                    125
                }
            };
            sys::exit_now(code)
        }
        monitor => {
            drop(tx);
            // Never reaped here: once `run -d` exits, the monitor is init's (or a
            // subreaper's) child, as a daemon is.
            await_report(&rx, monitor)?;
            Ok(id)
        }
    }
}

/// What the monitor says: `ok` or `error CODE MESSAGE`. Its death before either is an
/// error too; it is noticed by its pid, since the waiting init holds a copy of the pipe
/// until it execs.
fn await_report(rx: &OwnedFd, monitor: sys::pid_t) -> Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(nl) = buf.iter().position(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(&buf[..nl]).into_owned();
            if line == "ok" {
                return Ok(());
            }
            let rest = line.strip_prefix("error ").unwrap_or(&line);
            let (code, msg) = rest.split_once(' ').unwrap_or(("125", rest));
            return Err(Failure::from_code(code.parse().unwrap_or(125)).with(msg.to_string()));
        }
        let ready =
            sys::poll_readable_for(&[rx.as_raw_fd()], 100).context("poll the monitor's report")?[0];
        if ready {
            match sys::read(rx.as_raw_fd(), &mut chunk).context("read the monitor's report")? {
                0 => break,
                n => buf.extend_from_slice(&chunk[..n]),
            }
        } else if matches!(sys::waitpid(monitor, true), Ok(Some(_)) | Err(_)) {
            // Exited (or killed) without a word; one last look for a report it wrote.
            if sys::poll_ready_now(rx.as_raw_fd()).unwrap_or(false)
                && let Ok(n @ 1..) = sys::read(rx.as_raw_fd(), &mut chunk)
            {
                buf.extend_from_slice(&chunk[..n]);
                continue;
            }
            break;
        }
    }
    fail(
        Failure::Host,
        "the container's monitor exited before the container started (see gocker ps -a)",
    )
}

/// The monitor: make and start the container, report, wait, record, exit.
fn monitor(spec: &ContainerSpec, roots: &Roots, store: &Store, d: &Detach, tx: OwnedFd) -> i32 {
    // Nothing of the caller's tree stays busy (an unmount of the caller's directory).
    let _ = std::env::set_current_dir("/");
    let started = match start(spec, roots, store, d) {
        Ok(s) => s,
        Err(e) => {
            let code = crate::error::exit_code_of(&e);
            let msg = format!("error {code} {}\n", crate::error::one_line(&e));
            let _ = sys::write_all(tx.as_raw_fd(), msg.as_bytes());
            return code;
        }
    };
    // Only now: an ignored signal stays ignored across execve, so ignoring them before
    // the init was cloned would have made the container deaf to them too. Until here the
    // new session already kept the terminal's signals away.
    for sig in [libc::SIGHUP, libc::SIGINT, libc::SIGQUIT] {
        let _ = sys::ignore_signal(sig);
    }
    let _ = sys::write_all(tx.as_raw_fd(), b"ok\n");
    drop(tx);
    let Started {
        pid,
        stdin_keep,
        record_id,
    } = started;
    let status = loop {
        match sys::waitpid(pid, false) {
            Ok(Some(s)) => break s,
            Ok(None) => continue,
            // Not our child any more (cannot happen), or gone: nothing to record.
            Err(_) => return 0,
        }
    };
    drop(stdin_keep);
    let code = match status {
        sys::WaitStatus::Exited(c) => c,
        sys::WaitStatus::Signaled(s) => 128 + s,
    };
    let _ = record_exit(store, roots, &record_id, code);
    0
}

struct Started {
    pid: sys::pid_t,
    /// `-i`: the write end of the container's stdin, held until it exits.
    stdin_keep: Option<OwnedFd>,
    record_id: String,
}

fn start(spec: &ContainerSpec, roots: &Roots, store: &Store, d: &Detach) -> Result<Started> {
    let entry = store.create_named(&spec.id, d.name.as_deref())?;
    let made = make(spec, roots, &entry, d);
    match made {
        Ok(s) => Ok(s),
        Err(e) => {
            // The record (if saved) names what exists; `remove` takes it all.
            let record = entry.load().ok();
            match record {
                Some(r) => {
                    let _ = remove(store, roots, entry, &r, true);
                }
                None => {
                    let _ = entry.remove();
                    if let Some(n) = &d.name {
                        let _ = store.release_name(n, &spec.id);
                    }
                }
            }
            Err(e)
        }
    }
}

fn make(spec: &ContainerSpec, roots: &Roots, entry: &Entry, d: &Detach) -> Result<Started> {
    let dir = entry.dir();
    let log = dir.join(LOG_FILE);
    let layer = match &spec.root {
        Root::Overlay(_) => {
            let l = dir.join(LAYER_DIR);
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&l)
                .with_context(|| format!("create the layer directory {}", l.display()))?;
            Some(l)
        }
        _ => None,
    };
    let mut record = Record {
        id: spec.id.clone(),
        name: d.name.clone(),
        bundle: None,
        pid: 0,
        pid_start_time: 0,
        created: state::rfc3339_utc_now(),
        cgroup_dirs: vec![],
        cgroup_version: String::new(),
        status_hint: Status::Created.as_str().to_string(),
        annotations: Default::default(),
        spec: spec.clone(),
        layer: layer.clone(),
        exit_code: None,
        started: None,
        finished: None,
        auto_remove: d.auto_remove,
        monitor_pid: sys::getpid(),
        monitor_start_time: state::proc_start(sys::getpid()).map_or(0, |(t, _)| t),
        log: Some(log.clone()),
    };
    // Saved before anything else exists: a monitor SIGKILLed from here on leaves a
    // record that `rm -f` can clean up after (the cgroup is found by the id).
    entry.save(&record)?;
    let log_fd = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(&log)
        .with_context(|| format!("open the container's log {}", log.display()))?;
    let (stdin_fd, stdin_keep) = if d.interactive {
        let (r, w) = sys::pipe().context("create the container's stdin")?;
        (r, Some(w))
    } else {
        (
            sys::open(Path::new("/dev/null"), libc::O_RDONLY).context("open /dev/null")?,
            None,
        )
    };
    // `create` hands our 0-2 to the container.
    sys::dup2(stdin_fd.as_raw_fd(), 0).context("connect the container's stdin")?;
    sys::dup2(log_fd.as_raw_fd(), 1).context("connect the container's stdout")?;
    sys::dup2(log_fd.as_raw_fd(), 2).context("connect the container's stderr")?;
    drop((stdin_fd, log_fd));
    let created = create::create(spec, roots, dir, None, layer.as_deref(), true)?;
    // The monitor's own stdio is nobody's: nothing it writes may land in the log.
    if let Ok(null) = sys::open(Path::new("/dev/null"), libc::O_RDWR) {
        for fd in 0..3 {
            let _ = sys::dup2(null.as_raw_fd(), fd);
        }
    }
    record.pid = created.pid;
    record.pid_start_time = created.pid_start_time;
    record.cgroup_dirs = created.cgroup_dirs;
    record.cgroup_version = created.cgroup_version.name().to_string();
    record.started = Some(state::rfc3339_utc_now());
    // Saved by `start`, with the init's pid (a save more cost 2-5 ms on this machine's
    // ext4: a rename over a file flushes the new one). A monitor killed before that
    // takes the waiting init with it (its parent death signal is kept through the
    // gate), or, once the gate opened, leaves it in its cgroup, which `rm -f` finds by
    // the id.
    create::start(entry, &mut record)?;
    Ok(Started {
        pid: created.pid,
        stdin_keep,
        record_id: record.id,
    })
}

/// The init exited with `code`: recorded, its (now empty) cgroup removed, and with
/// `--rm` everything else too.
fn record_exit(store: &Store, roots: &Roots, id: &str, code: i32) -> Result<()> {
    // Gone already: an `rm -f` got there first.
    let entry = store.open_entry(id)?;
    let mut record = entry.load()?;
    record.exit_code = Some(code);
    record.finished = Some(state::rfc3339_utc_now());
    entry.save(&record)?;
    let _ = control::remove_cgroups(&record);
    if record.auto_remove {
        remove(store, roots, entry, &record, true)?;
    }
    Ok(())
}

/// Remove the container: with `force` a running one is killed first (else refused);
/// then its cgroup, its state directory (its layer and log with it) and its name.
pub fn remove(
    store: &Store,
    roots: &Roots,
    entry: Entry,
    record: &Record,
    force: bool,
) -> Result<()> {
    let mut record = record.clone();
    // A monitor killed before it saved the cgroup: found by the id.
    if record.cgroup_dirs.is_empty() {
        record.cgroup_dirs = leaf_dirs(roots, &record.spec);
    }
    let status = record.status();
    if !force && matches!(status, Status::Running | Status::Paused) {
        fail(
            Failure::Usage,
            format!(
                "cannot remove container {}: it is {status} (stop it first, or use rm -f)",
                state::short(&record.id)
            ),
        )?;
    }
    control::delete(entry, &record, force)?;
    if let Some(n) = &record.name {
        store.release_name(n, &record.id)?;
    }
    Ok(())
}

/// The container's cgroup directories that exist, by its leaf (gocker/<id>), in every
/// mounted hierarchy (v1) or the one tree (v2).
fn leaf_dirs(roots: &Roots, spec: &ContainerSpec) -> Vec<PathBuf> {
    let leaf = spec.cgroup_leaf();
    let mut dirs = vec![roots.cgroup.join(&leaf)];
    if let Ok(rd) = std::fs::read_dir(&roots.cgroup) {
        dirs.extend(rd.flatten().map(|e| e.path().join(&leaf)));
    }
    dirs.retain(|d| d.is_dir());
    dirs
}

/// `stop`: `sig` (SIGTERM unless the spec says otherwise) to the init, SIGKILL after
/// `timeout`; returns once the monitor recorded the exit (or is gone), so that a `ps -a`
/// that follows shows the code.
pub fn stop(store: &Store, record: &Record, timeout: Duration) -> Result<()> {
    if record.status() != Status::Stopped {
        // A frozen process does not die until thawed.
        if record.status() == Status::Paused {
            let _ = control::freeze(record, false);
        }
        let _ = control::kill(record, libc::SIGTERM, false);
        if control::wait_until(timeout, || !record.init_alive()).is_err() {
            let _ = control::kill(record, libc::SIGKILL, true);
            let _ = control::kill(record, libc::SIGKILL, false);
            control::wait_until(Duration::from_secs(10), || !record.init_alive())
                .with_context(|| format!("wait for container {} to die", record.id))?;
        }
    }
    // The monitor reaps and records within moments; one that was killed never will.
    let recorded = || match store.peek(&record.id) {
        Ok(r) => r.exit_code.is_some() || !r.monitor_alive(),
        Err(_) => true,
    };
    let _ = control::wait_until(Duration::from_secs(10), recorded);
    Ok(())
}
