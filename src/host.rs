//! Probes of the running host: privileges, kernel, namespaces, cgroup mode and
//! controllers, script tools, CPUs and memory. `run`, `emit-script` and `check` all ask
//! these (and `refuse_unsupported` turns them into early refusals), so they always agree.
//!
//! Each probe takes its roots (`/proc`, `/sys/fs/cgroup`, `PATH`, `/`) as parameters, so
//! tests run it against fake trees.

use crate::cgroup::{CONTROLLERS, Controller, PARENT, PROCS, SUBTREE_CONTROL, Version};
use crate::error::{Failure, fail};
use crate::mounts::{HOST_VIEW_DIRS, HostDir};
use crate::spec::{ContainerSpec, Namespace};
use anyhow::Result;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Where the probes look. `Roots::system()` is the real host.
#[derive(Debug, Clone)]
pub struct Roots {
    pub proc: PathBuf,
    pub cgroup: PathBuf,
    /// The search path for tools (`PATH`).
    pub path: Option<OsString>,
    /// The host's `/`: where the host-view system directories are, and the sbin
    /// directories searched for tools that are not on `PATH`.
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

/// Whether something can be used here, and if not, why and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    Available,
    Missing(Lack),
}

/// Why something is missing (`why`) and the one-line fix (`fix`), both for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lack {
    pub why: String,
    pub fix: String,
}

impl Availability {
    fn missing(why: impl Into<String>, fix: impl Into<String>) -> Availability {
        Availability::Missing(Lack {
            why: why.into(),
            fix: fix.into(),
        })
    }

    pub fn is_available(&self) -> bool {
        matches!(self, Availability::Available)
    }

    pub fn lack(&self) -> Option<&Lack> {
        match self {
            Availability::Available => None,
            Availability::Missing(l) => Some(l),
        }
    }
}

// ------------------------------------------------------------------ privileges

/// A capability `gocker run` uses: its bit in `CapEff` (capabilities(7)), name and use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunCap {
    pub bit: u32,
    pub name: &'static str,
    pub why: &'static str,
}

/// The capabilities `gocker run` needs in its effective set. root has them all, unless it
/// is itself inside a container that took them away (Docker without --privileged).
pub const RUN_CAPS: [RunCap; 3] = [
    RunCap {
        bit: 21,
        name: "CAP_SYS_ADMIN",
        why: "new namespaces, mount, pivot_root, sethostname",
    },
    RunCap {
        bit: 12,
        name: "CAP_NET_ADMIN",
        why: "bring up lo in the new network namespace",
    },
    RunCap {
        bit: 8,
        name: "CAP_SETPCAP",
        why: "drop capabilities from the container's bounding set",
    },
];

/// Who this process is, from `<proc>/self/status` (`None`: that file could not be read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Privileges {
    pub euid: Option<u32>,
    /// The effective capability set, one bit per capability.
    pub cap_eff: Option<u64>,
}

impl Privileges {
    pub fn is_root(&self) -> bool {
        self.euid == Some(0)
    }

    /// The `RUN_CAPS` this process lacks.
    pub fn missing_caps(&self) -> Vec<&'static str> {
        RUN_CAPS
            .iter()
            .filter(|c| self.cap_eff.is_none_or(|set| set & (1 << c.bit) == 0))
            .map(|c| c.name)
            .collect()
    }

    /// Can `gocker run` create a container? That is decided by the capabilities, not by
    /// the uid: root without CAP_SYS_ADMIN cannot, and whoever has them can.
    pub fn sufficient(&self) -> bool {
        self.missing_caps().is_empty()
    }

    /// "root (euid 0)", "euid 1000 (not root)".
    pub fn user(&self) -> String {
        match self.euid {
            Some(0) => "root (euid 0)".into(),
            Some(n) => format!("euid {n} (not root)"),
            None => "unknown".into(),
        }
    }

    /// Why `run` cannot work, and the fix; `None` when it can.
    pub fn lack(&self, proc: &Path) -> Option<Lack> {
        if self.sufficient() {
            return None;
        }
        if self.cap_eff.is_none() {
            let status = proc.join("self/status");
            return Some(Lack {
                why: format!("cannot read {}", status.display()),
                fix: format!("mount proc on {} (mount -t proc proc {0})", proc.display()),
            });
        }
        let missing = self.missing_caps().join(", ");
        Some(if self.is_root() {
            Lack {
                why: format!(
                    "euid 0 lacks {missing} (probably inside a container that dropped it)"
                ),
                fix: "run gocker on the host, or in a container started with --privileged".into(),
            }
        } else {
            let who = self
                .euid
                .map_or("this user".into(), |u| format!("euid {u}"));
            Lack {
                why: format!("{who} is not root and lacks {missing}"),
                fix: "run as root: sudo gocker run ...".into(),
            }
        })
    }
}

/// The euid and effective capabilities of this process.
pub fn privileges(proc: &Path) -> Privileges {
    let status = std::fs::read_to_string(proc.join("self/status")).unwrap_or_default();
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(str::trim)
    };
    Privileges {
        // Uid: real, effective, saved, filesystem.
        euid: field("Uid:")
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok()),
        cap_eff: field("CapEff:").and_then(|s| u64::from_str_radix(s, 16).ok()),
    }
}

/// `privileges(proc)`, but for this process on the real /proc from geteuid(2) and
/// capget(2): generating /proc/self/status costs ~90 us, and `run` asks on every start.
pub fn privileges_fast(proc: &Path) -> Privileges {
    if proc != Path::new("/proc") {
        return privileges(proc);
    }
    Privileges {
        euid: Some(crate::sys::geteuid()),
        cap_eff: crate::sys::effective_caps().ok(),
    }
}

// ------------------------------------------------------------------ kernel

