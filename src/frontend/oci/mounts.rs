//! `mounts` and `linux.devices`: each entry as the model's mount steps (with runc's
//! reading of the options), and the nodes made on a tmpfs the config mounts.

use super::*;

/// Where the host's cgroup hierarchies are mounted: a bundle's cgroup mount shows it.
pub(super) const CGROUP_MOUNT: &str = "/sys/fs/cgroup";

/// Mount options as runc reads them: flags, the bind kind, and the rest passed to the
/// filesystem as data.
#[derive(Default)]
pub(super) struct Options {
    flags: MountFlags,
    bind: Option<bool>,
    data: Vec<String>,
    /// A propagation option's flags (the last one given wins, as in runc).
    propagation: Option<u64>,
}

pub(super) fn options(field: &str, opts: &[String]) -> Result<Options> {
    let mut o = Options::default();
    for opt in opts {
        let f = &mut o.flags;
        match opt.as_str() {
            "ro" => f.readonly = true,
            "rw" => f.readonly = false,
            "nosuid" => f.nosuid = true,
            "suid" => f.nosuid = false,
            "nodev" => f.nodev = true,
            "dev" => f.nodev = false,
            "noexec" => f.noexec = true,
            "exec" => f.noexec = false,
            "bind" => {
                o.bind = Some(o.bind.unwrap_or(false));
            }
            "rbind" => {
                o.bind = Some(true);
            }
            // Access-time updates change no permission and nothing a program relies on;
            // the kernel's default (relatime) stands.
            "strictatime" | "relatime" | "norelatime" | "noatime" | "atime" | "nodiratime"
            | "diratime" => {}
            // gocker makes `/` recursively private before any mount: these are what every
            // mount of the container is anyway.
            "private" | "rprivate" => {}
            "shared" | "rshared" | "slave" | "rslave" | "unbindable" | "runbindable" => {
                let rec = if opt.starts_with('r') { ms::REC } else { 0 };
                let kind = match opt.trim_start_matches('r') {
                    "shared" => ms::SHARED,
                    "slave" => ms::SLAVE,
                    _ => ms::UNBINDABLE,
                };
                o.propagation = Some(kind | rec);
            }
            "sync" | "async" | "dirsync" | "mand" | "nomand" | "remount" | "silent" | "loud"
            | "nosymfollow" | "symfollow" | "idmap" | "ridmap" | "recursive" => {
                refuse(field, format!("option {opt} is not supported"))?
            }
            other
                if other.starts_with("r")
                    && ["ro", "rw", "nosuid", "nodev", "noexec"].contains(&&other[1..]) =>
            {
                refuse(
                    field,
                    format!("recursive option {opt} is not supported yet"),
                )?
            }
            other => {
                crate::spec::no_nul(other.as_ref(), field)?;
                if other.contains(',') {
                    refuse(field, format!("option {other:?} contains a comma"))?;
                }
                o.data.push(other.to_owned());
            }
        }
    }
    Ok(o)
}

/// One entry of `mounts`: the mount, its propagation option if it has one, and for a
/// tmpfs on /dev the nodes and links runc makes in it.
pub(super) fn mount(i: usize, m: &oci::Mount, bundle: &Path) -> Result<Vec<Mount>> {
    let mut v = mount_entries(i, m, bundle)?;
    let field = format!("mounts[{i}] ({})", m.destination().display());
    let o = options(&field, m.options().as_deref().unwrap_or_default())?;
    if let (Some(flags), Some(first)) = (o.propagation, v.first()) {
        let p = Mount {
            kind: MountKind::Propagation { flags },
            target: first.target.clone(),
            flags: MountFlags::NONE,
            optional: false,
            dev: false,
            why: format!("propagation (config.json mounts[{i}])").into(),
        };
        v.insert(1, p);
    }
    Ok(v)
}

