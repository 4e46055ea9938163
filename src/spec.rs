//! `ContainerSpec`: the one validated description of a container.
//!
//! A front end (`frontend::cli` now, an OCI `config.json` next) builds this; the native
//! runtime and the script renderer take nothing else. This module is the model and the
//! checks every front end shares (paths inside the container, the hostname, the rootfs);
//! it knows neither a front end nor the host probes. All input is checked before
//! anything is created, so a bad option never leaves a partial container.

use crate::error::{Failure, fail};
use crate::mounts::Mount;
pub use crate::security::{CapSet, Capabilities};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// The container, as both backends build it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerSpec {
    /// Names the container's cgroups (`gocker/<id>`). The CLI uses gocker's own pid, so
    /// a later run can tell a dead owner's cgroup from a live one and sweep it.
    pub id: String,
    pub root: Root,
    /// Remount the root read-only once the mounts and the working directory are made
    /// (OCI `root.readonly`; the CLI never sets it).
    pub readonly_root: bool,
    pub process: Process,
    pub hostname: String,
    pub namespaces: Vec<Namespace>,
    /// Namespaces joined instead of made (a bundle's `linux.namespaces[].path`): each
    /// type at most once, none of them also in `namespaces`, none gocker's own.
    #[serde(default)]
    pub namespace_paths: Vec<(Namespace, PathBuf)>,
    /// Mounts under the new root, in order; each target is a path inside the container.
    pub mounts: Vec<Mount>,
    pub limits: Limits,
    pub confinement: Confinement,
    /// The process's five capability sets (checked: `Capabilities::check`).
    pub capabilities: Capabilities,
    /// Set `no_new_privs`: no execve can gain privileges (setuid files, file caps).
    pub no_new_privs: bool,
    /// Resource limits set with setrlimit(2) before exec, in order.
    pub rlimits: Vec<Rlimit>,
    /// The cgroup's path below each hierarchy's root, when not `gocker/<id>` (an OCI
    /// bundle's cgroupsPath, normalised: no `..`, no leading `/`).
    pub cgroup_path: Option<PathBuf>,
    /// Namespaced kernel parameters (`net.ipv4.ip_forward`, `1`), by key: written under
    /// /proc/sys by the container's first process, in its own namespaces.
    pub sysctl: Vec<(String, String)>,
    /// A bundle's own seccomp profile, installed where the default filter would be
    /// (`confinement.seccomp` is then off).
    pub seccomp_profile: Option<SeccompProfile>,
    /// Make `/` recursively slave instead of private in the container's mount namespace
    /// (OCI rootfsPropagation slave/rslave): the host's later mounts still arrive.
    pub rootfs_slave: bool,
}

/// A seccomp profile as data (OCI `linux.seccomp`, names already turned into this
/// architecture's numbers): the action for calls no rule matches, and the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeccompProfile {
    pub default: SeccompAct,
    pub rules: Vec<SeccompRule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeccompAct {
    Allow,
    Errno(u32),
    KillThread,
    KillProcess,
    Trap,
    Log,
}

/// One call, its action, and conditions on its arguments that must all hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeccompRule {
    pub nr: i64,
    pub action: SeccompAct,
    pub args: Vec<SeccompArg>,
}

/// `args[index] OP value` (MaskedEq: `args[index] & value == value_two`), 64 bits wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeccompArg {
    pub index: u8,
    pub op: SeccompCmp,
    pub value: u64,
    pub value_two: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeccompCmp {
    Ne,
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    MaskedEq,
}