/// The running kernel's release (`uname -r`).
pub fn kernel_release(proc: &Path) -> Option<String> {
    std::fs::read_to_string(proc.join("sys/kernel/osrelease"))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

// ------------------------------------------------------------------ namespaces

/// Is namespace `name` (as under /proc/self/ns) available to new processes? The entry
/// exists when the kernel has the namespace type; `user.max_<name>_namespaces` of 0 then
/// forbids creating one all the same.
pub fn namespace(proc: &Path, name: &str) -> Availability {
    let entry = proc.join("self/ns").join(name);
    let config = Namespace::ALL
        .iter()
        .find(|k| k.proc_name() == name)
        .map_or("CONFIG_NAMESPACES", |k| k.config());
    if std::fs::symlink_metadata(&entry).is_err() {
        return Availability::missing(
            format!(
                "{} is absent: the kernel was built without it",
                entry.display()
            ),
            format!("use a kernel built with {config} (distribution kernels have it)"),
        );
    }
    let max = proc.join(format!("sys/user/max_{name}_namespaces"));
    match std::fs::read_to_string(&max)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
    {
        Some(0) => Availability::missing(
            format!("{} is 0: creating one is forbidden", max.display()),
            format!("allow it: sysctl -w user.max_{name}_namespaces=10000"),
        ),
        _ => Availability::Available,
    }
}

// ------------------------------------------------------------------ cgroups

/// The kernel option behind each controller, for hints.
fn controller_config(name: &str) -> &'static str {
    crate::cgroup::KNOWN_CONTROLLERS
        .iter()
        .find(|c| c.name == name)
        .map_or("CONFIG_CGROUPS", |c| c.config)
}

/// The words of a cgroup list file (`cgroup.controllers`, `cgroup.subtree_control`).
fn words(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

fn has_processes(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join(PROCS)).is_ok_and(|s| !s.trim().is_empty())
}

/// Can containers use controller `name` (cpu, memory, pids, cpuset, io) on this host?
pub fn controller(root: &Path, mode: CgroupMode, name: &str) -> Availability {
    match mode {
        CgroupMode::V2 => v2_controller(root, name),
        CgroupMode::V1 | CgroupMode::Hybrid => v1_controller(root, mode, name),
    }
}

