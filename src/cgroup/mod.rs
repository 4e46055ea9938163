//! One cgroup per container, on cgroup v1 or v2.
//!
//! `limit_files` is the single table of which file gets which value; the runtime writes
//! it and the script renderer echoes it. Every function takes the cgroupfs root as a
//! parameter, so tests run it against a fake tree in a temporary directory. The table is
//! `files.rs`; what a v1 cgroup takes from its parent (device list, cpuset) is `parent.rs`.
//!
//! Layout: `<root>/gocker/<id>` on v2, `<root>/<controller>/gocker/<id>` on v1. The id is
//! the pid of the process that created the cgroup (gocker, or the script's shell), so a
//! later run can tell a leftover (owner gone) from a cgroup in use and sweep only those.

use crate::devices;
use crate::spec::{Limits, Throttle};
use anyhow::{Context, Result};
use std::io;
use std::path::{Path, PathBuf};

mod files;
mod parent;

pub use files::*;
use parent::*;

/// The parent of every container's cgroup; on v2 it holds no processes, because a v2
/// cgroup with processes cannot enable controllers for its children.
pub const PARENT: &str = "gocker";
pub const PROCS: &str = "cgroup.procs";
/// v1's per-thread membership file.
pub const TASKS: &str = "tasks";
pub const SUBTREE_CONTROL: &str = "cgroup.subtree_control";
pub const CONTROLLERS: &str = "cgroup.controllers";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

impl Version {
    pub fn name(self) -> &'static str {
        match self {
            Version::V1 => "v1",
            Version::V2 => "v2",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Controller {
    Cpu,
    Memory,
    Pids,
    /// Not a limit: the device allow list (`devices`). A v1 hierarchy; v2 has no such
    /// controller and attaches a BPF program to the cgroup instead.
    Devices,
    /// The rest only a bundle's `linux.resources` asks for.
    Cpuset,
    /// v2's `io`, v1's `blkio`.
    Io,
    /// v1 only, like the next: v2 has no such controllers.
    NetCls,
    NetPrio,
    Hugetlb,
}

impl Controller {
    /// The controller's name: its v1 hierarchy directory and its v2 `+name`.
    pub fn name(self) -> &'static str {
        match self {
            Controller::Cpu => "cpu",
            Controller::Memory => "memory",
            Controller::Pids => "pids",
            Controller::Devices => "devices",
            Controller::Cpuset => "cpuset",
            Controller::Io => "io",
            Controller::NetCls => "net_cls",
            Controller::NetPrio => "net_prio",
            Controller::Hugetlb => "hugetlb",
        }
    }

    /// The controller's v1 hierarchy directory, where it differs from its name.
    pub fn v1_name(self) -> &'static str {
        match self {
            Controller::Io => "blkio",
            other => other.name(),
        }
    }

    /// The option that needs this controller, for error messages.
    pub fn option(self) -> &'static str {
        match self {
            Controller::Cpu => "--cpus",
            Controller::Memory => "-m/--memory",
            Controller::Pids => "--pids-limit",
            Controller::Devices => "--security-opt devices=unconfined",
            Controller::Cpuset => "config.json's linux.resources.cpu.cpus/mems",
            Controller::Io => "config.json's linux.resources.blockIO",
            Controller::NetCls => "config.json's linux.resources.network.classID",
            Controller::NetPrio => "config.json's linux.resources.network.priorities",
            Controller::Hugetlb => "config.json's linux.resources.hugepageLimits",
        }
    }
}

/// A controller `check` reports: its name, the kernel option behind it (for hints), the
/// `Controller` of gocker's that uses it, if any, and whether only a bundle's
/// `linux.resources` asks for it (no command-line option does).
pub struct KnownController {
    pub name: &'static str,
    pub config: &'static str,
    pub used: Option<Controller>,
    pub bundle_only: bool,
}

const fn known(
    name: &'static str,
    config: &'static str,
    used: Option<Controller>,
    bundle_only: bool,
) -> KnownController {
    KnownController {
        name,
        config,
        used,
        bundle_only,
    }
}

