//! The OCI commands on a container that exists: `state`, `kill`, `delete`, `ps`, `pause`,
//! `resume`. Each takes the record from the state store (locked by the caller) and acts
//! on the init's pid and the container's cgroup; none of them is the init's parent.

use crate::error::{Failure, fail};
use crate::state::{Entry, Record, Status};
use crate::sys;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The OCI runtime spec version the state JSON follows.
pub const OCI_VERSION: &str = "1.0.2";

/// The OCI state of the container, as `runc state` prints it (2-space indented JSON).
pub fn state_json(record: &Record) -> serde_json::Value {
    let status = record.status();
    let rootfs = match &record.spec.root {
        crate::spec::Root::Dir(p) | crate::spec::Root::Overlay(p) => p.display().to_string(),
        crate::spec::Root::HostView => String::new(),
    };
    serde_json::json!({
        "ociVersion": OCI_VERSION,
        "id": record.id,
        // runc's convention: no pid once the init is gone (it may be someone else's now).
        "pid": if status == Status::Stopped { 0 } else { record.pid },
        "status": status.as_str(),
        "bundle": record.bundle.as_ref().map(|b| b.display().to_string()).unwrap_or_default(),
        "rootfs": rootfs,
        "created": record.created,
        "owner": "",
        "annotations": record.annotations,
    })
}

/// The pids in the container's cgroup (host pids, sorted); just the init when it has no
/// cgroup of its own.
pub fn pids(record: &Record) -> Vec<i32> {
    let mut pids: Vec<i32> = record
        .cgroup_dirs
        .iter()
        .find_map(|d| std::fs::read_to_string(d.join("cgroup.procs")).ok())
        .map(|s| s.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_else(|| {
            if record.init_alive() {
                vec![record.pid]
            } else {
                vec![]
            }
        });
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// Send `sig` to the init, or with `all` to every process in the container's cgroup.
pub fn kill(record: &Record, sig: i32, all: bool) -> Result<()> {
    if record.status() == Status::Stopped {
        fail(
            Failure::Usage,
            format!("container {} is not running", record.id),
        )?;
    }
    if all {
        for pid in pids(record) {
            // One that exited since the list was read is fine (ESRCH).
            match sys::kill(pid, sig) {
                Err(e) if e.raw_os_error() != Some(libc::ESRCH) => {
                    Err(e).with_context(|| format!("kill {pid} with signal {sig}"))?
                }
                _ => {}
            }
        }
        return Ok(());
    }
    sys::kill(record.pid, sig).with_context(|| format!("kill {} with signal {sig}", record.pid))
}

/// Remove the container: its processes (a created one's init waits at its gate and is
/// killed; a running one only with `force`), its cgroup and its state directory.
pub fn delete(entry: Entry, record: &Record, force: bool) -> Result<()> {
    let status = record.status();
    match status {
        Status::Running | Status::Paused if !force => fail(
            Failure::Usage,
            format!(
                "cannot delete container {}: it is {status} (stop it first, or use delete --force)",
                record.id
            ),
        )?,
        _ => {}
    }
    if status != Status::Stopped {
        // A frozen process does not die until thawed; SIGKILL queued first, then thaw.
        let _ = kill(record, libc::SIGKILL, true);
        let _ = kill(record, libc::SIGKILL, false);
        if status == Status::Paused {
            freeze(record, false)?;
        }
        wait_until(Duration::from_secs(10), || !record.init_alive())
            .with_context(|| format!("wait for container {} to die", record.id))?;
    }
    remove_cgroups(record)?;
    entry.remove()
}

/// The init of a pid namespace takes everyone else in it when it dies, but the kernel
/// needs a moment; the cgroup cannot be removed before its last process left.
pub(crate) fn remove_cgroups(record: &Record) -> Result<()> {
    let _ = wait_until(Duration::from_secs(5), || pids(record).is_empty());
    for pid in pids(record) {
        let _ = sys::kill(pid, libc::SIGKILL);
    }
    let mut first_err = None;
    for d in &record.cgroup_dirs {
        if let Err(e) = rmdir_retrying(d) {
            first_err.get_or_insert(e.context(format!("remove cgroup {}", d.display())));
        }
    }
    first_err.map_or(Ok(()), Err)
}

fn rmdir_retrying(dir: &Path) -> Result<()> {
    let mut last = None;
    let ok = wait_until(Duration::from_secs(5), || match std::fs::remove_dir(dir) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => {
            last = Some(e);
            false
        }
    });
    match (ok, last) {
        (Ok(()), _) => Ok(()),
        (Err(_), Some(e)) => Err(e.into()),
        (Err(e), None) => Err(e),
    }
}

pub(crate) fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + limit;
    let mut delay = Duration::from_micros(500);
    loop {
        if done() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            fail(Failure::Host, format!("still not done after {limit:?}"))?;
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(50));
    }
}

/// The freezer file of the container's cgroup: v1 `freezer.state`, v2 `cgroup.freeze`.
fn freezer(record: &Record) -> Result<(PathBuf, bool)> {
    for d in &record.cgroup_dirs {
        let v1 = d.join("freezer.state");
        if v1.exists() {
            return Ok((v1, true));
        }
        let v2 = d.join("cgroup.freeze");
        if v2.exists() {
            return Ok((v2, false));
        }
    }
    fail(
        Failure::Host,
        format!(
            "container {} has no freezer cgroup (v1 freezer controller or v2 cgroup.freeze)",
            record.id
        ),
    )
}

/// Freeze (`pause`) or thaw (`resume`) every process of the container, and wait until
/// the kernel says it is done (v1 FREEZING -> FROZEN; v2 `frozen 1` in cgroup.events).
pub fn freeze(record: &Record, frozen: bool) -> Result<()> {
    let (file, v1) = freezer(record)?;
    let value = match (v1, frozen) {
        (true, true) => "FROZEN",
        (true, false) => "THAWED",
        (false, true) => "1",
        (false, false) => "0",
    };
    std::fs::write(&file, value).with_context(|| format!("write {value} to {}", file.display()))?;
    let done = || {
        if v1 {
            std::fs::read_to_string(&file).is_ok_and(|s| s.trim() == value)
        } else {
            let events = file.with_file_name("cgroup.events");
            std::fs::read_to_string(&events).is_ok_and(|s| {
                s.lines()
                    .any(|l| l == if frozen { "frozen 1" } else { "frozen 0" })
            })
        }
    };
    wait_until(Duration::from_secs(5), done)
        .with_context(|| format!("wait for {} to read {value}", file.display()))
}

/// `pause`/`resume` with the state checks runc makes.
pub fn pause(record: &Record, frozen: bool) -> Result<()> {
    let status = record.status();
    let ok = if frozen {
        status == Status::Running
    } else {
        status == Status::Paused
    };
    if !ok {
        fail(
            Failure::Usage,
            format!(
                "cannot {} container {}: it is {status}",
                if frozen { "pause" } else { "resume" },
                record.id
            ),
        )?;
    }
    freeze(record, frozen)
}
