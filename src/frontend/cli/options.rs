//! The command line's options turned into a `ContainerSpec`: the parsers of `--cpus`,
//! `-m`, `--pids-limit`, `-v`, `-e` and `--security-opt`, and Docker's defaults for what
//! the command line leaves out. Errors name the option as the user typed it.

use super::RunArgs;
use crate::error::{Failure, fail};
use crate::host::HostFacts;
use crate::mounts::{Mount, host_view_mounts, standard_mounts};
use crate::spec::{
    CPU_MIN_QUOTA_US, CPU_PERIOD_US, CapSet, Confinement, ContainerSpec, CpuLimit, DEFAULT_PATH,
    Limits, MEMORY_MIN_BYTES, Namespace, PIDS_MAX, Process, Root, container_path, no_nul,
    validate_hostname, validate_rootfs,
};
use anyhow::Result;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

impl RunArgs {
    /// Validate the command line into a spec. `host` supplies the facts limits are
    /// checked against (CPUs, memory), probed only when an option asks for them.
    pub fn to_spec(&self, host: &HostFacts) -> Result<ContainerSpec> {
        let args = self;
        let root = match &args.rootfs {
            Some(dir) => Root::Dir(validate_rootfs(dir)?),
            None => Root::HostView,
        };
        let hostname = validate_hostname(&args.hostname)?;
        let limits = Limits {
            cpu: args
                .cpus
                .as_deref()
                .map(|s| parse_cpus(s, host.cpus()))
                .transpose()?,
            memory_bytes: args
                .memory
                .as_deref()
                .map(|s| parse_memory(s, host.memory_bytes()))
                .transpose()?,
            pids: args.pids_limit.as_deref().map(parse_pids).transpose()?,
        };
        let argv = args.command.clone();
        match argv.first() {
            None => fail(
                Failure::Usage,
                "no command given: gocker run [OPTIONS] COMMAND [ARG...]",
            )?,
            Some(c) if c.is_empty() => fail(Failure::Usage, "the command is an empty string")?,
            Some(_) => {}
        }
        for a in &argv {
            no_nul(a, "command argument")?;
        }
        let cwd = match &args.workdir {
            Some(w) => container_path(w, "-w")?,
            None => PathBuf::from("/"),
        };
        let env = build_env(&args.env, &hostname, args.tty, host)?;
        let mut mounts = Vec::new();
        if root == Root::HostView {
            mounts.extend(host_view_mounts(host.host_view_dirs()));
        }
        mounts.extend(standard_mounts(args.tty));
        for v in &args.volumes {
            mounts.push(parse_volume(v)?);
        }
        Ok(ContainerSpec {
            // gocker's pid: the cgroup sweep tells a dead owner's cgroup by it.
            id: std::process::id().to_string(),
            root,
            process: Process {
                argv,
                env,
                cwd,
                terminal: args.tty,
                stdin: args.interactive,
            },
            hostname,
            namespaces: Namespace::LESSON.to_vec(),
            mounts,
            limits,
            confinement: parse_security_opts(&args.security_opt)?,
            capabilities: CapSet::DOCKER_DEFAULT,
            no_new_privs: true,
            rlimits: Vec::new(),
        })
    }
}

/// `--security-opt` values: `seccomp=unconfined`, `devices=unconfined`.
fn parse_security_opts(opts: &[String]) -> Result<Confinement> {
    let mut c = Confinement::default();
    for o in opts {
        match o.as_str() {
            "seccomp=unconfined" | "seccomp:unconfined" => c.seccomp = false,
            "devices=unconfined" | "devices:unconfined" => c.devices = false,
            _ => fail(
                Failure::Usage,
                format!(
                    "--security-opt {o:?}: expected seccomp=unconfined or devices=unconfined (custom seccomp profiles are not supported)"
                ),
            )?,
        }
    }
    Ok(c)
}