/// The one controller list run, script and check read: the three the command line's
/// limits use, then those only a bundle's resources use.
pub const KNOWN_CONTROLLERS: [KnownController; 8] = [
    known("cpu", "CONFIG_CFS_BANDWIDTH", Some(Controller::Cpu), false),
    known("memory", "CONFIG_MEMCG", Some(Controller::Memory), false),
    known("pids", "CONFIG_CGROUP_PIDS", Some(Controller::Pids), false),
    known("cpuset", "CONFIG_CPUSETS", Some(Controller::Cpuset), true),
    known("io", "CONFIG_BLK_CGROUP", Some(Controller::Io), true),
    known(
        "net_cls",
        "CONFIG_CGROUP_NET_CLASSID",
        Some(Controller::NetCls),
        true,
    ),
    known(
        "net_prio",
        "CONFIG_CGROUP_NET_PRIO",
        Some(Controller::NetPrio),
        true,
    ),
    known(
        "hugetlb",
        "CONFIG_CGROUP_HUGETLB",
        Some(Controller::Hugetlb),
        true,
    ),
];

/// The controllers `limits` need, each once, in a fixed order (v1's files: a setting v2
/// lacks is refused there before any cgroup is made, see `refused_on`).
pub fn needed_controllers(limits: &Limits) -> Vec<Controller> {
    let mut c: Vec<Controller> = limit_files(limits, Version::V1)
        .into_iter()
        .chain(limit_files(limits, Version::V2))
        .map(|l| l.controller)
        .collect();
    c.sort_unstable();
    c.dedup();
    c
}

/// The controllers a container's cgroup has: those of `limits`, and `devices` when the
/// device allow list applies (then every container has a cgroup, limits or not).
pub fn controllers(limits: &Limits, devices: bool) -> Vec<Controller> {
    let mut c = needed_controllers(limits);
    if devices {
        c.push(Controller::Devices);
    }
    c
}

/// The file that counts OOM kills in a container's memory cgroup, and its key.
pub fn oom_counter(version: Version) -> (&'static str, &'static str) {
    match version {
        Version::V1 => ("memory.oom_control", "oom_kill"),
        Version::V2 => ("memory.events", "oom_kill"),
    }
}

/// The directories a container's cgroup occupies: one per controller on v1, one on v2.
/// `leaf` is the cgroup's path below each hierarchy's root (`ContainerSpec::cgroup_leaf`:
/// `gocker/<id>`, or an OCI bundle's cgroupsPath).
pub fn container_dirs(
    version: Version,
    root: &Path,
    controllers: &[Controller],
    leaf: &Path,
) -> Vec<PathBuf> {
    match version {
        Version::V2 => vec![root.join(leaf)],
        Version::V1 => controllers
            .iter()
            .map(|c| root.join(c.v1_name()).join(leaf))
            .collect(),
    }
}

/// Where a process joins a container's cgroup by itself: for each hierarchy (v1: one
/// per controller), its root directory and, relative to it, the file to write "0" (the
/// writer itself) to. The writer must be single-threaded, as the container's process
/// before exec is. Relative, because the writer holds the hierarchies open from before
/// its pivot_root, when they are no longer reachable by path.
///
/// v1's per-thread `tasks` file moves one thread, and the kernel (since 6.7) then skips
/// the global cgroup_threadgroup_rwsem; writing a pid to `cgroup.procs` takes it for
/// writing, which waits for an RCU grace period: measured here, 5-15 ms for the first
/// such write after an idle spell. v2 joins at clone time instead (CLONE_INTO_CGROUP);
/// its fallback uses `cgroup.procs`.
pub fn join_points(
    version: Version,
    root: &Path,
    controllers: &[Controller],
    leaf: &Path,
) -> Vec<(PathBuf, PathBuf)> {
    let file = match version {
        Version::V1 => TASKS,
        Version::V2 => PROCS,
    };
    let rel = leaf.join(file);
    match version {
        Version::V2 => vec![(root.to_path_buf(), rel)],
        Version::V1 => controllers
            .iter()
            .map(|c| (root.join(c.v1_name()), rel.clone()))
            .collect(),
    }
}

fn write(path: &Path, value: &str) -> Result<()> {
    std::fs::write(path, value).with_context(|| format!("write {value:?} to {}", path.display()))
}

/// A container's cgroup, removed when dropped (every exit path, errors included).
#[derive(Debug)]
pub struct Cgroup {
    pub version: Version,
    pub controllers: Vec<Controller>,
    /// Leaf directories, in `controllers` order on v1; the one leaf on v2.
    pub dirs: Vec<PathBuf>,
}