pub(super) fn mount_entries(i: usize, m: &oci::Mount, bundle: &Path) -> Result<Vec<Mount>> {
    let field = format!("mounts[{i}] ({})", m.destination().display());
    let target = container_path(
        m.destination().as_os_str(),
        &format!("config.json: {field}"),
    )?;
    if target == Path::new("/") {
        refuse::<()>(&field, "cannot mount over the container's root")?;
    }
    if m.uid_mappings().is_some() || m.gid_mappings().is_some() {
        refuse::<()>(&field, "id-mapped mounts are not supported")?;
    }
    let o = options(&field, m.options().as_deref().unwrap_or_default())?;
    let typ = m.typ().as_deref().unwrap_or("");
    let why = |what: &str| format!("{what} (config.json mounts[{i}])");
    if typ == "cgroup" || typ == "cgroup2" {
        // Without a cgroup namespace runc shows the host's hierarchy (v2: a fresh cgroup2
        // mount, the whole tree). gocker binds the host's /sys/fs/cgroup, all of it, and
        // only read-only: writable, it would let the container change the host's limits.
        if !o.flags.readonly {
            refuse::<()>(
                &field,
                "a cgroup mount must be read-only (\"ro\") in gocker",
            )?;
        }
        if !o.data.is_empty() {
            refuse::<()>(
                &field,
                format!(
                    "option {} is not supported on a cgroup mount",
                    o.data.join(",")
                ),
            )?;
        }
        return Ok(vec![Mount {
            kind: MountKind::Bind {
                source: CGROUP_MOUNT.into(),
                dir: true,
            },
            target,
            flags: MountFlags {
                recursive: true,
                ..o.flags
            },
            optional: false,
            dev: false,
            why: why("the host's cgroup tree, read-only").into(),
        }]);
    }
    if o.bind.is_some() || typ == "bind" {
        // mount(2) ignores the data of a bind (runc passes it, to that effect), so a
        // filesystem's KEY=VALUE option (mode=755, size=1k) changes nothing and is
        // dropped; a bare word that is no flag gocker knows is refused, as it may be a
        // misspelt one (nosiud) that would leave the mount without it.
        let words: Vec<&String> = o.data.iter().filter(|d| !d.contains('=')).collect();
        if !words.is_empty() {
            refuse::<()>(
                &field,
                format!(
                    "option {} is not supported on a bind mount",
                    words
                        .iter()
                        .map(|w| w.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            )?;
        }
        let Some(source) = m.source() else {
            return refuse(&field, "a bind mount needs a source");
        };
        // runc reads a relative source from the bundle.
        let source = if source.is_absolute() {
            source.clone()
        } else {
            bundle.join(source)
        };
        let source = std::fs::canonicalize(&source).map_err(|e| {
            Failure::Usage.with(format!(
                "config.json: {field}: source {}: {}",
                source.display(),
                crate::error::os_reason(&e)
            ))
        })?;
        let dir = source.is_dir();
        return Ok(vec![Mount {
            kind: MountKind::Bind { source, dir },
            target,
            flags: MountFlags {
                recursive: o.bind == Some(true),
                ..o.flags
            },
            optional: false,
            dev: false,
            why: why("bind mount").into(),
        }]);
    }
    match typ {
        "proc" | "tmpfs" | "devpts" | "sysfs" | "mqueue" => {}
        "" => refuse(&field, "no type")?,
        other => refuse(&field, format!("type {other} is not supported yet"))?,
    }
    let source = m
        .source()
        .as_ref()
        .map_or_else(|| typ.to_owned(), |s| s.to_string_lossy().into_owned());
    let data = (!o.data.is_empty()).then(|| o.data.join(","));
    let mut v = vec![Mount {
        kind: MountKind::Fs {
            fstype: typ.to_owned().into(),
            source: source.into(),
            data: data.map(Into::into),
        },
        target: target.clone(),
        flags: o.flags,
        optional: false,
        dev: false,
        why: why(typ).into(),
    }];
    if typ == "tmpfs" && target == Path::new("/dev") {
        // runc fills a /dev it mounts with the standard nodes and links; without them
        // `> /dev/null` fails in the container.
        for (name, major, minor) in DEVICES {
            v.push(Mount {
                kind: MountKind::Device { major, minor },
                target: target.join(name),
                flags: MountFlags::NONE,
                optional: false,
                dev: false,
                why: "device nodes (mknod)".into(),
            });
        }
        for (name, to) in DEV_LINKS.iter().copied().chain([("ptmx", "pts/ptmx")]) {
            v.push(Mount {
                kind: MountKind::Symlink { to: to.into() },
                target: target.join(name),
                flags: MountFlags::NONE,
                optional: true,
                dev: false,
                why: "standard /dev link".into(),
            });
        }
    }
    Ok(v)
}

/// One entry of `linux.devices`: a node made after the config's mounts, on a tmpfs one
/// of them mounted (made on the rootfs, it would stay on the host's disk). Whether the
/// container may open it is the device rules' matter, as for every node.
pub(super) fn device(i: usize, d: &oci::LinuxDevice, mounts: &[Mount]) -> Result<Mount> {
    use crate::mounts::NodeKind;
    use oci::LinuxDeviceType as T;
    let field = format!("linux.devices[{i}] ({})", d.path().display());
    let target = container_path(d.path().as_os_str(), &format!("config.json: {field}"))?;
    let kind = match d.typ() {
        T::C | T::U => NodeKind::Char,
        T::B => NodeKind::Block,
        T::P => NodeKind::Fifo,
        T::A => refuse(&field, "type a (all) names no node")?,
    };
    let number = |what: &str, n: i64| -> Result<u32> {
        match u32::try_from(n) {
            Ok(v) => Ok(v),
            Err(_) => refuse(&field, format!("{what} {n}: not a device number")),
        }
    };
    let (major, minor) = match kind {
        NodeKind::Fifo => (0, 0),
        _ => (number("major", d.major())?, number("minor", d.minor())?),
    };
    let mode = match d.file_mode() {
        None => 0o666,
        Some(m) if m <= 0o777 => m,
        Some(m) => refuse(
            &field,
            format!("fileMode {m:#o}: only permission bits (at most 0777)"),
        )?,
    };
    // The innermost of the config's mounts that holds the node's directory.
    let holder = mounts
        .iter()
        .filter(|m| !matches!(m.kind, MountKind::Device { .. } | MountKind::Symlink { .. }))
        .filter(|m| target.parent().is_some_and(|p| p.starts_with(&m.target)))
        .max_by_key(|m| m.target.components().count());
    match holder.map(|m| &m.kind) {
        Some(MountKind::Fs { fstype, .. }) if fstype == "tmpfs" => {}
        _ => refuse(
            &field,
            "must be on a tmpfs that mounts mounts (such as /dev): made in the rootfs, the node would stay on the host's disk",
        )?,
    }
    Ok(Mount {
        kind: MountKind::Node {
            kind,
            major,
            minor,
            mode,
            uid: d.uid().unwrap_or(0),
            gid: d.gid().unwrap_or(0),
        },
        target,
        flags: MountFlags::NONE,
        optional: false,
        dev: false,
        why: format!("device node (config.json linux.devices[{i}])").into(),
    })
}