/// Whether a sysctl key belongs to a namespace a container has of its own (runc's list):
/// IPC's `kernel.msg*`/`sem`/`shm*` and `fs.mqueue.*`, and the network's `net.*`, with
/// the namespace that makes it so.
pub fn sysctl_namespace(key: &str) -> Option<Namespace> {
    const IPC: [&str; 8] = [
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    if IPC.contains(&key) || key.starts_with("fs.mqueue.") {
        Some(Namespace::Ipc)
    } else if key.starts_with("net.") {
        Some(Namespace::Net)
    } else if key == "kernel.domainname" {
        Some(Namespace::Uts)
    } else {
        None
    }
}

/// The file under /proc/sys that holds a sysctl key.
pub fn sysctl_file(key: &str) -> PathBuf {
    Path::new("/proc/sys").join(key.replace('.', "/"))
}

impl ContainerSpec {
    /// Whether the container has a namespace of type `ns` other than gocker's: made, or
    /// joined by path.
    pub fn has_own(&self, ns: Namespace) -> bool {
        self.namespaces.contains(&ns) || self.namespace_paths.iter().any(|(n, _)| *n == ns)
    }

    /// The cgroup's path below each hierarchy's root: `gocker/<id>` unless the front end
    /// placed it (`cgroup_path`).
    pub fn cgroup_leaf(&self) -> PathBuf {
        self.cgroup_path
            .clone()
            .unwrap_or_else(|| Path::new(crate::cgroup::PARENT).join(&self.id))
    }
}

/// The OCI lifecycle hooks of a bundle (config.json `hooks`): programs run by the OCI
/// commands around the container, in the runtime's namespaces, never part of its shape;
/// so they are kept beside the spec (`frontend::oci::load_hooks`), not in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hooks {
    /// After the container's namespaces exist, before pivot_root (runtime namespace).
    pub create_runtime: Vec<Hook>,
    /// The deprecated alias of `create_runtime`, run just before it (as runc does).
    pub prestart: Vec<Hook>,
    /// After `start` has let the command run.
    pub poststart: Vec<Hook>,
    /// After the container is deleted.
    pub poststop: Vec<Hook>,
}

impl Hooks {
    pub fn is_empty(&self) -> bool {
        self.create_runtime.is_empty()
            && self.prestart.is_empty()
            && self.poststart.is_empty()
            && self.poststop.is_empty()
    }
}

/// One hook: an absolute path on the host, its argv (argv[0] included, as execve takes
/// it), its whole environment, and how long it may run. Its stdin is the state JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hook {
    pub path: PathBuf,
    pub args: Vec<OsString>,
    pub env: Vec<OsString>,
    /// Seconds, greater than zero; none means no limit.
    pub timeout_secs: Option<u32>,
}

/// One setrlimit(2) call: `resource` is a `RLIMIT_*` number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rlimit {
    pub resource: u32,
    pub soft: u64,
    pub hard: u64,
}

/// The kernel walls beyond namespaces and capabilities, each on unless lifted with
/// `--security-opt NAME=unconfined` (Docker's spelling for seccomp).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confinement {
    /// The default seccomp filter (`seccomp`).
    pub seccomp: bool,
    /// The device allow list in the container's cgroup (`devices`).
    pub devices: bool,
}

