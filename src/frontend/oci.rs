//! The OCI front end: a bundle's `config.json` (runtime-spec, read with youki's `oci-spec`
//! types) turned into the same `ContainerSpec` the command line builds, so `run --bundle`,
//! the OCI commands and `emit-script --bundle` share both backends.
//!
//! Every field is either mapped or, when it would change what the container is and gocker
//! cannot do it, refused with one line naming the field (exit 125): a bundle never runs as
//! something other than what it asked for. Fields that change nothing observable on this
//! kind of host (`ociVersion`, `annotations`, atime mount options) are read and dropped.

use crate::error::{Failure, fail};
use crate::mounts::{DEV_LINKS, DEVICES, Mount, MountKind};
use crate::spec::{
    CapSet, Confinement, ContainerSpec, CpuLimit, Limits, Namespace, PIDS_MAX, Process, Rlimit,
    Root, container_path, validate_hostname, validate_rootfs,
};
use crate::sys::ms;
use anyhow::{Context, Result};
use oci_spec::runtime as oci;
use std::ffi::OsString;
use std::path::Path;

/// Read BUNDLE/config.json into the model. `id` names the container (and its cgroup unless
/// cgroupsPath says otherwise). Unsupported fields that matter are refused (125, one line).
pub fn load_bundle(bundle: &Path, id: &str) -> Result<ContainerSpec> {
    let config = read_config(bundle)?;
    to_spec(&config, bundle, id)
}

fn read_config(bundle: &Path) -> Result<oci::Spec> {
    let path = bundle.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Failure::Usage.with(format!(
            "read {}: {}",
            path.display(),
            crate::error::os_reason(&e)
        ))
    })?;
    parse(&text).map_err(|e| Failure::Usage.with(format!("{}: {e}", path.display())))
}

/// The JSON alone, with serde's line and column on a syntax or type error.
pub fn parse(text: &str) -> std::result::Result<oci::Spec, String> {
    serde_json::from_str(text).map_err(|e| format!("not a valid OCI config: {e}"))
}

/// `config.json: FIELD: WHY`, exit 125.
fn refuse<T>(field: &str, why: impl std::fmt::Display) -> Result<T> {
    fail(Failure::Usage, format!("config.json: {field}: {why}"))
}

/// A field gocker does not implement: refused when it is set at all.
fn unsupported(field: &str, set: bool) -> Result<()> {
    if set {
        refuse(field, "not supported by gocker")?;
    }
    Ok(())
}

/// The spec from a parsed config; `bundle` is where a relative root.path starts.
pub fn to_spec(c: &oci::Spec, bundle: &Path, id: &str) -> Result<ContainerSpec> {
    if id.is_empty() || id.contains('/') || id == "." || id == ".." {
        fail(
            Failure::Usage,
            format!("container id {id:?}: must be a non-empty name without '/'"),
        )?;
    }
    let root = c
        .root()
        .as_ref()
        .map_or_else(|| refuse("root", "missing"), Ok)?;
    if root.readonly() == Some(true) {
        refuse::<()>("root.readonly", "a read-only root is not supported yet")?;
    }
    let root_path = if root.path().is_absolute() {
        root.path().clone()
    } else {
        bundle.join(root.path())
    };
    let root = Root::Dir(validate_rootfs(&root_path)?);
    let p = c.process().as_ref().map_or_else(
        || refuse("process", "missing (gocker runs one process)"),
        Ok,
    )?;
    let process = process(p)?;
    let linux = c.linux().clone().unwrap_or_default();
    let namespaces = namespaces(&linux)?;
    let hostname = match c.hostname() {
        Some(h) => {
            if !namespaces.contains(&Namespace::Uts) {
                refuse::<()>("hostname", "needs a uts namespace of its own")?;
            }
            validate_hostname(h).map_err(|e| {
                Failure::Usage.with(format!("config.json: hostname: {}", e.root_cause()))
            })?
        }
        // Without one, runc leaves the copy of the host's that a new uts namespace starts with.
        None => host_hostname()?,
    };
    unsupported(
        "domainname",
        c.domainname().as_ref().is_some_and(|d| !d.is_empty()),
    )?;
    unsupported(
        "hooks",
        c.hooks().as_ref().is_some_and(|h| *h != Default::default()),
    )?;
    for (field, set) in [
        ("solaris", c.solaris().is_some()),
        ("windows", c.windows().is_some()),
        ("vm", c.vm().is_some()),
        ("zos", c.zos().is_some()),
    ] {
        unsupported(field, set)?;
    }
    let mut mounts = Vec::new();
    let bundle_mounts = c.mounts().clone().unwrap_or_default();
    for (i, m) in bundle_mounts.iter().enumerate() {
        mounts.extend(mount(i, m, bundle)?);
    }
    if process.terminal
        && !mounts.iter().any(|m| {
            m.target == Path::new("/dev/pts")
                && matches!(&m.kind, MountKind::Fs { fstype, .. } if fstype == "devpts")
        })
    {
        refuse::<()>(
            "process.terminal",
            "needs a devpts mount on /dev/pts in mounts",
        )?;
    }
    for p in linux.readonly_paths().clone().unwrap_or_default() {
        let target = container_path(p.as_ref(), "config.json: linux.readonlyPaths")?;
        mounts.push(Mount {
            kind: MountKind::Rebind,
            target,
            flags: ms::REC | ms::RDONLY | ms::NOSUID | ms::NODEV | ms::NOEXEC,
            // runc skips a path this kernel does not have.
            optional: true,
            dev: false,
            why: "readonlyPaths (config.json)".into(),
        });
    }
    unsupported(
        "linux.maskedPaths",
        linux.masked_paths().as_ref().is_some_and(|v| !v.is_empty()),
    )?;
    let limits = limits(&linux)?;
    let confinement = Confinement {
        seccomp: false,
        devices: true,
    };
    unsupported("linux.seccomp", linux.seccomp().is_some())?;
    other_linux_fields(&linux)?;
    let (capabilities, rlimits, no_new_privs) = privileges(p)?;
    Ok(ContainerSpec {
        id: id.to_owned(),
        root,
        process,
        hostname,
        namespaces,
        mounts,
        limits,
        confinement,
        capabilities,
        no_new_privs,
        rlimits,
    })
}