fn v2_controller(root: &Path, name: &str) -> Availability {
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

fn v1_controller(root: &Path, mode: CgroupMode, name: &str) -> Availability {
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

// ------------------------------------------------------------------ kernel surface

/// The opt-outs named in the hints below.
pub const SECCOMP_OPT_OUT: &str = "--security-opt seccomp=unconfined";
pub const DEVICES_OPT_OUT: &str = "--security-opt devices=unconfined";

/// Can this kernel apply a seccomp filter that answers with an errno? From
/// `/proc/sys/kernel/seccomp/actions_avail` (Linux 4.14; CONFIG_SECCOMP_FILTER).
pub fn seccomp(proc: &Path) -> Availability {
    let file = proc.join("sys/kernel/seccomp/actions_avail");
    match std::fs::read_to_string(&file) {
        Ok(s) if s.split_whitespace().any(|a| a == "errno") => Availability::Available,
        Ok(s) => Availability::missing(
            format!("{} offers only {}", file.display(), s.trim()),
            format!(
                "use a kernel whose seccomp has the errno action, or run with {SECCOMP_OPT_OUT}"
            ),
        ),
        Err(_) => Availability::missing(
            format!("no {}: the kernel lacks seccomp filters", file.display()),
            format!("use a kernel with CONFIG_SECCOMP_FILTER=y, or run with {SECCOMP_OPT_OUT}"),
        ),
    }
}

/// The same question for `run`, in one system call rather than a file read:
/// PR_GET_SECCOMP fails with EINVAL on a kernel without seccomp.
fn seccomp_now() -> Availability {
    match crate::sys::seccomp_mode() {
        Ok(_) => Availability::Available,
        Err(e) => Availability::missing(
            format!("prctl(PR_GET_SECCOMP): {}", crate::error::os_reason(&e)),
            format!("use a kernel with CONFIG_SECCOMP_FILTER=y, or run with {SECCOMP_OPT_OUT}"),
        ),
    }
}

/// Can the container's cgroup limit its devices? v1 (and hybrid): the `devices`
/// hierarchy. v2: a BPF_PROG_TYPE_CGROUP_DEVICE program, which needs the bpf system call
/// (CONFIG_BPF_SYSCALL, whose sysctl `unprivileged_bpf_disabled` shows it) and
/// CONFIG_CGROUP_BPF; the runtime loads the program before anything is created, so a
/// kernel without the latter is refused there.
pub fn device_cgroup(proc: &Path, root: &Path, mode: CgroupMode) -> Availability {
    match mode {
        CgroupMode::V1 | CgroupMode::Hybrid => match v1_controller(root, mode, "devices") {
            Availability::Missing(l) => Availability::missing(
                format!("devices controller: {}", l.why),
                format!("{}; or run with {DEVICES_OPT_OUT}", l.fix),
            ),
            a => a,
        },
        CgroupMode::V2 => {
            let bpf = proc.join("sys/kernel/unprivileged_bpf_disabled");
            if bpf.exists() {
                Availability::Available
            } else {
                Availability::missing(
                    format!("no {}: the kernel has no bpf system call", bpf.display()),
                    format!(
                        "use a kernel with CONFIG_BPF_SYSCALL=y and CONFIG_CGROUP_BPF=y, or run with {DEVICES_OPT_OUT}"
                    ),
                )
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

// ------------------------------------------------------------------ tools

/// When a script needs a tool: always, or only for some options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolWhen {
    Always,
    /// Without --rootfs (the host view's staging directory).
    HostView,
    /// With something to remove at the end: the host view's staging directory, cgroups.
    Cleanup,
}

/// A host program the rendered script runs before pivot_root. The template's checks are
/// rendered from this list, and `check` and `emit-script` probe the same list.
#[derive(Debug, PartialEq, Eq)]
pub struct ScriptTool {
    pub name: &'static str,
    pub why: &'static str,
    pub package: &'static str,
    /// A script cannot work without it; an optional tool has an alternative (`ip`: ifconfig).
    pub required: bool,
    pub when: ToolWhen,
    /// The script uses options busybox's applet of this name lacks.
    pub util_linux_only: bool,
    /// The script keeps the tool's full path in this variable and calls it by that path
    /// (busybox sh would otherwise run its own applet of the same name).
    pub var: Option<&'static str>,
}

const fn script_tool_def(
    name: &'static str,
    package: &'static str,
    why: &'static str,
) -> ScriptTool {
    ScriptTool {
        name,
        why,
        package,
        required: true,
        when: ToolWhen::Always,
        util_linux_only: false,
        var: None,
    }
}

/// In the order the script checks them.
pub const SCRIPT_TOOLS: [ScriptTool; 13] = [
    script_tool_def("sh", "dash", "run the script"),
    script_tool_def(
        "readlink",
        "coreutils",
        "find its own interpreter to run again",
    ),
    ScriptTool {
        var: Some("unshare"),
        ..script_tool_def(
            "unshare",
            "util-linux",
            "create the namespaces (--mount --uts --ipc --pid --net)",
        )
    },
    script_tool_def(
        "setsid",
        "util-linux",
        "give the container a session of its own",
    ),
    ScriptTool {
        var: Some("setpriv"),
        util_linux_only: true,
        ..script_tool_def(
            "setpriv",
            "util-linux",
            "cut the capability bounding set and set no_new_privs (--bounding-set)",
        )
    },
    ScriptTool {
        var: Some("busybox"),
        ..script_tool_def(
            "busybox",
            "busybox-static",
            "run the container's last steps after pivot_root, statically linked (umount, env, setpriv, start-stop-daemon)",
        )
    },
    script_tool_def(
        "mount",
        "mount",
        "make mounts private, bind the root, mount /proc, /dev and volumes",
    ),
    script_tool_def("pivot_root", "util-linux", "swap the root filesystem"),
    script_tool_def("hostname", "hostname", "set the container's hostname"),
    script_tool_def("mknod", "coreutils", "make the device nodes in /dev"),
    ScriptTool {
        required: false,
        ..script_tool_def(
            "ip",
            "iproute2",
            "bring up lo in the new network namespace (else ifconfig)",
        )
    },
    ScriptTool {
        when: ToolWhen::HostView,
        ..script_tool_def(
            "mktemp",
            "coreutils",
            "make the host view's staging directory",
        )
    },
    ScriptTool {
        when: ToolWhen::Cleanup,
        ..script_tool_def(
            "rmdir",
            "coreutils",
            "remove the staging directory and the cgroups",
        )
    },
];

impl ScriptTool {
    /// Whether a script for a container with these options runs this tool.
    pub fn needed(&self, host_view: bool, limits: bool) -> bool {
        match self.when {
            ToolWhen::Always => true,
            ToolWhen::HostView => host_view,
            ToolWhen::Cleanup => host_view || limits,
        }
    }

    /// Whether the program found can do what the script asks of it.
    pub fn usable(&self, found: &ToolPath) -> bool {
        !(self.util_linux_only && found.busybox)
    }
}

#[cfg(test)]
pub fn script_tool(name: &str) -> Option<&'static ScriptTool> {
    SCRIPT_TOOLS.iter().find(|t| t.name == name)
}

/// The script tools a script for `spec` runs on the host, in the order it checks them.
pub fn script_tools_for(spec: &ContainerSpec) -> impl Iterator<Item = &'static ScriptTool> {
    let host_view = spec.root == crate::spec::Root::HostView;
    let limits = !crate::cgroup::needed_controllers(&spec.limits).is_empty();
    SCRIPT_TOOLS
        .iter()
        .filter(move |t| t.needed(host_view, limits))
}

/// The full path of tool `name` on `path`, if any.
pub fn tool(path: Option<&OsString>, name: &str) -> Option<PathBuf> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    which::which_in(name, path.cloned(), cwd).ok()
}

/// Where a tool was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolPath {
    pub path: PathBuf,
    /// False when it is only in an sbin directory that `PATH` lacks (common for a normal
    /// user: pivot_root lives in /usr/sbin). `sudo` searches those, so scripts still work.
    pub on_path: bool,
    /// It is a busybox applet (a link to busybox), not the util-linux program.
    pub busybox: bool,
}

/// The sbin directories under `fs` that sudo's secure_path adds.
const SBIN_DIRS: [&str; 3] = ["usr/local/sbin", "usr/sbin", "sbin"];

/// Find tool `name`: on `PATH`, else in the sbin directories under `fs`.
pub fn find_tool(roots: &Roots, name: &str) -> Option<ToolPath> {
    let found = |path: PathBuf, on_path| {
        let busybox = std::fs::canonicalize(&path)
            .is_ok_and(|p| p.file_name().is_some_and(|n| n == "busybox"));
        ToolPath {
            path,
            on_path,
            busybox,
        }
    };
    if let Some(path) = tool(roots.path.as_ref(), name) {
        return Some(found(path, true));
    }
    let sbin = std::env::join_paths(SBIN_DIRS.iter().map(|d| roots.fs.join(d))).ok()?;
    tool(Some(&sbin), name).map(|path| found(path, false))
}

/// How long a tool may take to print its version before it is given up on.
const VERSION_TIMEOUT: Duration = Duration::from_secs(2);

/// The tool's version, from the first line of `--version` (`ip -V`). `sh` is not asked:
/// dash has no version option (the link target, e.g. `dash`, says more). A busybox
/// applet is asked through busybox, whose applets mostly lack `--version`.
pub fn tool_version(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let (exe, args): (&Path, &[&str]) = if real.file_name().is_some_and(|n| n == "busybox") {
        (&real, &["--help"])
    } else {
        match name.as_str() {
            "sh" => return None,
            "ip" => (path, &["-V"]),
            _ => (path, &["--version"]),
        }
    };
    let out = output_within(Command::new(exe).args(args), VERSION_TIMEOUT)?;
    let line = out.lines().map(str::trim).find(|l| !l.is_empty())?;
    // "mount from util-linux 2.38.1 (libmount ...)": the parenthesis is build detail.
    let line = line.split(" (").next().unwrap_or(line);
    let line = line.split(" multi-call").next().unwrap_or(line);
    Some(line.chars().take(80).collect())
}

/// The stdout of `cmd` if it exits 0 within `limit`; killed otherwise. stdin is
/// /dev/null so that a tool that reads it cannot hang the probe.
fn output_within(cmd: &mut Command, limit: Duration) -> Option<String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(Some(_)) | Err(_) => return None,
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut()?, &mut out).ok()?;
    Some(out)
}

