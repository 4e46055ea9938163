//! The state store of the OCI runtime commands: one directory per container under the
//! runtime root (`--root`, default `/run/gocker`), holding `state.json` and a lock file.
//!
//! `create` writes the record, and `start`, `state`, `kill`, `delete`, `exec` (and the
//! Docker-style `ps`/`stop`/`rm`) read it, each from its own process, possibly at the same
//! moment (containerd's two shims both `delete`). So every access goes through an `Entry`,
//! which holds an exclusive flock(2) on the container's lock file for as long as it lives,
//! and every save is a write to a temporary file and a rename(2) over `state.json`: a
//! reader never sees half a record, even one that reads without the lock.
//!
//! Whether the container still runs is never stored: it is computed from its init's pid,
//! checked against the start time recorded with it (a pid the kernel reused for another
//! process reads as stopped), and from the freezer of its cgroup.

use crate::error::{Failure, fail};
use crate::spec::ContainerSpec;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

mod names;
mod time;
pub use names::{new_id, short, validate_name};
pub use time::{parse_rfc3339_utc, rfc3339_utc, rfc3339_utc_now};

/// Where the containers' directories live unless `--root` says otherwise (runc: /run/runc).
pub const DEFAULT_ROOT: &str = "/run/gocker";

const STATE_FILE: &str = "state.json";
const LOCK_FILE: &str = "lock";

/// The runtime root: a directory of container directories.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// One container's directory, locked (flock, exclusive) until this is dropped.
#[derive(Debug)]
pub struct Entry {
    id: String,
    dir: PathBuf,
    // Held for the lock only: flock(2) locks belong to the open file description.
    lock: File,
}

/// What the runtime remembers about one container between commands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    /// A Docker-style name, for the `ps`/`rm` front end; the OCI commands use `id`.
    pub name: Option<String>,
    pub bundle: Option<PathBuf>,
    /// The container's init (PID 1 inside), as the host sees it.
    pub pid: i32,
    /// Field 22 of /proc/PID/stat when the init was recorded: a reused pid is not ours.
    pub pid_start_time: u64,
    /// RFC 3339, UTC.
    pub created: String,
    /// Every cgroup directory the container's processes are in (one per v1 hierarchy).
    pub cgroup_dirs: Vec<PathBuf>,
    /// "v1" or "v2".
    pub cgroup_version: String,
    /// "created" until `start` releases the init, then "running"; the live status is
    /// `status()`.
    pub status_hint: String,
    pub annotations: BTreeMap<String, String>,
    pub spec: ContainerSpec,
    /// The container's writable layer (`upper/` and `work/` of its overlay) when it must
    /// outlive the container's mount namespace (`export`, `commit` of a stopped one);
    /// removed with the container. None: no layer, or one that died with the container.
    #[serde(default)]
    pub layer: Option<PathBuf>,
    /// The Docker front end's (`run -d`): the init's exit status (128+N for signal N),
    /// recorded by the container's monitor once it reaped the init.
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// RFC 3339, UTC: when `start` released the init.
    #[serde(default)]
    pub started: Option<String>,
    /// RFC 3339, UTC: when the monitor saw the init exit.
    #[serde(default)]
    pub finished: Option<String>,
    /// `run --rm`: the monitor removes the container once it exited.
    #[serde(default)]
    pub auto_remove: bool,
    /// The monitor (the init's parent, which records its exit): pid and start time, as
    /// for the init; 0 for a container made by `gocker create`.
    #[serde(default)]
    pub monitor_pid: i32,
    #[serde(default)]
    pub monitor_start_time: u64,
    /// Where the container's stdout and stderr go (`gocker logs`).
    #[serde(default)]
    pub log: Option<PathBuf>,
}

/// The OCI runtime spec's container states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Created,
    Running,
    Stopped,
    Paused,
}

impl Status {
    /// As the OCI state JSON spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Stopped => "stopped",
            Status::Paused => "paused",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// runc's rule for ids (`^[\w+-\.]+$`): the id is a directory name under the root and a
/// cgroup name, so no `/`, no `..`, nothing a shell or a path would read twice.
pub fn validate_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 1024
        && id != "."
        && id != ".."
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-' | b'.'));
    if !ok {
        fail(
            Failure::Usage,
            format!(
                "invalid container id {id:?}: use letters, digits and '_' '+' '-' '.', not '.' or '..'"
            ),
        )?;
    }
    Ok(())
}