fn host_hostname() -> Result<String> {
    let h = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .context("read /proc/sys/kernel/hostname")?;
    Ok(h.trim_end_matches('\n').to_owned())
}

fn process(p: &oci::Process) -> Result<Process> {
    let argv: Vec<OsString> = p
        .args()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(OsString::from)
        .collect();
    match argv.first() {
        None => refuse("process.args", "empty: no command to run")?,
        Some(a) if a.is_empty() => refuse("process.args", "the command is an empty string")?,
        Some(_) => {}
    }
    for a in &argv {
        crate::spec::no_nul(a, "config.json: process.args")?;
    }
    let env: Vec<OsString> = p
        .env()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(OsString::from)
        .collect();
    for e in &env {
        crate::spec::no_nul(e, "config.json: process.env")?;
    }
    let cwd = container_path(p.cwd().as_os_str(), "config.json: process.cwd")?;
    unsupported("process.commandLine", p.command_line().is_some())?;
    let u = p.user();
    if u.uid() != 0 || u.gid() != 0 {
        refuse::<()>(
            "process.user",
            format!(
                "uid {} gid {}: only root (0:0) is supported yet",
                u.uid(),
                u.gid()
            ),
        )?;
    }
    unsupported(
        "process.user.additionalGids",
        u.additional_gids().as_ref().is_some_and(|g| !g.is_empty()),
    )?;
    // 0022 is what gocker's caller has anyway in every engine seen; another would change
    // the modes of files the container makes.
    if let Some(m) = u.umask()
        && m != 0o022
    {
        refuse::<()>(
            "process.user.umask",
            format!("{m:#o}: only 022 is supported"),
        )?;
    }
    unsupported("process.oomScoreAdj", p.oom_score_adj().is_some())?;
    unsupported(
        "process.apparmorProfile",
        p.apparmor_profile().as_ref().is_some_and(|s| !s.is_empty()),
    )?;
    unsupported(
        "process.selinuxLabel",
        p.selinux_label().as_ref().is_some_and(|s| !s.is_empty()),
    )?;
    unsupported("process.ioPriority", p.io_priority().is_some())?;
    unsupported("process.scheduler", p.scheduler().is_some())?;
    unsupported("process.execCPUAffinity", p.exec_cpu_affinity().is_some())?;
    let terminal = p.terminal().unwrap_or(false);
    Ok(Process {
        argv,
        env,
        cwd,
        terminal,
        // An OCI runtime hands the container the stdio it was given (runc does).
        stdin: true,
    })
}