/// The hint for a missing script tool.
pub fn tool_fix(t: &ScriptTool) -> String {
    format!(
        "install it: apt-get install {} (or your distribution's equivalent)",
        t.package
    )
}

// ------------------------------------------------------------------ early refusal

/// What a container needs from the host. `run` and `emit-script` build one from the spec
/// and pass it to `refuse_unsupported` before doing anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needs {
    /// The command, for messages: "gocker run", "gocker emit-script".
    pub command: &'static str,
    /// The capabilities of `RUN_CAPS` (the script is run later, by someone else).
    pub privileges: bool,
    pub namespaces: Vec<Namespace>,
    pub controllers: Vec<Controller>,
    /// The default seccomp filter.
    pub seccomp: bool,
    /// Tools that must be found and usable.
    pub tools: Vec<&'static ScriptTool>,
}

impl Needs {
    /// What `gocker run` with `spec` needs: privileges, the namespaces, the controllers.
    pub fn run(spec: &ContainerSpec) -> Needs {
        Needs {
            command: "gocker run",
            privileges: true,
            namespaces: spec.namespaces.clone(),
            controllers: crate::cgroup::controllers(&spec.limits, spec.confinement.devices),
            seccomp: spec.confinement.seccomp,
            tools: Vec::new(),
        }
    }

    /// What a script for `spec` needs on this host: the same namespaces and controllers,
    /// and the required script tools. Drop `controllers` when rendering for another
    /// cgroup version than this host's (the script is then for another host).
    pub fn script(spec: &ContainerSpec) -> Needs {
        Needs {
            command: "gocker emit-script",
            privileges: false,
            tools: script_tools_for(spec).filter(|t| t.required).collect(),
            // The script applies neither the filter nor the device list (see
            // templates/script.sh), so it needs only the limits' controllers.
            controllers: crate::cgroup::needed_controllers(&spec.limits),
            seccomp: false,
            ..Needs::run(spec)
        }
    }
}

/// Turn a failed clone into the reason the probes give: a namespace this kernel lacks or
/// forbids (clone itself says only EINVAL or ENOSPC), or else the plain error.
pub fn explain_clone_failure(
    e: std::io::Error,
    namespaces: &[Namespace],
    roots: &Roots,
) -> anyhow::Error {
    let needs = Needs {
        command: "gocker run",
        privileges: false,
        namespaces: namespaces.to_vec(),
        controllers: Vec::new(),
        seccomp: false,
        tools: Vec::new(),
    };
    match refuse_unsupported(&needs, roots) {
        Err(refusal) => refusal,
        Ok(_) => anyhow::Error::new(e).context("clone the container process with new namespaces"),
    }
}

/// Refuse (exit 125, naming what is missing and the fix) what this host cannot do, before
/// anything is created. Returns the cgroup host when `needs` has controllers.
pub fn refuse_unsupported(needs: &Needs, roots: &Roots) -> Result<Option<CgroupHost>> {
    let cmd = needs.command;
    if needs.privileges
        && let Some(lack) = privileges_fast(&roots.proc).lack(&roots.proc)
    {
        let caps: Vec<&str> = RUN_CAPS.iter().map(|c| c.name).collect();
        return fail(
            Failure::Host,
            format!(
                "{cmd} needs root ({}): {}; {}",
                caps.join(", "),
                lack.why,
                lack.fix
            ),
        );
    }
    for ns in &needs.namespaces {
        if let Availability::Missing(lack) = namespace(&roots.proc, ns.proc_name()) {
            return fail(
                Failure::Host,
                format!(
                    "{cmd} needs the {} namespace ({}), which this host lacks: {}; {}",
                    ns.proc_name(),
                    ns.clone_flag_name(),
                    lack.why,
                    lack.fix
                ),
            );
        }
    }
    for t in &needs.tools {
        let problem = match find_tool(roots, t.name) {
            None => "which is not on PATH",
            Some(found) if !t.usable(&found) => {
                "but the one found is busybox's applet, which lacks the options used"
            }
            Some(_) => continue,
        };
        return fail(
            Failure::Host,
            format!(
                "{cmd}: the script needs {} (to {}), {problem}; {}",
                t.name,
                t.why,
                tool_fix(t)
            ),
        );
    }
    if needs.seccomp
        && let Availability::Missing(lack) = seccomp_now()
    {
        return fail(
            Failure::Host,
            format!(
                "{cmd} confines every container with a seccomp filter, which this host cannot apply: {}; {}",
                lack.why, lack.fix
            ),
        );
    }
    if needs.controllers.is_empty() {
        return Ok(None);
    }
    let options = || {
        needs
            .controllers
            .iter()
            .map(|c| c.option())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(host) = CgroupHost::probe(&roots.cgroup) else {
        return fail(
            Failure::Host,
            format!(
                "no cgroup filesystem at {}: limits ({}) need one; mount cgroup2 there or drop the limits",
                roots.cgroup.display(),
                options()
            ),
        );
    };
    let (devices, limits): (Vec<Controller>, Vec<Controller>) = needs
        .controllers
        .iter()
        .partition(|c| **c == Controller::Devices);
    if !devices.is_empty()
        && let Availability::Missing(lack) = device_cgroup(&roots.proc, &host.root, host.mode)
    {
        return fail(
            Failure::Host,
            format!(
                "{cmd} confines every container's devices with its cgroup, which this host cannot do: {}; {}",
                lack.why, lack.fix
            ),
        );
    }
    if let Some((c, lack)) = host.first_missing(&limits) {
        return fail(
            Failure::Host,
            format!(
                "{} needs the {} cgroup controller, which this host lacks: {}; {}, or run without {}",
                c.option(),
                c.name(),
                lack.why,
                lack.fix,
                c.option()
            ),
        );
    }
    Ok(Some(host))
}

/// What validation checks limits and defaults against. Each fact is probed the first
/// time a front end asks for it, then cached: a container start reads only the files
/// its options need (each probe reads files, and this runs on every start).
#[derive(Debug)]
pub struct HostFacts<'a> {
    /// The host's root, where the host view's directories are looked for.
    fs: &'a Path,
    cpus: OnceLock<usize>,
    /// Total memory; 0 when unknown (then nothing is refused for size).
    memory_bytes: OnceLock<u64>,
    /// gocker's own environment, for `-e KEY` without a value.
    env: OnceLock<Vec<(OsString, OsString)>>,
    /// The system directories the default root shows.
    host_view_dirs: OnceLock<Vec<HostDir>>,
}