impl Default for Confinement {
    fn default() -> Self {
        Confinement {
            seccomp: true,
            devices: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Root {
    /// A root filesystem directory (absolute, symlinks resolved), bound onto itself: the
    /// container writes into it (`--rootfs-rw`, the lesson's way).
    Dir(PathBuf),
    /// A root filesystem directory (absolute, symlinks resolved) as the read-only lower
    /// layer of an overlay, over an upper layer of the container's own: the directory is
    /// never written, and every container starts from the same image.
    Overlay(PathBuf),
    /// A fresh tmpfs with read-only binds of the host's system directories.
    HostView,
}

impl Root {
    /// The rootfs directory the container was given, however it is mounted.
    pub fn rootfs(&self) -> Option<&Path> {
        match self {
            Root::Dir(p) | Root::Overlay(p) => Some(p),
            Root::HostView => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Process {
    /// Exactly the words given: never joined, never split.
    pub argv: Vec<OsString>,
    /// `KEY=VALUE` strings, defaults first, later entries overriding earlier keys.
    pub env: Vec<OsString>,
    /// Working directory inside the container.
    pub cwd: PathBuf,
    /// Allocate a pseudo-terminal (-t).
    pub terminal: bool,
    /// Connect our stdin (-i); otherwise the container reads /dev/null.
    pub stdin: bool,
    /// Who the command runs as (root for the CLI).
    pub user: User,
    /// /proc/PID/oom_score_adj, when set (-1000..=1000).
    pub oom_score_adj: Option<i32>,
    /// The umask the command starts with (OCI `process.user.umask`); none keeps the
    /// caller's.
    #[serde(default)]
    pub umask: Option<u32>,
}

/// The command's credentials: setgroups(2), setresgid(2), setresuid(2), in that order,
/// after the bounding set is cut and before the other capability sets are set (runc's
/// order). The default is root with no supplementary groups.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
}

impl User {
    pub fn is_root(&self) -> bool {
        self.uid == 0 && self.gid == 0 && self.additional_gids.is_empty()
    }
}

/// The namespace types, each with its clone flag, `unshare(1)` option, name under
/// /proc/PID/ns, kernel option and what it isolates: the one table run, script and check
/// read. A spec holds the set it creates (the lesson's five from the CLI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Namespace {
    Mount,
    Uts,
    Ipc,
    Pid,
    Net,
    User,
    Cgroup,
    Time,
}

impl Namespace {
    pub const LESSON: [Namespace; 5] = [
        Namespace::Mount,
        Namespace::Uts,
        Namespace::Ipc,
        Namespace::Pid,
        Namespace::Net,
    ];

    /// Every type `check` reports, the lesson's five first.
    pub const ALL: [Namespace; 8] = [
        Namespace::Mount,
        Namespace::Uts,
        Namespace::Ipc,
        Namespace::Pid,
        Namespace::Net,
        Namespace::User,
        Namespace::Cgroup,
        Namespace::Time,
    ];

    pub fn clone_flag(self) -> u64 {
        (match self {
            Namespace::Mount => libc::CLONE_NEWNS,
            Namespace::Uts => libc::CLONE_NEWUTS,
            Namespace::Ipc => libc::CLONE_NEWIPC,
            Namespace::Pid => libc::CLONE_NEWPID,
            Namespace::Net => libc::CLONE_NEWNET,
            Namespace::User => libc::CLONE_NEWUSER,
            Namespace::Cgroup => libc::CLONE_NEWCGROUP,
            Namespace::Time => libc::CLONE_NEWTIME,
        }) as u64
    }

    /// The flag's name in the lesson's Go code (`syscall.CLONE_NEWNS`, ...).
    pub fn clone_flag_name(self) -> &'static str {
        match self {
            Namespace::Mount => "CLONE_NEWNS",
            Namespace::Uts => "CLONE_NEWUTS",
            Namespace::Ipc => "CLONE_NEWIPC",
            Namespace::Pid => "CLONE_NEWPID",
            Namespace::Net => "CLONE_NEWNET",
            Namespace::User => "CLONE_NEWUSER",
            Namespace::Cgroup => "CLONE_NEWCGROUP",
            Namespace::Time => "CLONE_NEWTIME",
        }
    }

    pub fn unshare_option(self) -> &'static str {
        match self {
            Namespace::Mount => "--mount",
            Namespace::Uts => "--uts",
            Namespace::Ipc => "--ipc",
            Namespace::Pid => "--pid",
            Namespace::Net => "--net",
            Namespace::User => "--user",
            Namespace::Cgroup => "--cgroup",
            Namespace::Time => "--time",
        }
    }

    /// The entry under /proc/self/ns.
    pub fn proc_name(self) -> &'static str {
        match self {
            Namespace::Mount => "mnt",
            Namespace::Uts => "uts",
            Namespace::Ipc => "ipc",
            Namespace::Pid => "pid",
            Namespace::Net => "net",
            Namespace::User => "user",
            Namespace::Cgroup => "cgroup",
            Namespace::Time => "time",
        }
    }

    /// The kernel option that builds the type in, for hints.
    pub fn config(self) -> &'static str {
        match self {
            Namespace::Mount => "CONFIG_NAMESPACES",
            Namespace::Uts => "CONFIG_UTS_NS",
            Namespace::Ipc => "CONFIG_IPC_NS",
            Namespace::Pid => "CONFIG_PID_NS",
            Namespace::Net => "CONFIG_NET_NS",
            Namespace::User => "CONFIG_USER_NS",
            Namespace::Cgroup => "CONFIG_CGROUPS",
            Namespace::Time => "CONFIG_TIME_NS",
        }
    }

