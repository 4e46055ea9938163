//! Cgroup probes: how cgroups are mounted (v1, hybrid, v2), whether a controller is
//! usable, and the hierarchies a container's cgroups go in.

use super::*;

/// How cgroups are mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupMode {
    /// Only v1 hierarchies, one per controller.
    V1,
    /// v1 hierarchies for the controllers plus a controller-less cgroup2 at `unified/`.
    Hybrid,
    /// The unified hierarchy alone.
    V2,
}

impl CgroupMode {
    pub fn name(self) -> &'static str {
        match self {
            CgroupMode::V1 => "v1",
            CgroupMode::Hybrid => "hybrid",
            CgroupMode::V2 => "v2",
        }
    }

    /// The version containers' limits are written with. Hybrid hosts keep their
    /// controllers on v1, so that is where limits go.
    pub fn limits_version(self) -> Version {
        match self {
            CgroupMode::V2 => Version::V2,
            CgroupMode::V1 | CgroupMode::Hybrid => Version::V1,
        }
    }
}

/// Detect the cgroup mode under `root` from the files the kernel puts there: a cgroup2
/// root has `cgroup.controllers`; a hybrid host has one at `unified/`; a v1 host has
/// per-controller hierarchies with `cgroup.procs`.
pub fn cgroup_mode(root: &Path) -> Option<CgroupMode> {
    if root.join(CONTROLLERS).is_file() {
        Some(CgroupMode::V2)
    } else if root.join("unified").join(CONTROLLERS).is_file() {
        Some(CgroupMode::Hybrid)
    } else if ["cpu", "memory", "pids", "cpuset", "blkio", "devices"]
        .iter()
        .any(|c| root.join(c).join(PROCS).is_file())
    {
        Some(CgroupMode::V1)
    } else {
        None
    }
}

/// The kernel option behind each controller, for hints.
pub(crate) fn controller_config(name: &str) -> &'static str {
    crate::cgroup::KNOWN_CONTROLLERS
        .iter()
        .find(|c| c.name == name)
        .map_or("CONFIG_CGROUPS", |c| c.config)
}

/// The words of a cgroup list file (`cgroup.controllers`, `cgroup.subtree_control`).
pub(crate) fn words(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

pub(crate) fn has_processes(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join(PROCS)).is_ok_and(|s| !s.trim().is_empty())
}

/// Can containers use controller `name` (cpu, memory, pids, cpuset, io) on this host?
pub fn controller(root: &Path, mode: CgroupMode, name: &str) -> Availability {
    match mode {
        CgroupMode::V2 => v2_controller(root, name),
        CgroupMode::V1 | CgroupMode::Hybrid => v1_controller(root, mode, name),
    }
}

pub(crate) fn v2_controller(root: &Path, name: &str) -> Availability {
    let offered = root.join(CONTROLLERS);
    // Only a non-root cgroup has cgroup.type: then /sys/fs/cgroup is a delegated subtree
    // (a container's, a cgroup namespace's), and the rules for non-root cgroups apply.
    let delegated = root.join("cgroup.type").exists();
    if !words(&offered).iter().any(|c| c == name) {
        let fix = if delegated {
            format!(
                "{} is a delegated cgroup: whoever created it must enable {name} in its parent's {SUBTREE_CONTROL} (systemd: Delegate=yes)",
                root.display()
            )
        } else {
            format!(
                "the kernel does not offer it: look for cgroup_disable= in /proc/cmdline, or use a kernel with {}",
                controller_config(name)
            )
        };
        return Availability::missing(format!("not offered in {}", offered.display()), fix);
    }
    // v2's no-internal-process rule: a non-root cgroup with processes in it cannot enable
    // controllers for its children. gocker enables them top-down (root, then gocker/).
    let enabled = |dir: &Path| words(&dir.join(SUBTREE_CONTROL)).iter().any(|c| c == name);
    if delegated && !enabled(root) && has_processes(root) {
        return Availability::missing(
            format!(
                "{} holds processes and is not the root cgroup, so it cannot enable {name} for its children (no-internal-process rule)",
                root.display()
            ),
            format!(
                "move its processes into a child cgroup (mkdir {0}/init; echo PID > {0}/init/{PROCS} for each), then gocker can enable {name}",
                root.display()
            ),
        );
    }
    let parent = root.join(PARENT);
    if parent.is_dir() && !enabled(&parent) && has_processes(&parent) {
        return Availability::missing(
            format!(
                "{} holds processes, so it cannot enable {name} for the containers below it (no-internal-process rule)",
                parent.display()
            ),
            format!(
                "move them out: for p in $(cat {}/{PROCS}); do echo $p > {}/{PROCS}; done",
                parent.display(),
                root.display()
            ),
        );
    }
    Availability::Available
}