impl<'a> HostFacts<'a> {
    /// This host's facts, each probed when first asked for.
    pub fn probe(roots: &'a Roots) -> HostFacts<'a> {
        HostFacts {
            fs: &roots.fs,
            cpus: OnceLock::new(),
            memory_bytes: OnceLock::new(),
            env: OnceLock::new(),
            host_view_dirs: OnceLock::new(),
        }
    }

    /// Facts given rather than probed (tests, and a front end that knows them).
    pub fn known(
        cpus: usize,
        memory_bytes: u64,
        env: Vec<(OsString, OsString)>,
        host_view_dirs: Vec<HostDir>,
    ) -> HostFacts<'static> {
        HostFacts {
            fs: Path::new("/"),
            cpus: OnceLock::from(cpus),
            memory_bytes: OnceLock::from(memory_bytes),
            env: OnceLock::from(env),
            host_view_dirs: OnceLock::from(host_view_dirs),
        }
    }

    pub fn cpus(&self) -> usize {
        *self.cpus.get_or_init(crate::sys::online_cpus)
    }

    pub fn memory_bytes(&self) -> u64 {
        *self.memory_bytes.get_or_init(crate::sys::total_memory)
    }

    pub fn env(&self) -> &[(OsString, OsString)] {
        self.env.get_or_init(|| std::env::vars_os().collect())
    }

    pub fn host_view_dirs(&self) -> &[HostDir] {
        self.host_view_dirs.get_or_init(|| host_view_dirs(self.fs))
    }
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

    /// A v2 tree that is a delegated, non-root cgroup (as inside a container): it has
    /// `cgroup.type`, offers `offered`, has `enabled` in its subtree_control, and holds
    /// `procs`.
    pub fn v2_delegated(offered: &[&str], enabled: &[&str], procs: &str) -> TempDir {
        let t = v2(offered);
        touch(&t.path().join("cgroup.type"), "domain\n");
        touch(&t.path().join("cgroup.subtree_control"), &enabled.join(" "));
        touch(&t.path().join("cgroup.procs"), procs);
        t
    }

    /// A fake /proc: this process's status (euid, CapEff), the namespaces in `ns`, their
    /// `max_*_namespaces` (0 for those in `forbidden`), the kernel release and mounts.
    pub fn proc(euid: u32, cap_eff: u64, ns: &[&str], forbidden: &[&str]) -> TempDir {
        let t = TempDir::new("proc");
        let p = t.path();
        touch(
            &p.join("self/status"),
            &format!(
                "Name:\tgocker\nUid:\t{euid}\t{euid}\t{euid}\t{euid}\nCapInh:\t0000000000000000\nCapEff:\t{cap_eff:016x}\n"
            ),
        );
        for n in ns {
            touch(&p.join("self/ns").join(n), "");
            let max = if forbidden.contains(n) { "0" } else { "15000" };
            touch(&p.join(format!("sys/user/max_{n}_namespaces")), max);
        }
        touch(&p.join("sys/kernel/osrelease"), "6.1.0-test\n");
        touch(&p.join("self/mounts"), "");
        // A kernel with seccomp filters and the bpf system call.
        touch(
            &p.join("sys/kernel/seccomp/actions_avail"),
            "kill_process kill_thread trap errno user_notif trace log allow\n",
        );
        touch(&p.join("sys/kernel/unprivileged_bpf_disabled"), "2\n");
        t
    }

    /// root with every capability (CapEff of a 41-capability kernel).
    pub const ALL_CAPS: u64 = 0x1ff_ffff_ffff;

