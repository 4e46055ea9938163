//! What a v1 cgroup copies from its parent when it is made: the device list (`gocker/`
//! holds the default one, so a default container's cgroup needs no writes) and the cpuset
//! (a v1 cpuset with none takes no process).

use super::*;

/// Whether the v1 devices cgroup `dir` allows exactly `list` (default deny, and each
/// allowed exception), as its `devices.list` shows. An allow-all list shows only
/// `a *:* rwm`, whatever it denies: never taken as set.
pub(super) fn has_device_list(dir: &Path, list: &devices::List) -> bool {
    if list.default_allow {
        return false;
    }
    let Ok(text) = std::fs::read_to_string(dir.join(devices::V1_LIST)) else {
        return false;
    };
    let mut have: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let want_lines = list.v1_list_lines();
    let mut want: Vec<&str> = want_lines.iter().map(|l| l.trim()).collect();
    have.sort_unstable();
    want.sort_unstable();
    have == want
}

/// Reset to the default (`a`, removing everything inherited), then write the exceptions:
/// one rule per write, in order, as the kernel parses them, through one open file (an
/// open each cost ~10 us).
pub(super) fn write_device_list(dir: &Path, list: &devices::List) -> Result<()> {
    let (default_file, exceptions_file) = list.v1_files();
    write(&dir.join(default_file), devices::V1_ALL)?;
    let path = dir.join(exceptions_file);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .with_context(|| format!("open {}", path.display()))?;
    for e in &list.exceptions {
        let line = e.v1_line();
        std::io::Write::write_all(&mut f, line.as_bytes())
            .with_context(|| format!("write {line:?} to {}", path.display()))?;
    }
    Ok(())
}

/// Give gocker/ in the v1 devices hierarchy the default list, once (after boot), so that
/// every container's cgroup with that list copies it when made. Best effort: the kernel
/// refuses a new default (deny all) on a cgroup that has children (EINVAL), and then each
/// container's cgroup is written itself, as before. gocker/ never holds a process.
pub(super) fn prepare_device_parent(parent: &Path) {
    let list = devices::List::for_container(&[]);
    if !has_device_list(parent, &list) {
        let _ = write_device_list(parent, &list);
    }
}

/// v1: give cpuset cgroup `dir` its parent's CPUs and memory nodes where it has none.
pub(super) fn inherit_cpuset(dir: &Path) -> Result<()> {
    let Some(parent) = dir.parent() else {
        return Ok(());
    };
    for f in ["cpuset.cpus", "cpuset.mems"] {
        let own = std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        if own.trim().is_empty() {
            let path = parent.join(f);
            let from = std::fs::read_to_string(&path)
                .with_context(|| format!("read {}", path.display()))?;
            write(&dir.join(f), from.trim())?;
        }
    }
    Ok(())
}

/// A bundle's list under gocker/ (no cgroupsPath) that allows more than the default:
/// v1 lets a cgroup allow only what its parent allows, so gocker/ gets those exceptions
/// too, before the container's cgroup is made. gocker/ holds no process, and every
/// container's cgroup is checked against its own list (`has_device_list`), so a wider
/// gocker/ only costs the next default containers the writes, until it has no children
/// and `prepare_device_parent` resets it. Best effort: a failure shows as the leaf's.
pub(super) fn widen_device_parent(parent: &Path, list: &devices::List) {
    if list.default_allow || *list == devices::List::for_container(&[]) {
        return;
    }
    for e in &list.exceptions {
        let _ = write(&parent.join(devices::V1_ALLOW), &e.v1_line());
    }
}