pub(crate) fn v1_controller(root: &Path, mode: CgroupMode, name: &str) -> Availability {
    // v1 calls the io controller blkio.
    let v1_name = if name == "io" { "blkio" } else { name };
    let dir = root.join(v1_name);
    if dir.join(PROCS).is_file() {
        return Availability::Available;
    }
    // Mounted together with others (cpu,cpuacct) but without the usual symlink.
    let comounted = std::fs::read_dir(root).ok().and_then(|rd| {
        rd.flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|n| n.contains(',') && n.split(',').any(|c| c == v1_name))
    });
    if let Some(together) = comounted {
        return Availability::missing(
            format!(
                "mounted at {} but not at {}",
                root.join(&together).display(),
                dir.display()
            ),
            format!("link it: ln -s {together} {}", dir.display()),
        );
    }
    let unified = root.join("unified");
    if mode == CgroupMode::Hybrid && words(&unified.join(CONTROLLERS)).iter().any(|c| c == name) {
        return Availability::missing(
            format!(
                "bound to the cgroup2 hierarchy at {}, but on a hybrid host limits use v1",
                unified.display()
            ),
            "boot with systemd.unified_cgroup_hierarchy=1 to put every controller on v2",
        );
    }
    Availability::missing(
        format!("no v1 hierarchy mounted at {}", dir.display()),
        format!(
            "mount it: mkdir -p {0} && mount -t cgroup -o {v1_name} cgroup {0} (needs a kernel with {1})",
            dir.display(),
            controller_config(name)
        ),
    )
}

/// The host's cgroup facts a container needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupHost {
    pub mode: CgroupMode,
    pub root: PathBuf,
}

impl CgroupHost {
    pub fn probe(root: &Path) -> Option<CgroupHost> {
        cgroup_mode(root).map(|mode| CgroupHost {
            mode,
            root: root.to_path_buf(),
        })
    }

    pub fn version(&self) -> Version {
        self.mode.limits_version()
    }

    /// The first controller in `needed` that this host lacks, with the reason and fix.
    pub fn first_missing(&self, needed: &[Controller]) -> Option<(Controller, Lack)> {
        needed
            .iter()
            .find_map(|c| match controller(&self.root, self.mode, c.name()) {
                Availability::Available => None,
                Availability::Missing(lack) => Some((*c, lack)),
            })
    }
}

/// A cgroup filesystem in the mount table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupMount {
    /// `cgroup` (v1) or `cgroup2`.
    pub fstype: String,
    pub path: PathBuf,
    /// For v1, the controllers (or `name=` of a named hierarchy) it carries.
    pub controllers: Vec<String>,
}

/// The cgroup filesystems mounted in this process's mount namespace, from
/// `<proc>/self/mounts`: where the controllers really are, whatever the files look like.
pub fn cgroup_mounts(proc: &Path) -> Vec<CgroupMount> {
    const MOUNT_OPTIONS: [&str; 8] = [
        "rw", "ro", "relatime", "noatime", "nosuid", "nodev", "noexec", "seclabel",
    ];
    std::fs::read_to_string(proc.join("self/mounts"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (path, fstype, options) = (f.get(1)?, f.get(2)?, f.get(3)?);
            if *fstype != "cgroup" && *fstype != "cgroup2" {
                return None;
            }
            let controllers = if *fstype == "cgroup" {
                options
                    .split(',')
                    .filter(|o| !MOUNT_OPTIONS.contains(o) && !o.contains("release_agent"))
                    .map(str::to_owned)
                    .collect()
            } else {
                Vec::new()
            };
            Some(CgroupMount {
                fstype: fstype.to_string(),
                // The mount table escapes spaces as \040.
                path: path.replace("\\040", " ").into(),
                controllers,
            })
        })
        .collect()
}
