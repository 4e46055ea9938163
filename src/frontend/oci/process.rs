//! `process` of config.json: the command, its environment and user, the five capability
//! sets, rlimits and the rest of what the init is, checked against the kernel's rules.

use super::*;

pub(super) fn host_hostname() -> Result<String> {
    let h = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .context("read /proc/sys/kernel/hostname")?;
    Ok(h.trim_end_matches('\n').to_owned())
}

pub(super) fn process(p: &oci::Process) -> Result<Process> {
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
    unsupported(
        "process.user.username",
        u.username().as_ref().is_some_and(|n| !n.is_empty()),
    )?;
    let user = crate::spec::User {
        uid: u.uid(),
        gid: u.gid(),
        additional_gids: u.additional_gids().clone().unwrap_or_default(),
    };
    let umask = match u.umask() {
        Some(m) if m > 0o777 => refuse("process.user.umask", format!("{m:#o}: above 0777"))?,
        m => m,
    };
    let oom_score_adj = match p.oom_score_adj() {
        Some(n) if !(-1000..=1000).contains(&n) => refuse(
            "process.oomScoreAdj",
            format!("{n}: must be from -1000 to 1000"),
        )?,
        n => n,
    };
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
        user,
        oom_score_adj,
        umask,
    })
}

/// The five capability sets, rlimits and noNewPrivileges. A set left out is empty (as
/// in runc); nothing of the caller's joins any set (the child sets each whole).
pub(super) fn privileges(p: &oci::Process) -> Result<(Capabilities, Vec<Rlimit>, bool)> {
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
    let mut capabilities = Capabilities {
        bounding: set("process.capabilities.bounding", caps.bounding())?,
        effective: set("process.capabilities.effective", caps.effective())?,
        permitted: set("process.capabilities.permitted", caps.permitted())?,
        inheritable: set("process.capabilities.inheritable", caps.inheritable())?,
        ambient: set("process.capabilities.ambient", caps.ambient())?,
    };
    // An ambient capability outside permitted ∩ inheritable cannot be raised (the kernel
    // refuses PR_CAP_AMBIENT_RAISE): runc and crun go on without it, and `crun spec`
    // writes such sets (ambient, no inheritable), so a bundle made for them runs here too.
    // It grants nothing either way: the kernel would clear it at once.
    capabilities.ambient =
        CapSet(capabilities.ambient.0 & capabilities.permitted.0 & capabilities.inheritable.0);
    if let Err((field, bad, why)) = capabilities.check() {
        let names: Vec<String> = bad
            .names()
            .map(|n| format!("CAP_{}", n.to_uppercase()))
            .collect();
        refuse::<()>(
            &format!("process.capabilities.{field}"),
            format!("{}: {why}", names.join(", ")),
        )?;
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
    Ok((
        capabilities,
        rlimits,
        p.no_new_privileges().unwrap_or(false),
    ))
}

// glibc's RLIMIT_* are u32, musl's c_int: the cast is needed on one of them.
#[allow(clippy::unnecessary_cast)]
pub(crate) fn rlimit_number(t: oci::PosixRlimitType) -> u32 {
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