impl Cgroup {
    /// Create the container's cgroup under `root` with `limits` written, before any
    /// process is in it; with `devices`, v1's device allow list too (v2's program is
    /// attached by the runtime). `leaf` is its path below each hierarchy's root; under
    /// `gocker/`, its name should be the creating process's pid (see `sweep`).
    pub fn create(
        version: Version,
        root: &Path,
        leaf: &Path,
        limits: &Limits,
        devices: bool,
    ) -> Result<Cgroup> {
        if let Some(why) = refused_on(limits, version) {
            return Err(crate::error::Failure::Usage.with(why));
        }
        let controllers = controllers(limits, devices);
        let dirs = container_dirs(version, root, &controllers, leaf);
        // Built up as directories appear, so a failure half-way removes what exists.
        let mut cg = Cgroup {
            version,
            controllers: controllers.clone(),
            dirs: Vec::new(),
        };
        if version == Version::V2 {
            // Controllers must be enabled top-down: a child can only use what its
            // parent's subtree_control hands it.
            let enable: Vec<Controller> = controllers
                .iter()
                .copied()
                .filter(|c| *c != Controller::Devices)
                .collect();
            enable_controllers(root, &enable)?;
            let mut dir = root.to_path_buf();
            for part in leaf.parent().into_iter().flat_map(Path::components) {
                dir.push(part);
                make_dir(&dir)?;
                enable_controllers(&dir, &enable)?;
            }
        }
        let depth = leaf.components().count();
        for (dir, controller) in dirs.iter().zip(&controllers) {
            // v1 cpuset: a new cgroup starts with no CPUs and no memory nodes, and takes no
            // process until it has both: each directory made gets its parent's.
            let cpuset = version == Version::V1 && *controller == Controller::Cpuset;
            // The directories between the hierarchy (which must exist: never made here)
            // and the leaf, top-down.
            let mut hierarchy = dir.as_path();
            for _ in 0..depth {
                hierarchy = hierarchy.parent().unwrap_or(hierarchy);
            }
            let mut up = hierarchy.to_path_buf();
            for part in leaf.parent().into_iter().flat_map(Path::components) {
                up.push(part);
                make_dir(&up)?;
                if cpuset {
                    inherit_cpuset(&up)?;
                }
            }
            if devices
                && version == Version::V1
                && dir.parent()
                    == Some(root.join(Controller::Devices.name()).join(PARENT).as_path())
            {
                let parent = root.join(Controller::Devices.name()).join(PARENT);
                prepare_device_parent(&parent);
                widen_device_parent(&parent, &devices::List::for_container(&limits.devices));
            }
            match std::fs::create_dir(dir) {
                // A leftover of an earlier process with our pid (no live process but us
                // has it). rmdir fails if anything still runs in it; then so do we.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    std::fs::remove_dir(dir).and_then(|()| std::fs::create_dir(dir))
                }
                r => r,
            }
            .with_context(|| format!("create cgroup {}", dir.display()))?;
            cg.dirs.push(dir.clone());
            if cpuset {
                inherit_cpuset(dir)?;
            }
        }
        for l in limit_files(limits, version) {
            let file = cg.dir_of(l.controller).join(l.file);
            if l.if_present && !file.exists() {
                continue;
            }
            write(&file, &l.value)?;
        }
        if devices && version == Version::V1 {
            // A new v1 devices cgroup copies its parent's rules when it is made, and the
            // parent gocker/ holds the list (see `prepare_device_parent`): then there is
            // nothing to write, which cost 120-320 us a container (the deny-all write
            // alone 80-240 us), on the path the child waits on. Checked, never assumed:
            // a leaf elsewhere (a bundle's cgroupsPath) or under a parent that is not set
            // gets the list written.
            let dir = cg.dir_of(Controller::Devices).to_path_buf();
            let list = devices::List::for_container(&limits.devices);
            if !has_device_list(&dir, &list) {
                write_device_list(&dir, &list)?;
            }
        }
        Ok(cg)
    }

    fn dir_of(&self, c: Controller) -> &Path {
        match self.version {
            Version::V2 => &self.dirs[0],
            Version::V1 => {
                let i = self.controllers.iter().position(|x| *x == c).unwrap_or(0);
                &self.dirs[i]
            }
        }
    }

    /// How many processes the kernel killed for hitting the memory limit.
    pub fn oom_kills(&self) -> u64 {
        if !self.controllers.contains(&Controller::Memory) {
            return 0;
        }
        let (file, key) = oom_counter(self.version);
        let text =
            std::fs::read_to_string(self.dir_of(Controller::Memory).join(file)).unwrap_or_default();
        counter(&text, key)
    }

    /// Remove the cgroup directories. The container's processes are gone by now, but the
    /// kernel may take a moment to let go of a cgroup (rmdir says EBUSY), so retry briefly.
    pub fn remove(&mut self) -> Result<()> {
        let mut first_err = None;
        for d in std::mem::take(&mut self.dirs) {
            if let Err(e) = rmdir_retrying(&d) {
                first_err.get_or_insert(
                    anyhow::Error::new(e).context(format!("remove cgroup {}", d.display())),
                );
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        if let Err(e) = self.remove() {
            eprintln!("gocker: {}", crate::error::one_line(&e));
        }
    }
}

fn counter(text: &str, key: &str) -> u64 {
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

fn make_dir(dir: &Path) -> Result<()> {
    match std::fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("create cgroup {}", dir.display())),
    }
}