/// Capabilities (bounding is the kept set), rlimits and noNewPrivileges.
fn privileges(p: &oci::Process) -> Result<(CapSet, Vec<Rlimit>, bool)> {
    let caps = p.capabilities().clone().unwrap_or_default();
    let set = |field: &str, s: &Option<oci::Capabilities>| -> Result<CapSet> {
        let mut m = 0u64;
        for c in s.iter().flatten() {
            let name = c.to_string().to_ascii_lowercase();
            let Some(n) = crate::security::CAP_NAMES.iter().position(|k| *k == name) else {
                return refuse(
                    field,
                    format!("unknown capability CAP_{}", name.to_uppercase()),
                );
            };
            m |= 1 << n;
        }
        Ok(CapSet(m))
    };
    let bounding = set("process.capabilities.bounding", caps.bounding())?;
    // gocker's child sets effective = permitted = bounding and empties inheritable and
    // ambient (runtime/child.rs); a config that asks for other sets is refused, never
    // given more than it asked for.
    for (field, s) in [
        ("process.capabilities.effective", caps.effective()),
        ("process.capabilities.permitted", caps.permitted()),
    ] {
        if s.is_some() && set(field, s)? != bounding {
            refuse::<()>(field, "must equal the bounding set (gocker keeps one set)")?;
        }
    }
    for (field, s) in [
        ("process.capabilities.inheritable", caps.inheritable()),
        ("process.capabilities.ambient", caps.ambient()),
    ] {
        if set(field, s)?.0 != 0 {
            refuse::<()>(field, "must be empty (gocker empties it)")?;
        }
    }
    let mut rlimits = Vec::new();
    for r in p.rlimits().clone().unwrap_or_default() {
        if r.soft() > r.hard() {
            refuse::<()>(
                "process.rlimits",
                format!("{}: soft {} above hard {}", r.typ(), r.soft(), r.hard()),
            )?;
        }
        rlimits.push(Rlimit {
            resource: rlimit_number(r.typ()),
            soft: r.soft(),
            hard: r.hard(),
        });
    }
    Ok((bounding, rlimits, p.no_new_privileges().unwrap_or(false)))
}

// glibc's RLIMIT_* are u32, musl's c_int: the cast is needed on one of them.
#[allow(clippy::unnecessary_cast)]
fn rlimit_number(t: oci::PosixRlimitType) -> u32 {
    use oci::PosixRlimitType as T;
    (match t {
        T::RlimitCpu => libc::RLIMIT_CPU,
        T::RlimitFsize => libc::RLIMIT_FSIZE,
        T::RlimitData => libc::RLIMIT_DATA,
        T::RlimitStack => libc::RLIMIT_STACK,
        T::RlimitCore => libc::RLIMIT_CORE,
        T::RlimitRss => libc::RLIMIT_RSS,
        T::RlimitNproc => libc::RLIMIT_NPROC,
        T::RlimitNofile => libc::RLIMIT_NOFILE,
        T::RlimitMemlock => libc::RLIMIT_MEMLOCK,
        T::RlimitAs => libc::RLIMIT_AS,
        T::RlimitLocks => libc::RLIMIT_LOCKS,
        T::RlimitSigpending => libc::RLIMIT_SIGPENDING,
        T::RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
        T::RlimitNice => libc::RLIMIT_NICE,
        T::RlimitRtprio => libc::RLIMIT_RTPRIO,
        T::RlimitRttime => libc::RLIMIT_RTTIME,
    }) as u32
}

fn namespaces(linux: &oci::Linux) -> Result<Vec<Namespace>> {
    use oci::LinuxNamespaceType as T;
    let mut v = Vec::new();
    for ns in linux.namespaces().clone().unwrap_or_default() {
        let field = format!("linux.namespaces ({})", ns.typ());
        if ns.path().is_some() {
            refuse::<()>(&field, "joining a namespace by path is not supported yet")?;
        }
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
        if v.contains(&n) {
            refuse::<()>(&field, "listed twice")?;
        }
        v.push(n);
    }
    // gocker builds the root in a mount namespace of its own and runs the command as
    // that namespace's PID 1; without them the host's mounts or processes would change.
    for (n, name) in [(Namespace::Mount, "mount"), (Namespace::Pid, "pid")] {
        if !v.contains(&n) {
            refuse::<()>(
                "linux.namespaces",
                format!("gocker needs a new {name} namespace"),
            )?;
        }
    }
    if !v.contains(&Namespace::Uts) {
        refuse::<()>(
            "linux.namespaces",
            "gocker needs a new uts namespace (it sets the hostname)",
        )?;
    }
    Ok(v)
}