pub fn parse_cpus(s: &str, host_cpus: usize) -> Result<CpuLimit> {
    let n: f64 = s
        .trim()
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite())
        .ok_or_else(|| Failure::Usage.with(format!("--cpus {s:?}: not a number (try 0.5 or 2)")))?;
    if n <= 0.0 {
        fail(Failure::Usage, format!("--cpus {s}: must be more than 0"))?;
    }
    if n > host_cpus as f64 {
        fail(
            Failure::Usage,
            format!("--cpus {s}: this host has only {host_cpus} CPU(s)"),
        )?;
    }
    let quota_us = (n * CPU_PERIOD_US as f64).round() as u64;
    if quota_us < CPU_MIN_QUOTA_US {
        fail(
            Failure::Usage,
            format!("--cpus {s}: below the kernel's minimum of 0.01 CPU"),
        )?;
    }
    Ok(CpuLimit {
        quota_us,
        period_us: CPU_PERIOD_US,
    })
}

/// A size: a bare number is MiB (the lesson's `-m 100`), or a number with b, k, m or g
/// (optionally followed by `b`/`ib`: `100m`, `100MB`, `1GiB`).
pub fn parse_memory(s: &str, host_bytes: u64) -> Result<u64> {
    let t = s.trim().to_ascii_lowercase();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits_end);
    let shift = match unit {
        "" | "m" | "mb" | "mib" => 20,
        "b" => 0,
        "k" | "kb" | "kib" => 10,
        "g" | "gb" | "gib" => 30,
        _ => fail(
            Failure::Usage,
            format!("-m {s:?}: not a size (try 64, 64m, 512k or 1g; a bare number is MiB)"),
        )?,
    };
    let n: u64 = num.parse().map_err(|_| {
        Failure::Usage.with(format!("-m {s:?}: not a size (try 64, 64m, 512k or 1g)"))
    })?;
    let bytes = n
        .checked_mul(1 << shift)
        .ok_or_else(|| Failure::Usage.with(format!("-m {s}: too large")))?;
    if bytes < MEMORY_MIN_BYTES {
        fail(
            Failure::Usage,
            format!("-m {s}: below the minimum of 6 MiB a container needs to start"),
        )?;
    }
    if host_bytes > 0 && bytes > host_bytes {
        fail(
            Failure::Usage,
            format!(
                "-m {s}: more than this host's {} MiB of memory",
                host_bytes >> 20
            ),
        )?;
    }
    Ok(bytes)
}

fn parse_pids(s: &str) -> Result<u64> {
    match s.trim().parse::<u64>() {
        Ok(n) if (1..=PIDS_MAX).contains(&n) => Ok(n),
        _ => fail(
            Failure::Usage,
            format!("--pids-limit {s:?}: must be a whole number from 1 to {PIDS_MAX}"),
        ),
    }
}

/// `HOST:CONTAINER[:ro|:rw]`.
fn parse_volume(v: &OsStr) -> Result<Mount> {
    no_nul(v, "-v")?;
    let bytes = v.as_bytes();
    let parts: Vec<&[u8]> = bytes.split(|&b| b == b':').collect();
    let (host, ctr, readonly) = match parts.as_slice() {
        [h, c] => (*h, *c, false),
        [h, c, b"ro"] => (*h, *c, true),
        [h, c, b"rw"] => (*h, *c, false),
        _ => fail(
            Failure::Usage,
            format!(
                "-v {}: expected HOST:CONTAINER or HOST:CONTAINER:ro",
                v.to_string_lossy()
            ),
        )?,
    };
    if host.is_empty() || ctr.is_empty() {
        fail(
            Failure::Usage,
            format!(
                "-v {}: both the host path and the container path are needed",
                v.to_string_lossy()
            ),
        )?;
    }
    let host = Path::new(OsStr::from_bytes(host));
    if !host.is_absolute() {
        fail(
            Failure::Usage,
            format!("-v {}: the host path must be absolute", v.to_string_lossy()),
        )?;
    }
    let source = std::fs::canonicalize(host).map_err(|e| {
        Failure::Usage.with(format!(
            "-v {}: host path {}: {}",
            v.to_string_lossy(),
            host.display(),
            crate::error::os_reason(&e)
        ))
    })?;
    let target = container_path(OsStr::from_bytes(ctr), "-v")?;
    if target == Path::new("/") {
        fail(
            Failure::Usage,
            format!(
                "-v {}: cannot mount over the container's root",
                v.to_string_lossy()
            ),
        )?;
    }
    let is_dir = std::fs::metadata(&source)
        .map(|m| m.is_dir())
        .unwrap_or(false);
    Ok(Mount::volume(source, target, is_dir, readonly))
}

