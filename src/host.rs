//! Probes of the running host: cgroup mode and controllers, namespaces, tools, CPUs and
//! memory. `run`, `emit-script` and `check` all ask these, so they always agree.
//!
//! Each probe takes its roots (`/proc`, `/sys/fs/cgroup`, `PATH`) as parameters, so
//! tests run it against fake trees.

use crate::cgroup::{CONTROLLERS, Controller, PROCS, Version};
use crate::mounts::{HOST_VIEW_DIRS, HostDir};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Where the probes look. `Roots::system()` is the real host.
#[derive(Debug, Clone)]
pub struct Roots {
    pub proc: PathBuf,
    pub cgroup: PathBuf,
    /// The search path for tools (`PATH`).
    pub path: Option<OsString>,
    /// The directory holding the host-view system directories (`/`).
    pub fs: PathBuf,
}

impl Roots {
    pub fn system() -> Roots {
        Roots {
            proc: "/proc".into(),
            cgroup: "/sys/fs/cgroup".into(),
            path: std::env::var_os("PATH"),
            fs: "/".into(),
        }
    }
}

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

/// Whether a controller can be used here, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    Available,
    Missing(String),
}

/// Can containers use controller `name` (cpu, memory, pids, cpuset, io) on this host?
pub fn controller(root: &Path, mode: CgroupMode, name: &str) -> Availability {
    match mode {
        CgroupMode::V2 => {
            let file = root.join(CONTROLLERS);
            let list = std::fs::read_to_string(&file).unwrap_or_default();
            if list.split_whitespace().any(|c| c == name) {
                Availability::Available
            } else {
                Availability::Missing(format!(
                    "not offered in {} (disabled on the kernel command line, not compiled in, or not delegated to this cgroup)",
                    file.display()
                ))
            }
        }
        CgroupMode::V1 | CgroupMode::Hybrid => {
            // v1 calls the io controller blkio.
            let dir = root.join(if name == "io" { "blkio" } else { name });
            if dir.join(PROCS).is_file() {
                Availability::Available
            } else {
                Availability::Missing(format!("no v1 hierarchy mounted at {}", dir.display()))
            }
        }
    }
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

    /// The first controller in `needed` that this host lacks, with the reason.
    pub fn missing(&self, needed: &[Controller]) -> Option<(Controller, String)> {
        needed
            .iter()
            .find_map(|c| match controller(&self.root, self.mode, c.name()) {
                Availability::Available => None,
                Availability::Missing(why) => Some((*c, why)),
            })
    }
}

/// Is namespace `name` (as under /proc/self/ns) available to new processes?
pub fn namespace(proc: &Path, name: &str) -> Availability {
    if !proc.join("self/ns").join(name).exists() {
        return Availability::Missing(format!(
            "{} is absent: the kernel was built without it",
            proc.join("self/ns").join(name).display()
        ));
    }
    let limit_name = match name {
        "mnt" => "mnt",
        "uts" => "uts",
        "ipc" => "ipc",
        "pid" => "pid",
        "net" => "net",
        "user" => "user",
        "cgroup" => "cgroup",
        "time" => "time",
        _ => return Availability::Available,
    };
    let max = proc.join(format!("sys/user/max_{limit_name}_namespaces"));
    match std::fs::read_to_string(&max)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
    {
        Some(0) => {
            Availability::Missing(format!("{} is 0: creating one is forbidden", max.display()))
        }
        _ => Availability::Available,
    }
}

/// The full path of tool `name` on `path`, if any.
pub fn tool(path: Option<&OsString>, name: &str) -> Option<PathBuf> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    which::which_in(name, path.cloned(), cwd).ok()
}

/// What validation checks limits and defaults against.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostFacts {
    pub cpus: usize,
    /// Total memory; 0 when unknown (then nothing is refused for size).
    pub memory_bytes: u64,
    /// gocker's own environment, for `-e KEY` without a value.
    pub env: Vec<(OsString, OsString)>,
    /// The system directories the default root shows.
    pub host_view_dirs: Vec<HostDir>,
}

impl HostFacts {
    pub fn probe(roots: &Roots) -> HostFacts {
        HostFacts {
            cpus: crate::sys::online_cpus(),
            memory_bytes: mem_total(&roots.proc),
            env: std::env::vars_os().collect(),
            host_view_dirs: host_view_dirs(&roots.fs),
        }
    }
}