/// Mount options as runc reads them: flags, the bind kind, and the rest passed to the
/// filesystem as data.
#[derive(Default)]
struct Options {
    flags: u64,
    bind: Option<bool>,
    data: Vec<String>,
}

fn options(field: &str, opts: &[String]) -> Result<Options> {
    let mut o = Options::default();
    for opt in opts {
        let (set, clear) = match opt.as_str() {
            "ro" => (ms::RDONLY, 0),
            "rw" => (0, ms::RDONLY),
            "nosuid" => (ms::NOSUID, 0),
            "suid" => (0, ms::NOSUID),
            "nodev" => (ms::NODEV, 0),
            "dev" => (0, ms::NODEV),
            "noexec" => (ms::NOEXEC, 0),
            "exec" => (0, ms::NOEXEC),
            "bind" => {
                o.bind = Some(o.bind.unwrap_or(false));
                (0, 0)
            }
            "rbind" => {
                o.bind = Some(true);
                (0, 0)
            }
            // Access-time updates change no permission and nothing a program relies on;
            // the kernel's default (relatime) stands.
            "strictatime" | "relatime" | "norelatime" | "noatime" | "atime" | "nodiratime"
            | "diratime" => (0, 0),
            // gocker makes `/` recursively private before any mount: these are what every
            // mount of the container is anyway.
            "private" | "rprivate" => (0, 0),
            "shared" | "rshared" | "slave" | "rslave" | "unbindable" | "runbindable" => refuse(
                field,
                format!("propagation option {opt} is not supported yet"),
            )?,
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
                (0, 0)
            }
        };
        o.flags = (o.flags | set) & !clear;
    }
    Ok(o)
}

/// One entry of `mounts`: the mount, and for a tmpfs on /dev the nodes and links runc
/// makes in it.
fn mount(i: usize, m: &oci::Mount, bundle: &Path) -> Result<Vec<Mount>> {
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
    if o.bind.is_some() || typ == "bind" {
        if !o.data.is_empty() {
            refuse::<()>(
                &field,
                format!(
                    "option {} is not supported on a bind mount",
                    o.data.join(",")
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
        let rec = if o.bind == Some(true) { ms::REC } else { 0 };
        return Ok(vec![Mount {
            kind: MountKind::Bind { source, dir },
            target,
            flags: rec | o.flags,
            optional: false,
            dev: false,
            why: why("bind mount").into(),
        }]);
    }
    match typ {
        "proc" | "tmpfs" | "devpts" => {}
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
                flags: 0,
                optional: false,
                dev: false,
                why: "device nodes (mknod)".into(),
            });
        }
        for (name, to) in DEV_LINKS.iter().copied().chain([("ptmx", "pts/ptmx")]) {
            v.push(Mount {
                kind: MountKind::Symlink { to: to.into() },
                target: target.join(name),
                flags: 0,
                optional: true,
                dev: false,
                why: "standard /dev link".into(),
            });
        }
    }
    Ok(v)
}