impl Store {
    /// The store at `root`, made (mode 0700: records name host pids and paths) if missing.
    pub fn open(root: &Path) -> Result<Store> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)
            .with_context(|| format!("create state directory {}", root.display()))?;
        // mkdir's mode applies only to a directory it makes: an existing root is tightened.
        fs::set_permissions(root, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("chmod state directory {}", root.display()))?;
        Ok(Store {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A new container directory, locked. Fails (125) when the id is taken. The record
    /// exists once the caller `save`s it; until then the id reads as not existing.
    pub fn create(&self, id: &str) -> Result<Entry> {
        validate_id(id)?;
        let dir = self.root.join(id);
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => fail(
                Failure::Usage,
                format!("container with id {id} already exists"),
            )?,
            Err(e) => {
                Err(e).with_context(|| format!("create state directory {}", dir.display()))?
            }
        }
        // Another command may reach the new directory before its lock file exists; both
        // sides create it and lock it, and the inode check in `lock` makes them agree.
        self.lock(id, dir)
    }

    /// The existing container `id`, locked (waits for whoever holds it).
    pub fn open_entry(&self, id: &str) -> Result<Entry> {
        validate_id(id)?;
        let dir = self.root.join(id);
        if !dir.is_dir() {
            return Err(does_not_exist(id));
        }
        let entry = self.lock(id, dir)?;
        if !entry.dir.join(STATE_FILE).exists() {
            return Err(does_not_exist(id));
        }
        Ok(entry)
    }

    /// The ids of the containers with a record, sorted.
    pub fn list(&self) -> Result<Vec<String>> {
        let rd = match fs::read_dir(&self.root) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => Err(e).with_context(|| format!("read {}", self.root.display()))?,
        };
        let mut ids = vec![];
        for ent in rd {
            let ent = ent.with_context(|| format!("read {}", self.root.display()))?;
            let Ok(name) = ent.file_name().into_string() else {
                continue;
            };
            if validate_id(&name).is_ok() && ent.path().join(STATE_FILE).exists() {
                ids.push(name);
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// The record of `id` read without the lock (the rename makes it whole), for listings
    /// that must not wait behind a slow command.
    pub fn peek(&self, id: &str) -> Result<Record> {
        validate_id(id)?;
        read_record(id, &self.root.join(id).join(STATE_FILE))
    }

    fn lock(&self, id: &str, dir: PathBuf) -> Result<Entry> {
        let path = dir.join(LOCK_FILE);
        loop {
            let file = match OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .custom_flags(libc::O_CLOEXEC)
                .open(&path)
            {
                Ok(f) => f,
                // Removed under us by `delete`: the container is gone.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(does_not_exist(id));
                }
                Err(e) => Err(e).with_context(|| format!("open lock {}", path.display()))?,
            };
            file.lock()
                .with_context(|| format!("lock {}", path.display()))?;
            // A `remove` that ran while we waited unlinked the file we now hold; a `create`
            // after it made a new one. Only the lock on the file at the path counts.
            let held = file
                .metadata()
                .with_context(|| format!("stat lock {}", path.display()))?;
            match fs::metadata(&path) {
                Ok(now) if now.ino() == held.ino() && now.dev() == held.dev() => {
                    return Ok(Entry {
                        id: id.to_string(),
                        dir,
                        lock: file,
                    });
                }
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(does_not_exist(id));
                }
                Err(e) => Err(e).with_context(|| format!("stat lock {}", path.display()))?,
            }
        }
    }
}

/// The message podman and containerd look for ("does not exist") to learn it is gone.
pub fn does_not_exist(id: &str) -> anyhow::Error {
    Failure::Usage.with(format!("container {id} does not exist"))
}

/// Whether an error is `does_not_exist` (for `delete --force`, which then succeeds).
pub fn is_does_not_exist(e: &anyhow::Error) -> bool {
    format!("{e:#}").contains("does not exist")
}

fn read_record(id: &str, path: &Path) -> Result<Record> {
    let text = match fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(does_not_exist(id)),
        Err(e) => Err(e).with_context(|| format!("read state {}", path.display()))?,
    };
    serde_json::from_slice(&text).with_context(|| format!("parse state {}", path.display()))
}