/// MemTotal from meminfo, in bytes.
pub fn mem_total(proc: &Path) -> u64 {
    std::fs::read_to_string(proc.join("meminfo"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Which of `HOST_VIEW_DIRS` exist under `fs`, as directories or symlinks.
pub fn host_view_dirs(fs: &Path) -> Vec<HostDir> {
    HOST_VIEW_DIRS
        .iter()
        .filter_map(|name| {
            let p = fs.join(name);
            let meta = std::fs::symlink_metadata(&p).ok()?;
            let inside = Path::new("/").join(name);
            if meta.file_type().is_symlink() {
                let to = std::fs::read_link(&p).ok()?;
                Some(HostDir::Link(inside, to.to_string_lossy().into_owned()))
            } else if meta.is_dir() {
                Some(HostDir::Dir(inside))
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
pub mod fake {
    //! Fake host trees for tests of the probes (and of `check`).
    use crate::testutil::TempDir;
    use std::path::Path;

    pub fn touch(p: &Path, content: &str) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    /// A v1 host with the given controller hierarchies.
    pub fn v1(controllers: &[&str]) -> TempDir {
        let t = TempDir::new("v1");
        for c in controllers {
            touch(&t.path().join(c).join("cgroup.procs"), "");
        }
        t
    }

    /// A hybrid host: v1 hierarchies plus an empty cgroup2 at unified/.
    pub fn hybrid(controllers: &[&str]) -> TempDir {
        let t = v1(controllers);
        touch(&t.path().join("unified/cgroup.controllers"), "");
        touch(&t.path().join("unified/cgroup.procs"), "");
        t
    }

    /// A v2 host whose root offers `controllers`.
    pub fn v2(controllers: &[&str]) -> TempDir {
        let t = TempDir::new("v2");
        touch(
            &t.path().join("cgroup.controllers"),
            &(controllers.join(" ") + "\n"),
        );
        touch(&t.path().join("cgroup.subtree_control"), "");
        touch(&t.path().join("cgroup.procs"), "");
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    #[test]
    fn detects_each_mode() {
        assert_eq!(
            cgroup_mode(fake::v1(&["cpu", "memory"]).path()),
            Some(CgroupMode::V1)
        );
        assert_eq!(
            cgroup_mode(fake::hybrid(&["cpu"]).path()),
            Some(CgroupMode::Hybrid)
        );
        assert_eq!(cgroup_mode(fake::v2(&["cpu"]).path()), Some(CgroupMode::V2));
        assert_eq!(cgroup_mode(TempDir::new("none").path()), None);
        assert_eq!(CgroupMode::Hybrid.limits_version(), Version::V1);
    }

    #[test]
    fn controllers_v1_and_v2() {
        let v1 = fake::hybrid(&["cpu", "pids", "blkio"]);
        let h = CgroupHost::probe(v1.path()).unwrap();
        assert_eq!(controller(v1.path(), h.mode, "io"), Availability::Available);
        assert_eq!(h.missing(&[Controller::Cpu, Controller::Pids]), None);
        let (c, why) = h.missing(&[Controller::Cpu, Controller::Memory]).unwrap();
        assert_eq!(c, Controller::Memory);
        assert!(why.contains("memory"), "{why}");

        let v2 = fake::v2(&["cpu", "pids"]);
        let h = CgroupHost::probe(v2.path()).unwrap();
        assert_eq!(h.version(), Version::V2);
        assert_eq!(
            h.missing(&[Controller::Memory]).unwrap().0,
            Controller::Memory
        );
        assert_eq!(h.missing(&[Controller::Cpu]), None);
    }

    #[test]
    fn namespaces_from_proc() {
        let t = TempDir::new("proc");
        fake::touch(&t.path().join("self/ns/pid"), "");
        fake::touch(&t.path().join("self/ns/user"), "");
        fake::touch(&t.path().join("sys/user/max_user_namespaces"), "0\n");
        fake::touch(&t.path().join("sys/user/max_pid_namespaces"), "1000\n");
        assert_eq!(namespace(t.path(), "pid"), Availability::Available);
        assert!(
            matches!(namespace(t.path(), "user"), Availability::Missing(w) if w.contains("is 0"))
        );
        assert!(matches!(
            namespace(t.path(), "time"),
            Availability::Missing(_)
        ));
    }

    #[test]
    fn meminfo_and_host_view() {
        let t = TempDir::new("fs");
        fake::touch(
            &t.path().join("meminfo"),
            "MemTotal:       2048 kB\nMemFree: 1 kB\n",
        );
        assert_eq!(mem_total(t.path()), 2048 * 1024);
        std::fs::create_dir(t.path().join("usr")).unwrap();
        std::os::unix::fs::symlink("usr/bin", t.path().join("bin")).unwrap();
        let dirs = host_view_dirs(t.path());
        assert_eq!(
            dirs,
            [
                HostDir::Dir("/usr".into()),
                HostDir::Link("/bin".into(), "usr/bin".into())
            ]
        );
    }

    #[test]
    fn tools_on_a_given_path() {
        let t = TempDir::new("path");
        let exe = t.path().join("unshare");
        fake::touch(&exe, "#!/bin/sh\n");
        std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let path = Some(OsString::from(t.path()));
        assert_eq!(tool(path.as_ref(), "unshare"), Some(exe));
        assert_eq!(tool(path.as_ref(), "pivot_root"), None);
    }
}