fn limits(linux: &oci::Linux) -> Result<Limits> {
    let mut l = Limits::default();
    let Some(r) = linux.resources() else {
        return Ok(l);
    };
    if let Some(cpu) = r.cpu() {
        unsupported("linux.resources.cpu.shares", cpu.shares().is_some())?;
        unsupported(
            "linux.resources.cpu.realtimeRuntime",
            cpu.realtime_runtime().is_some(),
        )?;
        unsupported(
            "linux.resources.cpu.realtimePeriod",
            cpu.realtime_period().is_some(),
        )?;
        unsupported(
            "linux.resources.cpu.cpus",
            cpu.cpus().as_ref().is_some_and(|s| !s.is_empty()),
        )?;
        unsupported(
            "linux.resources.cpu.mems",
            cpu.mems().as_ref().is_some_and(|s| !s.is_empty()),
        )?;
        unsupported("linux.resources.cpu.idle", cpu.idle().is_some())?;
        unsupported("linux.resources.cpu.burst", cpu.burst().is_some())?;
        let period = cpu.period().unwrap_or(crate::spec::CPU_PERIOD_US);
        match cpu.quota() {
            None | Some(-1) => {
                if cpu.period().is_some() {
                    refuse::<()>("linux.resources.cpu.period", "needs a quota")?;
                }
            }
            Some(q) if q >= crate::spec::CPU_MIN_QUOTA_US as i64 => {
                if !(1_000..=1_000_000).contains(&period) {
                    refuse::<()>(
                        "linux.resources.cpu.period",
                        format!("{period}: must be from 1000 to 1000000 (µs)"),
                    )?;
                }
                l.cpu = Some(CpuLimit {
                    quota_us: q as u64,
                    period_us: period,
                });
            }
            Some(q) => refuse(
                "linux.resources.cpu.quota",
                format!("{q}: below the kernel's minimum of 1000 µs"),
            )?,
        }
    }
    if let Some(m) = r.memory() {
        match m.limit() {
            None | Some(-1) => {}
            Some(b) if b >= crate::spec::MEMORY_MIN_BYTES as i64 => l.memory_bytes = Some(b as u64),
            Some(b) => refuse(
                "linux.resources.memory.limit",
                format!("{b}: below the minimum of 6 MiB a container needs to start"),
            )?,
        }
        // gocker's memory limit allows no swap (memory+swap = memory).
        if let Some(s) = m.swap()
            && s != -1
            && Some(s) != m.limit()
        {
            refuse::<()>(
                "linux.resources.memory.swap",
                "only a swap limit equal to the memory limit (no swap) is supported",
            )?;
        }
        for (field, set) in [
            ("reservation", m.reservation().is_some()),
            ("kernel", m.kernel().is_some()),
            ("kernelTCP", m.kernel_tcp().is_some()),
            ("swappiness", m.swappiness().is_some()),
            ("disableOOMKiller", m.disable_oom_killer() == Some(true)),
        ] {
            unsupported(&format!("linux.resources.memory.{field}"), set)?;
        }
    }
    if let Some(p) = r.pids() {
        match p.limit() {
            n if n <= 0 => {}
            n if n as u64 <= PIDS_MAX => l.pids = Some(n as u64),
            n => refuse(
                "linux.resources.pids.limit",
                format!("{n}: above {PIDS_MAX}"),
            )?,
        }
    }
    // Docker's, podman's and runc's default is one rule that denies every device; gocker
    // adds its own default allow list after it (`Confinement::devices`), as runc does.
    for d in r.devices().clone().unwrap_or_default() {
        let deny_all = !d.allow()
            && d.typ().is_none_or(|t| t == oci::LinuxDeviceType::A)
            && d.major().is_none()
            && d.minor().is_none()
            && d.access().as_deref().is_none_or(|a| a == "rwm");
        if !deny_all {
            refuse::<()>(
                "linux.resources.devices",
                "rules other than the default deny-all are not supported yet",
            )?;
        }
    }
    for (field, set) in [
        ("blockIO", r.block_io().is_some()),
        (
            "hugepageLimits",
            r.hugepage_limits().as_ref().is_some_and(|v| !v.is_empty()),
        ),
        ("network", r.network().is_some()),
        ("rdma", r.rdma().as_ref().is_some_and(|v| !v.is_empty())),
        (
            "unified",
            r.unified().as_ref().is_some_and(|v| !v.is_empty()),
        ),
    ] {
        unsupported(&format!("linux.resources.{field}"), set)?;
    }
    Ok(l)
}

fn other_linux_fields(linux: &oci::Linux) -> Result<()> {
    let nonempty_map = |m: &Option<std::collections::HashMap<String, String>>| {
        m.as_ref().is_some_and(|m| !m.is_empty())
    };
    for (field, set) in [
        (
            "uidMappings",
            linux.uid_mappings().as_ref().is_some_and(|v| !v.is_empty()),
        ),
        (
            "gidMappings",
            linux.gid_mappings().as_ref().is_some_and(|v| !v.is_empty()),
        ),
        ("sysctl", nonempty_map(linux.sysctl())),
        ("cgroupsPath", linux.cgroups_path().is_some()),
        (
            "devices",
            linux.devices().as_ref().is_some_and(|v| !v.is_empty()),
        ),
        (
            "rootfsPropagation",
            linux
                .rootfs_propagation()
                .as_deref()
                .is_some_and(|p| !p.is_empty() && p != "private" && p != "rprivate"),
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

#[cfg(test)]
mod tests;