    /// What it gives a container its own copy of.
    pub fn isolates(self) -> &'static str {
        match self {
            Namespace::Mount => "mount points",
            Namespace::Uts => "hostname",
            Namespace::Ipc => "System V IPC and POSIX message queues",
            Namespace::Pid => "process ids",
            Namespace::Net => "network devices, addresses and ports",
            Namespace::User => "user and group ids",
            Namespace::Cgroup => "the view of the cgroup tree",
            Namespace::Time => "the monotonic and boot-time clocks",
        }
    }
}

/// Resource limits, in the units the kernel files take. The command line sets the first
/// four; the rest come from an OCI bundle's `linux.resources` (`cgroup::limit_files` says
/// which file of each version takes each, and which a version cannot take). Missing
/// fields of an older record are unset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    pub cpu: Option<CpuLimit>,
    /// The CPU's relative share under contention: v1 `cpu.shares` (2..=262144), on v2
    /// the `cpu.weight` it maps to (an OCI bundle's cpu.shares; the CLI has none).
    pub cpu_shares: Option<u64>,
    pub memory_bytes: Option<u64>,
    pub pids: Option<u64>,
    /// A bundle's `linux.resources.devices` rules, in order, before gocker's default
    /// allow list (`devices::List::for_container`); none from the command line. Applied
    /// only with `Confinement::devices`.
    pub devices: Vec<crate::devices::Rule>,
    /// Memory and swap together, bytes, at least `memory_bytes` (OCI memory.swap); unset
    /// with a memory limit means no swap, as `docker run -m X --memory-swap X`.
    pub memory_swap_bytes: Option<u64>,
    /// Reclaimed down to under pressure (OCI memory.reservation), bytes.
    pub memory_reservation_bytes: Option<u64>,
    /// 0..=100 (OCI memory.swappiness).
    pub memory_swappiness: Option<u64>,
    /// Kernel memory, bytes (OCI memory.kernel; the kernel ignores it since 6.x too).
    pub kernel_memory_bytes: Option<u64>,
    /// TCP buffer memory, bytes (OCI memory.kernelTCP).
    pub kernel_tcp_bytes: Option<u64>,
    /// Pause instead of killing at the memory limit (OCI memory.disableOOMKiller).
    pub oom_kill_disable: bool,
    /// The CPUs and memory nodes allowed, as the kernel's list format (`0-1,3`).
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    /// Real-time CPU time per period, µs (OCI cpu.realtimePeriod, cpu.realtimeRuntime).
    pub rt_period_us: Option<u64>,
    pub rt_runtime_us: Option<i64>,
    /// The net_cls class id tagged on the container's packets (OCI network.classID).
    pub net_classid: Option<u32>,
    /// Per-interface priorities (OCI network.priorities): name, priority.
    pub net_priorities: Vec<(String, u32)>,
    /// Block I/O: a weight, per-device weights and throttles (OCI blockIO).
    pub blkio_weight: Option<u16>,
    pub blkio_weight_devices: Vec<BlkioDevice>,
    pub blkio_throttles: Vec<BlkioThrottle>,
    /// Huge page limits (OCI hugepageLimits): a size of `cgroup::HUGEPAGE_SIZES`, bytes.
    pub hugepages: Vec<(String, u64)>,
}