/// Docker's defaults (PATH, HOSTNAME, HOME, TERM with -t), then each `-e`, later keys
/// replacing earlier ones. `-e KEY` alone copies KEY from gocker's environment, if set.
fn build_env(
    given: &[OsString],
    hostname: &str,
    tty: bool,
    host: &HostFacts,
) -> Result<Vec<OsString>> {
    let mut env: Vec<(OsString, OsString)> = vec![
        ("PATH".into(), DEFAULT_PATH.into()),
        ("HOSTNAME".into(), hostname.into()),
        ("HOME".into(), "/root".into()),
    ];
    if tty {
        env.push(("TERM".into(), "xterm".into()));
    }
    for e in given {
        no_nul(e, "-e")?;
        let b = e.as_bytes();
        let (k, v) = match b.iter().position(|&c| c == b'=') {
            Some(i) => (&b[..i], Some(OsStr::from_bytes(&b[i + 1..]).to_owned())),
            None => (b, None),
        };
        let valid_key =
            !k.is_empty() && !k[0].is_ascii_digit() && !k.iter().any(|c| c.is_ascii_whitespace());
        if !valid_key {
            fail(
                Failure::Usage,
                format!(
                    "-e {}: expected KEY=VALUE with a non-empty KEY",
                    e.to_string_lossy()
                ),
            )?;
        }
        let key = OsStr::from_bytes(k).to_owned();
        let value = match v {
            Some(v) => v,
            None => match host.env().iter().find(|(hk, _)| *hk == key) {
                Some((_, hv)) => hv.clone(),
                None => continue,
            },
        };
        env.retain(|(ek, _)| *ek != key);
        env.push((key, value));
    }
    Ok(env
        .into_iter()
        .map(|(k, v)| {
            let mut s = k;
            s.push("=");
            s.push(v);
            s
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::exit_code_of;

    fn host() -> HostFacts<'static> {
        HostFacts::known(2, 1 << 30, vec![("FROMHOST".into(), "yes".into())], vec![])
    }

    fn args(cmd: &[&str]) -> RunArgs {
        RunArgs {
            hostname: "gocker".into(),
            command: cmd.iter().map(OsString::from).collect(),
            ..Default::default()
        }
    }

    fn usage_error(r: Result<impl std::fmt::Debug>) -> String {
        let e = r.expect_err("should be refused");
        assert_eq!(exit_code_of(&e), 125, "{e:#}");
        format!("{e:#}")
    }

    #[test]
    fn cpus_become_quota_per_default_period() {
        assert_eq!(parse_cpus("0.5", 2).unwrap().quota_us, 50_000);
        assert_eq!(parse_cpus("1", 2).unwrap().quota_us, 100_000);
        assert_eq!(parse_cpus("1.5", 2).unwrap().period_us, CPU_PERIOD_US);
        for bad in ["0", "-1", "abc", "", "NaN", "inf", "3", "0.001"] {
            usage_error(parse_cpus(bad, 2));
        }
    }

    #[test]
    fn memory_bare_number_is_mib_and_suffixes_work() {
        let g = 1 << 30;
        assert_eq!(parse_memory("100", g).unwrap(), 100 << 20);
        assert_eq!(parse_memory("64m", g).unwrap(), 64 << 20);
        assert_eq!(parse_memory("64MiB", g).unwrap(), 64 << 20);
        assert_eq!(parse_memory("8192k", g).unwrap(), 8 << 20);
        assert_eq!(parse_memory("1g", g).unwrap(), 1 << 30);
        assert_eq!(parse_memory("7340032b", g).unwrap(), 7 << 20);
        for bad in [
            "",
            "m",
            "-5",
            "1.5g",
            "5",
            "0",
            "2g",
            "99999999999999999999g",
            "12q",
        ] {
            usage_error(parse_memory(bad, g));
        }
    }

    #[test]
    fn pids_limit_bounds() {
        assert_eq!(parse_pids("5").unwrap(), 5);
        for bad in ["0", "-1", "x", "99999999"] {
            usage_error(parse_pids(bad));
        }
    }

    #[test]
    fn argv_is_kept_exactly() {
        let s = args(&["/bin/echo", "a  b", "", "$(x)"])
            .to_spec(&host())
            .unwrap();
        assert_eq!(s.process.argv, ["/bin/echo", "a  b", "", "$(x)"]);
        assert_eq!(s.hostname, "gocker");
        assert_eq!(s.namespaces.len(), 5);
        assert_eq!(s.root, Root::HostView);
    }

    #[test]
    fn env_defaults_overrides_and_passthrough() {
        let mut a = args(&["sh"]);
        a.env = vec![
            "A=1".into(),
            "PATH=/x".into(),
            "B=".into(),
            "FROMHOST".into(),
            "NOTSET".into(),
        ];
        let s = a.to_spec(&host()).unwrap();
        let env: Vec<_> = s.process.env.iter().map(|e| e.to_str().unwrap()).collect();
        assert_eq!(
            env,
            [
                "HOSTNAME=gocker",
                "HOME=/root",
                "A=1",
                "PATH=/x",
                "B=",
                "FROMHOST=yes"
            ]
        );
        for bad in ["=x", "1A=2", "A B=1"] {
            let mut a = args(&["sh"]);
            a.env = vec![bad.into()];
            usage_error(a.to_spec(&host()));
        }
    }

    #[test]
    fn workdir_must_be_absolute_without_dotdot() {
        let mut a = args(&["sh"]);
        a.workdir = Some("/a/./b/".into());
        assert_eq!(a.to_spec(&host()).unwrap().process.cwd, Path::new("/a/b"));
        for bad in ["rel", "/a/../../etc"] {
            a.workdir = Some(bad.into());
            usage_error(a.to_spec(&host()));
        }
    }

    #[test]
    fn volumes_are_checked() {
        let tmp = std::env::temp_dir();
        let t = tmp.to_str().unwrap();
        let m = parse_volume(OsStr::new(&format!("{t}:/data:ro"))).unwrap();
        assert_eq!(m.target, Path::new("/data"));
        assert!(m.is_readonly());
        for bad in [
            "/only".to_string(),
            format!("{t}:"),
            ":/data".to_string(),
            "rel:/data".to_string(),
            format!("{t}:rel"),
            format!("{t}:/"),
            format!("{t}:/d:rx"),
            "/no/such/gocker/path:/d".to_string(),
            format!("{t}:/a/../b"),
        ] {
            usage_error(parse_volume(OsStr::new(&bad)));
        }
    }

    #[test]
    fn rootfs_is_checked() {
        let mut a = args(&["sh"]);
        a.rootfs = Some("/no/such/gocker/rootfs".into());
        assert!(usage_error(a.to_spec(&host())).contains("/no/such/gocker/rootfs"));
        a.rootfs = Some("/".into());
        usage_error(a.to_spec(&host()));
        a.rootfs = Some("/proc/self/exe".into());
        assert!(usage_error(a.to_spec(&host())).contains("not a directory"));
    }

    #[test]
    fn empty_command_is_refused() {
        usage_error(args(&[""]).to_spec(&host()));
        usage_error(args(&[]).to_spec(&host()));
    }
}