impl Drop for Entry {
    fn drop(&mut self) {
        // Explicitly, not by close: a process cloned while we held the lock shares the
        // open file description (`create`'s init, until its exec), and a flock is only
        // released by close when the last descriptor of it closes.
        let _ = self.lock.unlock();
    }
}

static SAVE_SEQ: AtomicU64 = AtomicU64::new(0);

impl Entry {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn load(&self) -> Result<Record> {
        read_record(&self.id, &self.dir.join(STATE_FILE))
    }

    /// Replace the record whole: a temporary file in the same directory, then renamed
    /// over `state.json` (rename(2) is atomic within one filesystem), so a reader or a
    /// SIGKILLed writer never leaves half a record. Not fsynced: the store describes
    /// processes, which no crash of the machine leaves behind (and its home, /run, is a
    /// tmpfs on most systems); the sync cost 1-3 ms a save on this machine's ext4, on
    /// the path of every `create`, `start` and `run -d`.
    pub fn save(&self, r: &Record) -> Result<()> {
        let path = self.dir.join(STATE_FILE);
        // Unique per process and call, so even a writer that ignored the lock could not
        // interleave its bytes with ours.
        let tmp = self.dir.join(format!(
            ".{STATE_FILE}.{}.{}",
            std::process::id(),
            SAVE_SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let json = serde_json::to_vec(r).context("encode state")?;
        let write = || -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_CLOEXEC)
                .open(&tmp)?;
            f.write_all(&json)?;
            fs::rename(&tmp, &path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            anyhow::Error::new(e).context(format!("write state {}", path.display()))
        })
    }

    /// Remove the container's directory and everything in it; the lock goes with it, and
    /// a command waiting for it then finds the id gone.
    pub fn remove(self) -> Result<()> {
        // Renamed away first, in one step: removing in place unlinks the lock file
        // before the directory goes, and a command that opens the lock meanwhile
        // (O_CREAT) makes a new one, so the rmdir fails (seen under concurrent
        // `delete --force` and `state`). A name with '#' is never an id, nor listed.
        let gone = self
            .dir
            .with_file_name(format!("{}#removed.{}", self.id, std::process::id()));
        fs::rename(&self.dir, &gone)
            .with_context(|| format!("remove state directory {}", self.dir.display()))?;
        fs::remove_dir_all(&gone)
            .with_context(|| format!("remove state directory {}", gone.display()))
    }
}

/// Field 22 of /proc/PID/stat (start time, clock ticks after boot), and whether the
/// process is a zombie; `None` when there is no such process.
pub fn proc_start(pid: i32) -> Option<(u64, bool)> {
    if pid <= 0 {
        return None;
    }
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: fields after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let zombie = matches!(fields.first(), Some(&"Z") | Some(&"X"));
    let start = fields.get(19)?.parse().ok()?;
    Some((start, zombie))
}

impl Record {
    /// Whether the recorded init is still this container's, alive: same pid, same start.
    pub fn init_alive(&self) -> bool {
        matches!(proc_start(self.pid), Some((start, false)) if start == self.pid_start_time)
    }

    /// The live status: stopped once the init is gone (or its pid belongs to someone
    /// else), paused while the cgroup is frozen, else created until `start`, then running.
    pub fn status(&self) -> Status {
        if !self.init_alive() {
            return Status::Stopped;
        }
        if self.frozen() {
            return Status::Paused;
        }
        if self.status_hint == "created" {
            Status::Created
        } else {
            Status::Running
        }
    }

    /// Whether the monitor (`run -d`) still runs: it has yet to record the exit.
    pub fn monitor_alive(&self) -> bool {
        self.monitor_pid > 0
            && matches!(proc_start(self.monitor_pid), Some((start, false)) if start == self.monitor_start_time)
    }

    /// The freezer says so: v1 `freezer.state` FROZEN (or FREEZING), v2 `cgroup.freeze` 1.
    pub fn frozen(&self) -> bool {
        self.cgroup_dirs.iter().any(|d| {
            let v1 = fs::read_to_string(d.join("freezer.state"))
                .is_ok_and(|s| matches!(s.trim(), "FROZEN" | "FREEZING"));
            let v2 = fs::read_to_string(d.join("cgroup.freeze")).is_ok_and(|s| s.trim() == "1");
            v1 || v2
        })
    }
}

#[cfg(test)]
mod tests;