/// A weight for one block device, `major:minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlkioDevice {
    pub major: u32,
    pub minor: u32,
    pub weight: u16,
}

/// One throttle of one block device: `rate` bytes or operations per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlkioThrottle {
    pub kind: Throttle,
    pub major: u32,
    pub minor: u32,
    pub rate: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Throttle {
    ReadBps,
    WriteBps,
    ReadIops,
    WriteIops,
}

/// CFS bandwidth: `quota_us` of CPU time per `period_us` of wall time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuLimit {
    pub quota_us: u64,
    pub period_us: u64,
}

/// The kernel's default CFS period; `--cpus N` becomes N periods of quota.
pub const CPU_PERIOD_US: u64 = 100_000;
/// The kernel refuses quotas under 1 ms.
pub const CPU_MIN_QUOTA_US: u64 = 1_000;
/// Below this a container cannot even start a shell (Docker uses the same floor).
pub const MEMORY_MIN_BYTES: u64 = 6 * 1024 * 1024;
/// The kernel's upper bound on pids (PID_MAX_LIMIT on 64-bit).
pub const PIDS_MAX: u64 = 4_194_304;

pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub fn no_nul(s: &OsStr, what: &str) -> Result<()> {
    if s.as_bytes().contains(&0) {
        fail(Failure::Usage, format!("{what} contains a NUL byte"))?;
    }
    Ok(())
}

pub fn validate_rootfs(dir: &Path) -> Result<PathBuf> {
    let meta = std::fs::metadata(dir).map_err(|e| {
        Failure::Usage.with(format!(
            "rootfs {}: {}",
            dir.display(),
            crate::error::os_reason(&e)
        ))
    })?;
    if !meta.is_dir() {
        fail(
            Failure::Usage,
            format!("rootfs {}: not a directory", dir.display()),
        )?;
    }
    let abs =
        std::fs::canonicalize(dir).with_context(|| format!("resolve rootfs {}", dir.display()))?;
    if abs == Path::new("/") {
        fail(
            Failure::Usage,
            "rootfs /: the host's own root cannot be pivoted into; leave out --rootfs for a read-only view of the host",
        )?;
    }
    Ok(abs)
}

/// RFC 1123 host names, as sethostname(2) and DNS both accept.
pub fn validate_hostname(name: &str) -> Result<String> {
    let ok_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if name.is_empty() || name.len() > 64 || !name.split('.').all(ok_label) {
        fail(
            Failure::Usage,
            format!(
                "invalid hostname {name:?}: use letters, digits and '-', dot-separated labels, at most 64 characters"
            ),
        )?;
    }
    Ok(name.to_owned())
}

/// An absolute, normalised path inside the container (no `..`, so it cannot climb out).
pub fn container_path(p: &OsStr, what: &str) -> Result<PathBuf> {
    no_nul(p, what)?;
    let path = Path::new(p);
    if !path.is_absolute() {
        fail(
            Failure::Usage,
            format!(
                "{what} {}: must be an absolute path inside the container",
                path.display()
            ),
        )?;
    }
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => fail(
                Failure::Usage,
                format!("{what} {}: '..' is not allowed", path.display()),
            )?,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::exit_code_of;

    fn usage_error(r: Result<impl std::fmt::Debug>) -> String {
        let e = r.expect_err("should be refused");
        assert_eq!(exit_code_of(&e), 125, "{e:#}");
        format!("{e:#}")
    }

    #[test]
    fn hostnames() {
        assert!(validate_hostname("gocker").is_ok());
        assert!(validate_hostname("a-b.c1").is_ok());
        for bad in [
            "",
            "-a",
            "a-",
            "a_b",
            "a b",
            "a..b",
            &"x".repeat(65),
            "héllo",
        ] {
            usage_error(validate_hostname(bad));
        }
    }
}