/// Enable `controllers` for the children of `dir` (v2), writing only what is missing.
fn enable_controllers(dir: &Path, controllers: &[Controller]) -> Result<()> {
    let file = dir.join(SUBTREE_CONTROL);
    let current =
        std::fs::read_to_string(&file).with_context(|| format!("read {}", file.display()))?;
    for c in controllers {
        if !current.split_whitespace().any(|w| w == c.name()) {
            write(&file, &format!("+{}", c.name()))?;
        }
    }
    Ok(())
}

fn rmdir_retrying(dir: &Path) -> io::Result<()> {
    let mut delay = std::time::Duration::from_micros(200);
    for _ in 0..12 {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                std::thread::sleep(delay);
                delay *= 2;
            }
            Err(e) => return Err(e),
        }
    }
    std::fs::remove_dir(dir)
}

/// Remove leftover container cgroups: those whose owner (the pid in their name) is gone.
/// A cgroup that still has processes cannot be removed (rmdir says EBUSY), so a running
/// container is never hit, and `self_pid`'s own is skipped (it is in use, or about to be).
pub fn sweep(version: Version, root: &Path, self_pid: i32, alive: impl Fn(i32) -> bool) {
    let parents: Vec<PathBuf> = match version {
        Version::V2 => vec![root.join(PARENT)],
        Version::V1 => [
            Controller::Cpu,
            Controller::Memory,
            Controller::Pids,
            Controller::Devices,
            Controller::Cpuset,
            Controller::Io,
            Controller::NetCls,
            Controller::NetPrio,
            Controller::Hugetlb,
        ]
        .iter()
        .map(|c| root.join(c.v1_name()).join(PARENT))
        .collect(),
    };
    for parent in parents {
        let Ok(entries) = std::fs::read_dir(&parent) else {
            continue;
        };
        for e in entries.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            if pid != self_pid && !alive(pid) && e.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = std::fs::remove_dir(e.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::CpuLimit;
    use crate::testutil::TempDir;

    fn limits() -> Limits {
        Limits {
            cpu: Some(CpuLimit {
                quota_us: 50_000,
                period_us: 100_000,
            }),
            memory_bytes: Some(32 << 20),
            pids: Some(10),
            cpu_shares: None,
            ..Default::default()
        }
    }

    #[test]
    fn cpu_shares_are_v1_shares_and_v2_weight() {
        let l = Limits {
            cpu_shares: Some(512),
            ..Default::default()
        };
        let files = |v| {
            limit_files(&l, v)
                .into_iter()
                .map(|f| (f.file, f.value))
                .collect::<Vec<_>>()
        };
        assert_eq!(files(Version::V1), [("cpu.shares", "512".to_string())]);
        assert_eq!(files(Version::V2), [("cpu.weight", "20".to_string())]);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(needed_controllers(&l), [Controller::Cpu]);
    }

    fn pairs(v: Version) -> Vec<(&'static str, String)> {
        limit_files(&limits(), v)
            .into_iter()
            .map(|l| (l.file, l.value))
            .collect()
    }

    #[test]
    fn table_v1_and_v2() {
        assert_eq!(
            pairs(Version::V1),
            [
                ("cpu.cfs_quota_us", "50000".to_string()),
                ("cpu.cfs_period_us", "100000".into()),
                ("memory.limit_in_bytes", "33554432".into()),
                ("memory.memsw.limit_in_bytes", "33554432".into()),
                ("pids.max", "10".into()),
            ]
        );
        assert_eq!(
            pairs(Version::V2),
            [
                ("cpu.max", "50000 100000".to_string()),
                ("memory.max", "33554432".into()),
                ("memory.swap.max", "0".into()),
                ("pids.max", "10".into()),
            ]
        );
        assert!(limit_files(&Limits::default(), Version::V2).is_empty());
        assert_eq!(
            needed_controllers(&limits()),
            [Controller::Cpu, Controller::Memory, Controller::Pids]
        );
    }

    /// A fake v2 root: the files the kernel would provide, as plain files.
    fn fake_v2() -> TempDir {
        let t = TempDir::new("cg2");
        std::fs::write(t.path().join(CONTROLLERS), "cpuset cpu io memory pids\n").unwrap();
        std::fs::write(t.path().join(SUBTREE_CONTROL), "").unwrap();
        t
    }

    #[test]
    fn v2_creates_parent_enables_controllers_and_writes_limits() {
        let t = fake_v2();
        let root = t.path();
        // The kernel makes these files on mkdir; fake it by pre-creating the parent.
        std::fs::create_dir(root.join(PARENT)).unwrap();
        std::fs::write(root.join(PARENT).join(SUBTREE_CONTROL), "").unwrap();
        let mut cg = Cgroup::create(
            Version::V2,
            root,
            Path::new("gocker/4242"),
            &limits(),
            false,
        )
        .unwrap();
        let leaf = root.join("gocker/4242");
        assert_eq!(cg.dirs, std::slice::from_ref(&leaf));
        assert_eq!(
            std::fs::read_to_string(leaf.join("cpu.max")).unwrap(),
            "50000 100000"
        );
        assert_eq!(
            std::fs::read_to_string(leaf.join("memory.max")).unwrap(),
            "33554432"
        );
        assert_eq!(
            std::fs::read_to_string(leaf.join("pids.max")).unwrap(),
            "10"
        );
        // No swap accounting in this fake kernel: the swap limit is not written.
        assert!(!leaf.join("memory.swap.max").exists());
        // A plain file keeps only the last write; the kernel's file accumulates. What
        // matters is that each needed controller was written, last one last.
        assert_eq!(
            std::fs::read_to_string(root.join(SUBTREE_CONTROL)).unwrap(),
            "+pids"
        );
        assert_eq!(
            join_points(Version::V2, root, &cg.controllers, Path::new("gocker/4242")),
            [(
                root.to_path_buf(),
                PathBuf::from("gocker/4242/cgroup.procs")
            )]
        );
        std::fs::write(
            leaf.join("memory.events"),
            "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
        )
        .unwrap();
        assert_eq!(cg.oom_kills(), 1);
        // Fake files make the directory non-empty; remove them as the kernel would.
        for f in ["cpu.max", "memory.max", "pids.max", "memory.events"] {
            std::fs::remove_file(leaf.join(f)).unwrap();
        }
        cg.remove().unwrap();
        assert!(!leaf.exists());
        assert!(root.join(PARENT).exists(), "the shared parent stays");
    }

    #[test]
    fn v2_skips_controllers_already_enabled() {
        let t = fake_v2();
        std::fs::write(t.path().join(SUBTREE_CONTROL), "cpu memory pids").unwrap();
        enable_controllers(t.path(), &[Controller::Cpu, Controller::Memory]).unwrap();
        assert_eq!(
            std::fs::read_to_string(t.path().join(SUBTREE_CONTROL)).unwrap(),
            "cpu memory pids"
        );
    }

    #[test]
    fn v1_one_directory_per_controller() {
        let t = TempDir::new("cg1");
        let root = t.path();
        for c in ["cpu", "memory", "pids"] {
            std::fs::create_dir(root.join(c)).unwrap();
        }
        let only_cpu = Limits {
            cpu: limits().cpu,
            ..Default::default()
        };
        let cg =
            Cgroup::create(Version::V1, root, Path::new("gocker/99"), &only_cpu, false).unwrap();
        assert_eq!(cg.dirs, [root.join("cpu/gocker/99")]);
        assert!(
            !root.join("memory/gocker").exists(),
            "no cgroup where no limit asks"
        );
        assert_eq!(
            std::fs::read_to_string(root.join("cpu/gocker/99/cpu.cfs_quota_us")).unwrap(),
            "50000"
        );
        assert_eq!(
            join_points(Version::V1, root, &cg.controllers, Path::new("gocker/99")),
            [(root.join("cpu"), PathBuf::from("gocker/99/tasks"))],
            "v1: each hierarchy's per-thread file"
        );
        for f in ["cpu.cfs_quota_us", "cpu.cfs_period_us"] {
            std::fs::remove_file(root.join("cpu/gocker/99").join(f)).unwrap();
        }
        drop(cg);
        assert!(
            !root.join("cpu/gocker/99").exists(),
            "dropped means removed"
        );
    }

    #[test]
    fn a_leftover_named_after_us_is_replaced() {
        let t = TempDir::new("cgstale");
        let root = t.path();
        std::fs::create_dir_all(root.join("pids/gocker/55")).unwrap();
        let only_pids = Limits {
            pids: Some(3),
            ..Default::default()
        };
        let cg =
            Cgroup::create(Version::V1, root, Path::new("gocker/55"), &only_pids, false).unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("pids/gocker/55/pids.max")).unwrap(),
            "3"
        );
        std::fs::remove_file(root.join("pids/gocker/55/pids.max")).unwrap();
        drop(cg);
    }

    #[test]
    fn v1_failure_half_way_leaves_nothing() {
        let t = TempDir::new("cg1f");
        let root = t.path();
        std::fs::create_dir(root.join("cpu")).unwrap();
        // No memory hierarchy: creation fails after the cpu cgroup exists.
        let err =
            Cgroup::create(Version::V1, root, Path::new("gocker/7"), &limits(), false).unwrap_err();
        assert!(format!("{err:#}").contains("memory"), "{err:#}");
        assert!(!root.join("cpu/gocker/7").exists());
    }

    #[test]
    fn devices_give_every_container_a_cgroup() {
        let t = TempDir::new("cgdev1");
        let root = t.path();
        std::fs::create_dir(root.join("devices")).unwrap();
        let mut cg = Cgroup::create(
            Version::V1,
            root,
            Path::new("gocker/77"),
            &Limits::default(),
            true,
        )
        .unwrap();
        let leaf = root.join("devices/gocker/77");
        assert_eq!(cg.dirs, std::slice::from_ref(&leaf));
        assert_eq!(
            std::fs::read_to_string(leaf.join(devices::V1_DENY)).unwrap(),
            "a"
        );
        // One write per rule, through one open file: a plain file holds them all.
        assert_eq!(
            std::fs::read_to_string(leaf.join(devices::V1_ALLOW)).unwrap(),
            devices::List::for_container(&[]).v1_list_lines().concat()
        );
        assert_eq!(
            join_points(Version::V1, root, &cg.controllers, Path::new("gocker/77")),
            [(root.join("devices"), PathBuf::from("gocker/77/tasks"))]
        );
        for f in [devices::V1_DENY, devices::V1_ALLOW] {
            std::fs::remove_file(leaf.join(f)).unwrap();
        }
        cg.remove().unwrap();
        assert!(!leaf.exists());

        // v2: a leaf of its own, and no "+devices" (v2 has no such controller).
        let t = fake_v2();
        let root = t.path();
        std::fs::create_dir(root.join(PARENT)).unwrap();
        std::fs::write(root.join(PARENT).join(SUBTREE_CONTROL), "").unwrap();
        let mut cg = Cgroup::create(
            Version::V2,
            root,
            Path::new("gocker/78"),
            &Limits::default(),
            true,
        )
        .unwrap();
        assert_eq!(cg.dirs, [root.join("gocker/78")]);
        assert_eq!(
            std::fs::read_to_string(root.join(SUBTREE_CONTROL)).unwrap(),
            ""
        );
        cg.remove().unwrap();
        assert_eq!(
            controllers(&Limits::default(), false),
            [],
            "unconfined and unlimited: no cgroup"
        );
    }

    #[test]
    fn v1_writes_a_bundles_device_rules_in_order() {
        use crate::devices::{ACC_ALL, ACC_WRITE, Kind, Rule};
        let t = TempDir::new("cgdevrules");
        let root = t.path();
        std::fs::create_dir(root.join("devices")).unwrap();
        let rule = |allow, kind, major, minor, access| Rule {
            allow,
            kind,
            major,
            minor,
            access,
        };
        let limits = Limits {
            devices: vec![
                rule(false, None, None, None, ACC_ALL),
                rule(true, Some(Kind::Char), Some(10), Some(229), ACC_ALL),
            ],
            ..Default::default()
        };
        let leaf = root.join("devices/cgrouptest");
        // As the kernel shows a new cgroup's list: inherited allow-all, so it is written.
        let mut cg =
            Cgroup::create(Version::V1, root, Path::new("cgrouptest"), &limits, true).unwrap();
        assert_eq!(
            std::fs::read_to_string(leaf.join(devices::V1_DENY)).unwrap(),
            "a"
        );
        let allowed = std::fs::read_to_string(leaf.join(devices::V1_ALLOW)).unwrap();
        assert!(allowed.starts_with("c 10:229 rwmc 1:3 rwm"), "{allowed}");
        for f in [devices::V1_DENY, devices::V1_ALLOW] {
            std::fs::remove_file(leaf.join(f)).unwrap();
        }
        cg.remove().unwrap();

        // Allow-all, then deny writes to sda: `a` to devices.allow, the denial after it.
        let limits = Limits {
            devices: vec![
                rule(true, None, None, None, ACC_ALL),
                rule(false, Some(Kind::Block), Some(8), Some(0), ACC_WRITE),
            ],
            ..Default::default()
        };
        let mut cg =
            Cgroup::create(Version::V1, root, Path::new("cgrouptest"), &limits, true).unwrap();
        assert_eq!(
            std::fs::read_to_string(leaf.join(devices::V1_ALLOW)).unwrap(),
            "a"
        );
        assert_eq!(
            std::fs::read_to_string(leaf.join(devices::V1_DENY)).unwrap(),
            "b 8:0 w"
        );
        for f in [devices::V1_DENY, devices::V1_ALLOW] {
            std::fs::remove_file(leaf.join(f)).unwrap();
        }
        cg.remove().unwrap();
    }

    /// What runtime-tools' linux_cgroups_memory and _cpus ask for, and a block throttle.
    fn bundle_limits() -> Limits {
        Limits {
            memory_bytes: Some(50_593_792),
            memory_swap_bytes: Some(101_187_584),
            memory_reservation_bytes: Some(50_593_792),
            memory_swappiness: Some(10),
            kernel_tcp_bytes: Some(50_593_792),
            oom_kill_disable: true,
            cpuset_cpus: Some("0-1".into()),
            cpuset_mems: Some("0".into()),
            rt_period_us: Some(1_000_000),
            rt_runtime_us: Some(950_000),
            blkio_throttles: vec![crate::spec::BlkioThrottle {
                kind: Throttle::WriteBps,
                major: 8,
                minor: 0,
                rate: 4096,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_bundles_resources_v1_and_v2_from_one_table() {
        let files = |l: &Limits, v| {
            limit_files(l, v)
                .into_iter()
                .map(|f| (f.file, f.value))
                .collect::<Vec<_>>()
        };
        let s = |x: &str| x.to_string();
        assert_eq!(
            files(&bundle_limits(), Version::V1),
            [
                ("memory.limit_in_bytes", s("50593792")),
                ("memory.memsw.limit_in_bytes", s("101187584")),
                ("cpuset.cpus", s("0-1")),
                ("cpuset.mems", s("0")),
                ("cpu.rt_period_us", s("1000000")),
                ("cpu.rt_runtime_us", s("950000")),
                ("memory.soft_limit_in_bytes", s("50593792")),
                ("memory.swappiness", s("10")),
                ("memory.kmem.tcp.limit_in_bytes", s("50593792")),
                ("memory.oom_control", s("1")),
                ("blkio.throttle.write_bps_device", s("8:0 4096")),
            ]
        );
        assert_eq!(
            needed_controllers(&bundle_limits()),
            [
                Controller::Cpu,
                Controller::Memory,
                Controller::Cpuset,
                Controller::Io
            ]
        );
        // v2 has no swappiness, TCP memory, OOM switch or real-time setting: refused,
        // naming the first field, and nothing is made.
        assert_eq!(
            refused_on(&bundle_limits(), Version::V2).unwrap(),
            "config.json: linux.resources.cpu.realtimePeriod: cgroup v2 has no such setting (a cgroup v1 one)"
        );
        assert_eq!(refused_on(&bundle_limits(), Version::V1), None);
        let t = fake_v2();
        let e = Cgroup::create(
            Version::V2,
            t.path(),
            Path::new("cgrouptest"),
            &bundle_limits(),
            false,
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("realtimePeriod"), "{e:#}");
        assert!(!t.path().join("cgrouptest").exists());
        let v2_able = Limits {
            rt_period_us: None,
            rt_runtime_us: None,
            memory_swappiness: None,
            kernel_tcp_bytes: None,
            oom_kill_disable: false,
            blkio_weight: Some(500),
            ..bundle_limits()
        };
        assert_eq!(
            files(&v2_able, Version::V2),
            [
                ("memory.max", s("50593792")),
                ("memory.swap.max", s("50593792")),
                ("cpuset.cpus", s("0-1")),
                ("cpuset.mems", s("0")),
                ("memory.low", s("50593792")),
                ("io.weight", s("4950")),
                ("io.max", s("8:0 wbps=4096")),
            ]
        );
        let huge = Limits {
            hugepages: vec![("2MB".into(), 2 << 30), ("1GB".into(), 4 << 30)],
            ..Limits::default()
        };
        assert_eq!(
            files(&huge, Version::V1),
            [
                ("hugetlb.2MB.limit_in_bytes", s("2147483648")),
                ("hugetlb.1GB.limit_in_bytes", s("4294967296")),
            ]
        );
        assert_eq!(
            files(&huge, Version::V2),
            [
                ("hugetlb.2MB.max", s("2147483648")),
                ("hugetlb.1GB.max", s("4294967296")),
            ]
        );
        assert_eq!(needed_controllers(&huge), [Controller::Hugetlb]);
        assert_eq!(blkio_weight_to_io(10), 1);
        assert_eq!(blkio_weight_to_io(1000), 10_000);
        // The script writes the command line's limits only (and cpu.shares).
        assert_eq!(script_refusal(&bundle_limits()), Some("memory.swap"));
        let swappiness = Limits {
            memory_swappiness: Some(10),
            ..Limits::default()
        };
        assert_eq!(script_refusal(&swappiness), Some("memory.swappiness"));
        let cli_like = Limits {
            memory_bytes: Some(64 << 20),
            memory_swap_bytes: Some(64 << 20),
            cpu_shares: Some(512),
            ..Limits::default()
        };
        assert_eq!(script_refusal(&cli_like), None);
    }

    #[test]
    fn v1_cpuset_directories_get_their_parents_cpus_and_nodes() {
        let t = TempDir::new("cgcpuset");
        let root = t.path();
        for c in ["cpuset", "cpu", "memory", "blkio"] {
            std::fs::create_dir(root.join(c)).unwrap();
        }
        std::fs::write(root.join("cpuset/cpuset.cpus"), "0-3\n").unwrap();
        std::fs::write(root.join("cpuset/cpuset.mems"), "0\n").unwrap();
        let limits = Limits {
            cpuset_cpus: Some("1".into()),
            ..Default::default()
        };
        let leaf = Path::new("testdir/cgrouptest/container");
        let mut cg = Cgroup::create(Version::V1, root, leaf, &limits, false).unwrap();
        let read = |p: &str| std::fs::read_to_string(root.join("cpuset").join(p)).unwrap();
        assert_eq!(read("testdir/cpuset.cpus"), "0-3");
        assert_eq!(read("testdir/cgrouptest/cpuset.mems"), "0");
        assert_eq!(read("testdir/cgrouptest/container/cpuset.cpus"), "1");
        assert_eq!(read("testdir/cgrouptest/container/cpuset.mems"), "0");
        assert_eq!(cg.dirs, [root.join("cpuset").join(leaf)]);
        for f in ["cpuset.cpus", "cpuset.mems"] {
            std::fs::remove_file(root.join("cpuset").join(leaf).join(f)).unwrap();
        }
        cg.remove().unwrap();

        // blkio is v1's name of the io controller.
        let limits = Limits {
            blkio_weight: Some(100),
            ..Default::default()
        };
        let mut cg =
            Cgroup::create(Version::V1, root, Path::new("gocker/5"), &limits, false).unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("blkio/gocker/5/blkio.weight")).unwrap(),
            "100"
        );
        assert_eq!(
            join_points(Version::V1, root, &cg.controllers, Path::new("gocker/5")),
            [(root.join("blkio"), PathBuf::from("gocker/5/tasks"))]
        );
        std::fs::remove_file(root.join("blkio/gocker/5/blkio.weight")).unwrap();
        cg.remove().unwrap();
    }

    #[test]
    fn sweep_removes_only_dead_owners() {
        let t = TempDir::new("sweep");
        let root = t.path();
        for id in ["100", "200", "300", "notapid"] {
            std::fs::create_dir_all(root.join("gocker").join(id)).unwrap();
        }
        // 300 is "still in use": it has a file, as a cgroup with processes refuses rmdir.
        std::fs::write(root.join("gocker/300/busy"), "").unwrap();
        std::fs::create_dir_all(root.join("gocker/400")).unwrap();
        sweep(Version::V2, root, 200, |pid| pid == 100);
        assert!(root.join("gocker/100").exists(), "owner alive: kept");
        assert!(root.join("gocker/200").exists(), "ours: in use, kept");
        assert!(!root.join("gocker/400").exists(), "owner gone: removed");
        assert!(root.join("gocker/300").exists(), "busy: rmdir fails, kept");
        assert!(root.join("gocker/notapid").exists(), "not ours: untouched");
    }

    #[test]
    fn oom_counter_parsing() {
        assert_eq!(
            counter("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n", "oom_kill"),
            2
        );
        assert_eq!(counter("", "oom_kill"), 0);
    }
}