    /// Executables in a fresh directory, each printing "NAME from util-linux 2.99" for
    /// --version.
    pub fn tools(names: &[&str]) -> TempDir {
        let t = TempDir::new("bin");
        for n in names {
            let exe = t.path().join(n);
            touch(
                &exe,
                &format!(
                    "#!/bin/sh\n[ \"$1\" = --version ] && echo '{n} from util-linux 2.99 (test)'\nexit 0\n"
                ),
            );
            std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
        }
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
        assert_eq!(h.first_missing(&[Controller::Cpu, Controller::Pids]), None);
        let (c, lack) = h
            .first_missing(&[Controller::Cpu, Controller::Memory])
            .unwrap();
        let why = lack.why;
        assert_eq!(c, Controller::Memory);
        assert!(why.contains("memory"), "{why}");

        let v2 = fake::v2(&["cpu", "pids"]);
        let h = CgroupHost::probe(v2.path()).unwrap();
        assert_eq!(h.version(), Version::V2);
        assert_eq!(
            h.first_missing(&[Controller::Memory]).unwrap().0,
            Controller::Memory
        );
        assert_eq!(h.first_missing(&[Controller::Cpu]), None);
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
            matches!(namespace(t.path(), "user"), Availability::Missing(l) if l.why.contains("is 0") && l.fix.contains("sysctl"))
        );
        assert!(matches!(
            namespace(t.path(), "time"),
            Availability::Missing(_)
        ));
    }

    #[test]
    fn host_view_dirs_and_links() {
        let t = TempDir::new("fs");
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

    fn spec(cpus: Option<&str>, memory: Option<&str>, pids: Option<&str>) -> ContainerSpec {
        let args = crate::frontend::cli::RunArgs {
            hostname: "gocker".into(),
            command: vec!["true".into()],
            cpus: cpus.map(str::to_owned),
            memory: memory.map(str::to_owned),
            pids_limit: pids.map(str::to_owned),
            ..Default::default()
        };
        args.to_spec(&HostFacts::known(2, 1 << 30, vec![], vec![]))
            .unwrap()
    }

    const LESSON_NS: [&str; 5] = ["mnt", "uts", "ipc", "pid", "net"];

    /// Roots on fake trees; `bin` is the only directory on PATH.
    fn roots(proc: &TempDir, cgroup: &TempDir, bin: &TempDir) -> Roots {
        Roots {
            proc: proc.path().into(),
            cgroup: cgroup.path().into(),
            path: Some(bin.path().into()),
            fs: bin.path().join("no-such-fs"),
        }
    }

    fn refusal(r: Result<Option<CgroupHost>>) -> String {
        let e = r.expect_err("should be refused");
        assert_eq!(crate::error::exit_code_of(&e), 125, "{e:#}");
        crate::error::one_line(&e)
    }

    #[test]
    fn privileges_from_status() {
        let root = fake::proc(0, fake::ALL_CAPS, &[], &[]);
        let p = privileges(root.path());
        assert_eq!(p.euid, Some(0));
        assert!(p.is_root() && p.sufficient());
        assert_eq!(p.lack(root.path()), None);

        // root inside a container that took CAP_SYS_ADMIN away.
        let boxed = fake::proc(0, fake::ALL_CAPS & !(1 << 21), &[], &[]);
        let p = privileges(boxed.path());
        assert_eq!(p.missing_caps(), ["CAP_SYS_ADMIN"]);
        assert!(
            p.lack(boxed.path())
                .unwrap()
                .why
                .starts_with("euid 0 lacks CAP_SYS_ADMIN")
        );

        // A user holding the capabilities can; one without cannot.
        let caps = RUN_CAPS.iter().fold(0, |m, c| m | 1 << c.bit);
        assert!(privileges(fake::proc(1000, caps, &[], &[]).path()).sufficient());
        let user = fake::proc(1000, 0, &[], &[]);
        let lack = privileges(user.path()).lack(user.path()).unwrap();
        assert_eq!(
            lack.why,
            "euid 1000 is not root and lacks CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SETPCAP"
        );
        assert!(lack.fix.contains("sudo"));

        let none = TempDir::new("noproc");
        assert!(
            privileges(none.path())
                .lack(none.path())
                .unwrap()
                .why
                .contains("cannot read")
        );
    }

    #[test]
    fn capget_agrees_with_proc_status() {
        let fast = privileges_fast(Path::new("/proc"));
        let slow = privileges(Path::new("/proc"));
        assert_eq!(fast, slow);
        assert!(fast.cap_eff.is_some());
    }

    #[test]
    fn kernel_release_from_proc() {
        let p = fake::proc(0, 0, &[], &[]);
        assert_eq!(kernel_release(p.path()).as_deref(), Some("6.1.0-test"));
        assert_eq!(kernel_release(TempDir::new("empty").path()), None);
    }

    #[test]
    fn namespace_hints_name_the_kernel_option_or_sysctl() {
        let p = fake::proc(0, 0, &["mnt", "net"], &["net"]);
        assert!(namespace(p.path(), "mnt").is_available());
        let net = namespace(p.path(), "net");
        assert!(net.lack().unwrap().fix.contains("user.max_net_namespaces"));
        let time = namespace(p.path(), "time");
        assert!(
            time.lack().unwrap().fix.contains("CONFIG_TIME_NS"),
            "{time:?}"
        );
    }

    #[test]
    fn v2_root_cgroup_offers_or_not() {
        let t = fake::v2(&["cpu", "memory", "pids"]);
        assert!(controller(t.path(), CgroupMode::V2, "memory").is_available());
        let io = controller(t.path(), CgroupMode::V2, "io");
        let lack = io.lack().unwrap();
        assert!(lack.why.contains("not offered in"), "{lack:?}");
        assert!(lack.fix.contains("CONFIG_BLK_CGROUP"), "{lack:?}");
        // The true root may hold processes and still enable controllers.
        fake::touch(&t.path().join(PROCS), "1\n2\n");
        assert!(controller(t.path(), CgroupMode::V2, "pids").is_available());
    }

    #[test]
    fn v2_delegated_without_and_with_controllers() {
        // Delegated, empty, offering memory: gocker can enable it itself.
        let ok = fake::v2_delegated(&["cpu", "memory", "pids"], &[], "");
        assert!(controller(ok.path(), CgroupMode::V2, "memory").is_available());
        // Not delegated: the fix names the delegating side.
        let not = fake::v2_delegated(&["cpu"], &[], "");
        let lack = controller(not.path(), CgroupMode::V2, "memory");
        assert!(
            lack.lack().unwrap().fix.contains("Delegate=yes"),
            "{lack:?}"
        );
        // Delegated but holding processes: the no-internal-process rule.
        let busy = fake::v2_delegated(&["cpu", "memory"], &["cpu"], "1\n");
        assert!(controller(busy.path(), CgroupMode::V2, "cpu").is_available());
        let lack = controller(busy.path(), CgroupMode::V2, "memory");
        assert!(
            lack.lack().unwrap().why.contains("no-internal-process"),
            "{lack:?}"
        );
    }

    #[test]
    fn v2_gocker_parent_with_processes_is_reported() {
        let t = fake::v2(&["cpu", "memory"]);
        fake::touch(&t.path().join("gocker/cgroup.procs"), "4242\n");
        fake::touch(&t.path().join("gocker/cgroup.subtree_control"), "");
        let lack = controller(t.path(), CgroupMode::V2, "cpu");
        let lack = lack.lack().unwrap();
        assert!(lack.why.contains("gocker holds processes"), "{lack:?}");
        assert!(lack.fix.contains("move them out"), "{lack:?}");
        // Empty again: fine.
        fake::touch(&t.path().join("gocker/cgroup.procs"), "");
        assert!(controller(t.path(), CgroupMode::V2, "cpu").is_available());
    }

    #[test]
    fn v1_missing_comounted_and_bound_to_v2() {
        let t = fake::hybrid(&["cpu,cpuacct", "memory"]);
        fake::touch(&t.path().join("unified/cgroup.controllers"), "pids\n");
        let cpu = controller(t.path(), CgroupMode::Hybrid, "cpu");
        assert!(
            cpu.lack()
                .unwrap()
                .fix
                .starts_with("link it: ln -s cpu,cpuacct"),
            "{cpu:?}"
        );
        let pids = controller(t.path(), CgroupMode::Hybrid, "pids");
        assert!(
            pids.lack().unwrap().why.contains("limits use v1"),
            "{pids:?}"
        );
        let io = controller(t.path(), CgroupMode::Hybrid, "io");
        let lack = io.lack().unwrap();
        assert!(lack.why.contains("blkio"), "{lack:?}");
        assert!(lack.fix.contains("mount -t cgroup -o blkio"), "{lack:?}");
    }

    #[test]
    fn cgroup_mounts_from_the_mount_table() {
        let p = fake::proc(0, 0, &[], &[]);
        fake::touch(
            &p.path().join("self/mounts"),
            "proc /proc proc rw 0 0\n\
             cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,relatime 0 0\n\
             cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,relatime,cpu,cpuacct 0 0\n\
             cgroup /sys/fs/cgroup/systemd cgroup rw,xattr,name=systemd 0 0\n",
        );
        let m = cgroup_mounts(p.path());
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].fstype, "cgroup2");
        assert!(m[0].controllers.is_empty());
        assert_eq!(m[1].controllers, ["cpu", "cpuacct"]);
        assert_eq!(m[2].path, Path::new("/sys/fs/cgroup/systemd"));
    }

    #[test]
    fn script_tools_list_is_complete_and_unique() {
        for name in [
            "unshare",
            "mount",
            "mknod",
            "pivot_root",
            "hostname",
            "setpriv",
            "sh",
        ] {
            assert!(script_tool(name).is_some_and(|t| t.required), "{name}");
        }
        let mut names: Vec<_> = SCRIPT_TOOLS.iter().map(|t| t.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SCRIPT_TOOLS.len());
    }

    #[test]
    fn tools_off_path_are_found_in_sbin_and_versions_read() {
        let bin = fake::tools(&[]);
        let fs = fake::tools(&["pivot_root"]);
        let sbin = fs.path().join("usr/sbin");
        std::fs::create_dir_all(&sbin).unwrap();
        std::fs::rename(fs.path().join("pivot_root"), sbin.join("pivot_root")).unwrap();
        let roots = Roots {
            proc: "/nonexistent".into(),
            cgroup: "/nonexistent".into(),
            path: Some(bin.path().into()),
            fs: fs.path().into(),
        };
        let found = find_tool(&roots, "pivot_root").unwrap();
        assert_eq!(found.path, sbin.join("pivot_root"));
        assert!(!found.on_path);
        assert_eq!(find_tool(&roots, "unshare"), None);
        assert_eq!(
            tool_version(&found.path).as_deref(),
            Some("pivot_root from util-linux 2.99")
        );
    }

    #[test]
    fn a_tool_that_fails_or_hangs_has_no_version() {
        let t = TempDir::new("bad");
        let fails = t.path().join("fails");
        fake::touch(&fails, "#!/bin/sh\necho oops\nexit 1\n");
        let hangs = t.path().join("hangs");
        fake::touch(&hangs, "#!/bin/sh\nexec sleep 30\n");
        for exe in [&fails, &hangs] {
            std::fs::set_permissions(exe, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
        }
        assert_eq!(tool_version(&fails), None);
        let start = Instant::now();
        assert_eq!(tool_version(&hangs), None);
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn needs_from_the_spec() {
        let s = spec(Some("1"), None, Some("10"));
        let run = Needs::run(&s);
        assert!(run.privileges && run.tools.is_empty());
        assert_eq!(
            run.controllers,
            [Controller::Cpu, Controller::Pids, Controller::Devices]
        );
        assert!(run.seccomp);
        assert_eq!(run.namespaces, Namespace::LESSON);
        let script = Needs::script(&s);
        assert!(!script.privileges);
        let names: Vec<&str> = script.tools.iter().map(|t| t.name).collect();
        assert!(names.contains(&"pivot_root") && !names.contains(&"ip"));
        assert_eq!(script.controllers, [Controller::Cpu, Controller::Pids]);
        assert!(!script.seccomp);
    }

    #[test]
    fn refuse_nothing_when_the_host_has_everything() {
        let p = fake::proc(0, fake::ALL_CAPS, &LESSON_NS, &[]);
        let cg = fake::v2(&["cpu", "memory", "pids"]);
        let bin = fake::tools(&SCRIPT_TOOLS.map(|t| t.name));
        let r = roots(&p, &cg, &bin);
        let s = spec(Some("1"), Some("64"), Some("10"));
        let host = refuse_unsupported(&Needs::run(&s), &r).unwrap().unwrap();
        assert_eq!(host.mode, CgroupMode::V2);
        assert!(
            refuse_unsupported(&Needs::script(&s), &r)
                .unwrap()
                .is_some()
        );
        // No limits: a cgroup all the same, for the device list; unless unconfined.
        let none = spec(None, None, None);
        assert!(
            refuse_unsupported(&Needs::run(&none), &r)
                .unwrap()
                .is_some()
        );
        assert_eq!(
            refuse_unsupported(&Needs::run(&devices_unconfined(none)), &r).unwrap(),
            None
        );
    }

    fn devices_unconfined(mut s: ContainerSpec) -> ContainerSpec {
        s.confinement.devices = false;
        s
    }

    #[test]
    fn refuse_a_host_without_device_cgroup_or_seccomp_unless_unconfined() {
        let bin = fake::tools(&[]);
        // v1 without the devices hierarchy.
        let p = fake::proc(0, fake::ALL_CAPS, &LESSON_NS, &[]);
        let cg = fake::v1(&["cpu", "memory", "pids"]);
        let r = roots(&p, &cg, &bin);
        let s = spec(None, None, None);
        let msg = refusal(refuse_unsupported(&Needs::run(&s), &r));
        assert!(msg.contains("devices controller"), "{msg}");
        assert!(
            msg.ends_with(&format!("or run with {DEVICES_OPT_OUT}")),
            "{msg}"
        );
        assert_eq!(
            refuse_unsupported(&Needs::run(&devices_unconfined(s.clone())), &r).unwrap(),
            None
        );
        // v2 on a kernel without the bpf system call.
        std::fs::remove_file(p.path().join("sys/kernel/unprivileged_bpf_disabled")).unwrap();
        let cg = fake::v2(&["cpu", "memory", "pids"]);
        let r = roots(&p, &cg, &bin);
        let msg = refusal(refuse_unsupported(&Needs::run(&s), &r));
        assert!(msg.contains("no bpf system call"), "{msg}");
        assert!(msg.contains(DEVICES_OPT_OUT), "{msg}");
        assert!(!device_cgroup(&p.path().join("x"), cg.path(), CgroupMode::V2).is_available());
        // check's seccomp probe, from the same fake /proc.
        assert!(seccomp(p.path()).is_available());
        std::fs::remove_file(p.path().join("sys/kernel/seccomp/actions_avail")).unwrap();
        let lack = seccomp(p.path());
        assert!(
            lack.lack().unwrap().fix.contains(SECCOMP_OPT_OUT),
            "{lack:?}"
        );
    }

    #[test]
    fn refuse_a_missing_controller_only_when_asked_for() {
        let p = fake::proc(0, fake::ALL_CAPS, &LESSON_NS, &[]);
        let bin = fake::tools(&[]);
        for cg in [
            fake::v1(&["cpu", "memory", "devices"]),
            fake::hybrid(&["cpu", "memory", "devices"]),
            fake::v2(&["cpu", "memory"]),
        ] {
            let r = roots(&p, &cg, &bin);
            let msg = refusal(refuse_unsupported(
                &Needs::run(&spec(None, None, Some("5"))),
                &r,
            ));
            assert!(
                msg.starts_with("--pids-limit needs the pids cgroup controller"),
                "{msg}"
            );
            assert!(msg.contains("or run without --pids-limit"), "{msg}");
            // Options that need nothing missing still work.
            let ok = refuse_unsupported(&Needs::run(&spec(Some("1"), Some("64"), None)), &r);
            assert!(ok.unwrap().is_some());
        }
        let empty = TempDir::new("nocgroup");
        let r = roots(&p, &empty, &bin);
        let msg = refusal(refuse_unsupported(
            &Needs::run(&spec(None, Some("64"), None)),
            &r,
        ));
        assert!(msg.starts_with("no cgroup filesystem at"), "{msg}");
        assert!(
            refuse_unsupported(&Needs::run(&devices_unconfined(spec(None, None, None))), &r)
                .is_ok()
        );
    }

    #[test]
    fn refuse_missing_privileges_namespace_and_tool() {
        let cg = fake::v2(&[]);
        let all_but_pivot_root: Vec<&str> = SCRIPT_TOOLS
            .iter()
            .map(|t| t.name)
            .filter(|n| *n != "pivot_root")
            .collect();
        let bin = fake::tools(&all_but_pivot_root);
        let s = spec(None, None, None);

        let user = fake::proc(1000, 0, &LESSON_NS, &[]);
        let msg = refusal(refuse_unsupported(
            &Needs::run(&s),
            &roots(&user, &cg, &bin),
        ));
        assert!(msg.starts_with("gocker run needs root"), "{msg}");
        assert!(msg.contains("sudo"), "{msg}");
        // The script is run later, by root: emit-script does not need privileges.
        let msg = refusal(refuse_unsupported(
            &Needs::script(&s),
            &roots(&user, &cg, &bin),
        ));
        assert!(msg.contains("needs pivot_root"), "{msg}");
        assert!(msg.contains("apt-get install util-linux"), "{msg}");

        // busybox's setpriv lacks --bounding-set: found, but not usable.
        let with_busybox = fake::tools(&SCRIPT_TOOLS.map(|t| t.name));
        let bb = with_busybox.path().join("busybox");
        fake::touch(&bb, "#!/bin/sh\n");
        std::fs::set_permissions(&bb, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        std::fs::remove_file(with_busybox.path().join("setpriv")).unwrap();
        std::os::unix::fs::symlink("busybox", with_busybox.path().join("setpriv")).unwrap();
        let msg = refusal(refuse_unsupported(
            &Needs::script(&s),
            &roots(&user, &cg, &with_busybox),
        ));
        assert!(
            msg.contains("needs setpriv") && msg.contains("busybox"),
            "{msg}"
        );

        let no_pid = fake::proc(0, fake::ALL_CAPS, &["mnt", "uts", "ipc", "net"], &[]);
        let msg = refusal(refuse_unsupported(
            &Needs::run(&s),
            &roots(&no_pid, &cg, &bin),
        ));
        assert!(
            msg.contains("needs the pid namespace (CLONE_NEWPID)"),
            "{msg}"
        );
        assert!(msg.contains("CONFIG_PID_NS"), "{msg}");

        let no_net = fake::proc(0, fake::ALL_CAPS, &LESSON_NS, &["net"]);
        let msg = refusal(refuse_unsupported(
            &Needs::script(&s),
            &roots(&no_net, &cg, &bin),
        ));
        assert!(
            msg.contains("gocker emit-script needs the net namespace"),
            "{msg}"
        );
        assert!(msg.contains("sysctl -w user.max_net_namespaces="), "{msg}");
    }
}
