//! The Docker front end's handles on containers: random ids, unique names, and the lookup
//! `exec`, `stop`, `rm`, `logs` and `inspect` share (an id, a name, or a unique prefix of
//! an id).
//!
//! A name is a symlink `#names/NAME -> ID` in the store: symlink(2) fails when the name
//! exists, so two `run -d --name web` cannot both get it, whatever the timing. `#` is in
//! no id, so `Store::list` never takes the directory for a container. A name whose
//! container is gone (a `delete` of the OCI commands, or a command SIGKILLed between the
//! two removals) is stale and is taken over; the takeover happens under a lock of its
//! own, so that two commands never both remove the stale link and one the other's new one.

use super::{Record, Store, does_not_exist, validate_id};
use crate::error::{Failure, fail};
use anyhow::{Context, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

const NAMES_DIR: &str = "#names";
const NAMES_LOCK: &str = "#names.lock";

/// A fresh id: 64 hex digits from the kernel's random pool (shown as the first 12).
pub fn new_id() -> Result<String> {
    let mut bytes = [0u8; 32];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("read /dev/urandom for a container id")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Docker's rule for names (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`): a file name in the store,
/// never `.`, `..` or anything with `/`.
pub fn validate_name(name: &str) -> Result<()> {
    let b = name.as_bytes();
    let ok = b.len() >= 2
        && b.len() <= 128
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    if !ok {
        fail(
            Failure::Usage,
            format!(
                "invalid container name {name:?}: use 2 to 128 letters, digits and '_' '.' '-', starting with a letter or digit"
            ),
        )?;
    }
    Ok(())
}

impl Store {
    fn names_dir(&self) -> PathBuf {
        self.root.join(NAMES_DIR)
    }

    /// The names' lock, held while a stale name is taken over or a name released.
    fn lock_names(&self) -> Result<File> {
        let path = self.root.join(NAMES_LOCK);
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(&path)
            .with_context(|| format!("open lock {}", path.display()))?;
        f.lock()
            .with_context(|| format!("lock {}", path.display()))?;
        Ok(f)
    }

    /// Give `name` to the container `id` (whose directory must exist, or be made before
    /// the lock is dropped: see `Store::create_named`). Fails (125) when another
    /// container that exists has it.
    pub(super) fn claim_name(&self, name: &str, id: &str) -> Result<()> {
        validate_name(name)?;
        let dir = self.names_dir();
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                Err(e).with_context(|| format!("create {}", dir.display()))?
            }
            _ => {}
        }
        let link = dir.join(name);
        for _ in 0..2 {
            match std::os::unix::fs::symlink(id, &link) {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => Err(e).with_context(|| format!("create name {}", link.display()))?,
            }
            match self.id_of_name(name) {
                Some(other) if self.root.join(&other).is_dir() => fail(
                    Failure::Usage,
                    format!(
                        "the name {name:?} is already in use by container {}: remove it (gocker rm) or choose another name",
                        short(&other)
                    ),
                )?,
                // Stale: its container is gone. Taken over under the caller's lock.
                _ => {
                    let _ = fs::remove_file(&link);
                }
            }
        }
        fail(
            Failure::Host,
            format!("could not create name {}", link.display()),
        )
    }

    /// A new container directory (as `create`) with `name`, both or neither: the name's
    /// lock is held until the directory exists, so a stale-name takeover never sees a
    /// name whose directory is about to be made.
    pub fn create_named(&self, id: &str, name: Option<&str>) -> Result<super::Entry> {
        let Some(name) = name else {
            return self.create(id);
        };
        let _lock = self.lock_names()?;
        self.claim_name(name, id)?;
        self.create(id).inspect_err(|_| {
            let _ = fs::remove_file(self.names_dir().join(name));
        })
    }

    /// Drop `name` if it still names `id` (a later container may have taken it over).
    pub fn release_name(&self, name: &str, id: &str) -> Result<()> {
        if validate_name(name).is_err() {
            return Ok(());
        }
        let _lock = self.lock_names()?;
        if self.id_of_name(name).as_deref() == Some(id) {
            let link = self.names_dir().join(name);
            match fs::remove_file(&link) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(e).with_context(|| format!("remove name {}", link.display()))?
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The id `name` names, read without the lock (one readlink is atomic).
    pub fn id_of_name(&self, name: &str) -> Option<String> {
        validate_name(name).ok()?;
        let target = fs::read_link(self.names_dir().join(name)).ok()?;
        let id = target.into_os_string().into_string().ok()?;
        validate_id(&id).ok()?;
        Some(id)
    }

    /// The record of the container `what` names: its id, else its name, else the one id
    /// it is a prefix of. An unknown one is `does_not_exist` (125), an ambiguous prefix
    /// says how many match.
    pub fn find(&self, what: &str) -> Result<Record> {
        match self.peek(what) {
            Ok(r) => return Ok(r),
            Err(e) if !super::is_does_not_exist(&e) => {
                // A record that exists but cannot be read is that error, not a name.
                if validate_id(what).is_ok() {
                    return Err(e);
                }
            }
            Err(_) => {}
        }
        if let Some(id) = self.id_of_name(what)
            && let Ok(r) = self.peek(&id)
        {
            return Ok(r);
        }
        let ids = self.list()?;
        let prefixed: Vec<&String> = ids
            .iter()
            .filter(|i| !what.is_empty() && i.starts_with(what))
            .collect();
        match prefixed.len() {
            0 => {}
            1 => return self.peek(prefixed[0]),
            n => fail(
                Failure::Usage,
                format!("container id prefix {what} is ambiguous: {n} containers match"),
            )?,
        }
        // The slow way, only when nothing else matched: a name kept only in the record
        // (one written by another front end, without a link).
        for id in &ids {
            if let Ok(r) = self.peek(id)
                && r.name.as_deref() == Some(what)
            {
                return Ok(r);
            }
        }
        Err(does_not_exist(what))
    }

    /// Leftovers of commands SIGKILLed halfway, swept by the Docker front end's commands:
    /// directories of `Entry::remove` renamed away but not yet removed (their remover
    /// gone); container directories that never got a record (their creator killed
    /// between mkdir and the first save: nobody holds the lock, and it is older than a
    /// creator could take); names whose container is gone.
    pub fn sweep(&self) {
        let Ok(rd) = fs::read_dir(&self.root) else {
            return;
        };
        for ent in rd.flatten() {
            let name = ent.file_name();
            let Some(name) = name.to_str() else { continue };
            if validate_id(name).is_ok() {
                self.sweep_unrecorded(name);
                continue;
            }
            let Some((_, pid)) = name.split_once("#removed.") else {
                continue;
            };
            if pid
                .parse::<i32>()
                .is_ok_and(|p| !crate::sys::process_exists(p))
            {
                let _ = fs::remove_dir_all(ent.path());
            }
        }
        let Ok(names) = fs::read_dir(self.names_dir()) else {
            return;
        };
        let stale: Vec<String> = names
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| {
                self.id_of_name(n)
                    .is_none_or(|id| !self.root.join(id).is_dir())
            })
            .collect();
        if stale.is_empty() {
            return;
        }
        let Ok(_lock) = self.lock_names() else { return };
        for n in stale {
            // Checked again under the lock: a `run -d --name` may have just taken it.
            if self
                .id_of_name(&n)
                .is_none_or(|id| !self.root.join(id).is_dir())
            {
                let _ = fs::remove_file(self.names_dir().join(&n));
            }
        }
    }
}

impl Store {
    fn sweep_unrecorded(&self, id: &str) {
        let old = fs::metadata(self.root.join(id))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(60));
        if old {
            self.remove_unrecorded(id);
        }
    }

    /// Remove the directory of `id` if it has no record and nobody holds its lock (its
    /// creator was killed before the first save): `rm -f ID` of what `ps` cannot list.
    /// Whether it did.
    pub fn remove_unrecorded(&self, id: &str) -> bool {
        if validate_id(id).is_err() {
            return false;
        }
        let dir = self.root.join(id);
        if !dir.is_dir() || dir.join(super::STATE_FILE).exists() {
            return false;
        }
        let lock = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(dir.join(super::LOCK_FILE));
        let _held = match lock {
            // Held: its creator is still at work (or waits for another command).
            Ok(l) if l.try_lock().is_err() => return false,
            Ok(l) => Some(l),
            // Killed between its mkdir and its lock (a creator coming to it now finds
            // the id gone, and fails cleanly).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(_) => return false,
        };
        if dir.join(super::STATE_FILE).exists() {
            return false;
        }
        let gone = dir.with_file_name(format!("{id}#removed.{}", std::process::id()));
        fs::rename(&dir, &gone).is_ok() && fs::remove_dir_all(&gone).is_ok()
    }
}

/// An id as `ps` shows it: its first 12 digits.
pub fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}
