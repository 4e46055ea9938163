//! `linux.*` of config.json that is neither mounts nor resources: the namespaces (made,
//! or joined by path), cgroupsPath, sysctl, and the fields refused as a whole.

use super::*;

/// cgroupsPath as runc reads it on cgroupfs: an absolute path from each hierarchy's root;
/// a relative one from gocker's own cgroup (the same in every hierarchy it uses, or
/// refused). `..` never climbs above the root (runc's CleanPath).
pub(super) fn cgroup_path(linux: &oci::Linux) -> Result<Option<PathBuf>> {
    let Some(p) = linux.cgroups_path() else {
        return Ok(None);
    };
    let field = "linux.cgroupsPath";
    let s = p.to_string_lossy();
    if s.contains(':') {
        refuse::<()>(
            field,
            format!("{s}: a systemd slice:prefix:name path; gocker manages cgroupfs only"),
        )?;
    }
    let clean = |p: &Path| -> PathBuf {
        let mut out = PathBuf::new();
        for c in p.components() {
            match c {
                std::path::Component::Normal(n) => out.push(n),
                std::path::Component::ParentDir => {
                    out.pop();
                }
                _ => {}
            }
        }
        out
    };
    let rel = if p.is_absolute() {
        clean(p)
    } else {
        let own = own_cgroup()?;
        clean(&own.join(clean(p)))
    };
    if rel.as_os_str().is_empty() {
        refuse::<()>(field, format!("{s}: names the root cgroup"))?;
    }
    crate::spec::no_nul(rel.as_os_str(), "config.json: linux.cgroupsPath")?;
    Ok(Some(rel))
}

/// gocker's own cgroup, from /proc/self/cgroup: the v2 line, or the v1 hierarchies of
/// the controllers gocker uses when they all agree.
pub(super) fn own_cgroup() -> Result<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/cgroup").context("read /proc/self/cgroup")?;
    let mut paths = std::collections::BTreeSet::new();
    for line in text.lines() {
        let mut f = line.splitn(3, ':');
        let (_, ctrl, path) = (f.next(), f.next().unwrap_or(""), f.next().unwrap_or(""));
        let used = ctrl
            .split(',')
            .any(|c| ["cpu", "memory", "pids", "devices"].contains(&c));
        if used {
            paths.insert(path.to_owned());
        }
    }
    if paths.is_empty()
        && let Some(v2) = text.lines().find_map(|l| l.strip_prefix("0::"))
    {
        paths.insert(v2.to_owned());
    }
    match paths.len() {
        1 => Ok(PathBuf::from(paths.into_iter().next().unwrap_or_default())),
        _ => fail(
            Failure::Usage,
            "config.json: linux.cgroupsPath: relative, but gocker is in different cgroups per controller: give an absolute path",
        ),
    }
}

/// Only keys of a namespace the container has of its own (runc's rule): another would
/// change the host's kernel. Sorted by key, so the script's bytes do not depend on the
/// JSON object's order.
pub(super) fn sysctl(
    linux: &oci::Linux,
    namespaces: &[Namespace],
) -> Result<Vec<(String, String)>> {
    let mut v: Vec<(String, String)> = linux
        .sysctl()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    v.sort();
    for (k, val) in &v {
        let field = format!("linux.sysctl ({k})");
        let ok_key = !k.is_empty()
            && k.split('.').all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            });
        if !ok_key {
            refuse::<()>(&field, "not a sysctl key")?;
        }
        match crate::spec::sysctl_namespace(k) {
            None => refuse(
                &field,
                "not in a namespace of the container's own: it would change the host",
            )?,
            Some(ns) if !namespaces.contains(&ns) => {
                refuse(&field, format!("needs a new {} namespace", ns.proc_name()))?
            }
            Some(_) => {}
        }
        if val.contains(['\0', '\n']) {
            refuse::<()>(&field, "the value contains a NUL or a newline")?;
        }
    }
    Ok(v)
}

/// The namespaces made (no path) and those joined (a path, opened and checked when the
/// container starts: `runtime::Joined`).
pub(super) type Namespaces = (Vec<Namespace>, Vec<(Namespace, PathBuf)>);

pub(super) fn namespaces(linux: &oci::Linux) -> Result<Namespaces> {
    use oci::LinuxNamespaceType as T;
    let (mut made, mut joined): Namespaces = (Vec::new(), Vec::new());
    for ns in linux.namespaces().clone().unwrap_or_default() {
        let field = format!("linux.namespaces ({})", ns.typ());
        let n = match ns.typ() {
            T::Mount => Namespace::Mount,
            T::Uts => Namespace::Uts,
            T::Ipc => Namespace::Ipc,
            T::Pid => Namespace::Pid,
            T::Network => Namespace::Net,
            T::Cgroup => Namespace::Cgroup,
            T::User => refuse(&field, "user namespaces (rootless) are not supported yet")?,
            T::Time => refuse(&field, "time namespaces are not supported")?,
        };
        if made.contains(&n) || joined.iter().any(|(j, _)| *j == n) {
            refuse::<()>(&field, "listed twice")?;
        }
        match ns.path() {
            None => made.push(n),
            Some(p) => {
                if !p.is_absolute() {
                    refuse::<()>(&field, format!("path {}: must be absolute", p.display()))?;
                }
                crate::spec::no_nul(p.as_os_str(), &format!("config.json: {field} path"))?;
                joined.push((n, p.clone()));
            }
        }
    }
    // gocker builds the root in a mount namespace other than its own and runs the
    // command in a pid namespace other than its own (made or joined); in its own, the
    // host's mounts or processes would change.
    let has = |n: Namespace| made.contains(&n) || joined.iter().any(|(j, _)| *j == n);
    for (n, name) in [(Namespace::Mount, "mount"), (Namespace::Pid, "pid")] {
        if !has(n) {
            refuse::<()>(
                "linux.namespaces",
                format!("gocker needs a {name} namespace of the container's own (new, or by path)"),
            )?;
        }
    }
    if !has(Namespace::Uts) {
        refuse::<()>(
            "linux.namespaces",
            "gocker needs a uts namespace of the container's own, new or by path (it sets the hostname)",
        )?;
    }
    Ok((made, joined))
}

pub(super) fn other_linux_fields(linux: &oci::Linux) -> Result<()> {
    for (field, set) in [
        (
            "uidMappings",
            linux.uid_mappings().as_ref().is_some_and(|v| !v.is_empty()),
        ),
        (
            "gidMappings",
            linux.gid_mappings().as_ref().is_some_and(|v| !v.is_empty()),
        ),
        (
            "mountLabel",
            linux.mount_label().as_ref().is_some_and(|s| !s.is_empty()),
        ),
        ("intelRdt", linux.intel_rdt().is_some()),
        ("memoryPolicy", linux.memory_policy().is_some()),
        ("personality", linux.personality().is_some()),
        (
            "timeOffsets",
            linux.time_offsets().as_ref().is_some_and(|v| !v.is_empty()),
        ),
        (
            "netDevices",
            linux.net_devices().as_ref().is_some_and(|v| !v.is_empty()),
        ),
    ] {
        unsupported(&format!("linux.{field}"), set)?;
    }
    Ok(())
}
