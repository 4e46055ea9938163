//! The template's view model: the spec turned into the values `templates/script.sh`
//! prints (cgroup directories and limit lines, mount steps, the tools to check for).

use super::Lang;
use super::quote::{Quote, Word, quote_bytes};
use crate::cgroup::{self, Controller, LimitFile, Version};
use crate::host::{self, ScriptTool};
use crate::mounts::{Mount, MountArg, MountCall, MountKind, NodeKind};
use crate::spec::{ContainerSpec, DEFAULT_PATH, Root};
use anyhow::{Context, Result};
use askama::Template;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The script for `spec`, for cgroup `version`; `header` is the `emit-script` arguments
/// shown on its first comment line.
pub fn render(spec: &ContainerSpec, version: Version, header: &[OsString]) -> Result<String> {
    render_lang(spec, version, header, Lang::En)
}

/// `render`, with the trace's words in `lang`; the comments are English (`zh::translate`
/// makes them Chinese).
pub(super) fn render_lang(
    spec: &ContainerSpec,
    version: Version,
    header: &[OsString],
    lang: Lang,
) -> Result<String> {
    // What the spec can say that this backend has no host tool for is refused, never
    // dropped: a script that silently lacked a limit would not be the same container.
    if !spec.rlimits.is_empty() {
        return Err(crate::error::Failure::Usage.with(
            "the script backend cannot set resource limits (rlimits): run the container with gocker run",
        ));
    }
    if spec.seccomp_profile.is_some() {
        return Err(crate::error::Failure::Usage.with(
            "the script backend cannot install a seccomp profile (no host tool does): run the container with gocker run",
        ));
    }
    if spec.cgroup_path.is_some() {
        return Err(crate::error::Failure::Usage.with(
            "the script backend names its cgroup gocker/<its pid>, not a bundle's cgroupsPath: run the container with gocker run",
        ));
    }
    // The allow rule of each linux.devices node is honoured by having no list at all.
    let node_rule = |r: &crate::devices::Rule| {
        r.allow
            && spec.mounts.iter().any(|m| match m.kind {
                MountKind::Node { major, minor, .. } => {
                    r.major == Some(major) && r.minor == Some(minor)
                }
                _ => false,
            })
    };
    let rules: Vec<_> = spec
        .limits
        .devices
        .iter()
        .filter(|r| !node_rule(r))
        .copied()
        .collect();
    if crate::devices::List::for_container(&rules) != crate::devices::List::for_container(&[]) {
        return Err(crate::error::Failure::Usage.with(
            "the script backend applies no device list, so it cannot honour config.json's linux.resources.devices rules: run the container with gocker run",
        ));
    }
    if let Some(field) = cgroup::script_refusal(&spec.limits) {
        return Err(crate::error::Failure::Usage.with(format!(
            "the script backend writes only the command line's limits and cpu.shares, so it cannot set config.json's linux.resources.{field}: run the container with gocker run"
        )));
    }
    if let Some(why) = cgroup::refused_on(&spec.limits, version) {
        return Err(crate::error::Failure::Usage.with(why));
    }
    if spec
        .mounts
        .iter()
        .any(|m| matches!(m.kind, MountKind::Propagation { .. }))
    {
        return Err(crate::error::Failure::Usage.with(
            "the script backend cannot change a mount's propagation (a bundle's shared, slave or unbindable mount option) yet: run the container with gocker run",
        ));
    }
    if let Some((ns, _)) = spec.namespace_paths.first() {
        return Err(crate::error::Failure::Usage.with(format!(
            "the script backend makes every namespace with unshare(1); it cannot join the {} namespace a bundle gives by path: run the container with gocker run",
            ns.proc_name()
        )));
    }
    if !spec.process.user.is_root() {
        return Err(crate::error::Failure::Usage.with(
            "the script backend cannot run the command as another user (busybox's setpriv has no --reuid): run the container with gocker run",
        ));
    }
    // A root command's execve makes its permitted and effective sets the bounding set
    // plus the inheritable one, and under no_new_privs only as much of that as it was
    // permitted before: gocker run sets permitted first, the script has no tool that
    // does (setpriv sets the other three sets), so it can only be the same container
    // when nothing is cut that way.
    let c = &spec.capabilities;
    let after_exec = c.bounding.0 | c.inheritable.0;
    if spec.no_new_privs && after_exec & !c.permitted.0 != 0 {
        return Err(crate::error::Failure::Usage.with(
            "the script backend cannot set the permitted capability set (no host tool does), and under noNewPrivileges it would keep more than process.capabilities.permitted: run the container with gocker run",
        ));
    }
    let limits = cgroup::limit_files(&spec.limits, version);
    let controllers = cgroup::needed_controllers(&spec.limits);
    let cgroup_root = PathBuf::from(CGROUP_ROOT);
    let mounts = mount_steps(&spec.mounts);
    let script = Script {
        header,
        lang,
        lesson_label: crate::trace::lesson_label(lang),
        // The script's own interpreter is there by the time it checks anything.
        tools: host::script_tools_for(spec)
            .filter(|t| t.name != "sh")
            .collect(),
        host_view: spec.root == Root::HostView,
        rootfs: match &spec.root {
            Root::Dir(p) => Some(p.as_path()),
            Root::Overlay(_) | Root::HostView => None,
        },
        lower: match &spec.root {
            Root::Overlay(p) => Some(p.as_path()),
            Root::Dir(_) | Root::HostView => None,
        },
        version: version.name(),
        v2: version == Version::V2,
        cgroup_root: &cgroup_root,
        cgroups: controllers
            .iter()
            .enumerate()
            .map(|(i, c)| CgroupDir {
                controller: c.name(),
                option: c.option(),
                var: dir_var(version, *c, &controllers),
                hierarchy: match version {
                    Version::V1 => cgroup_root.join(c.name()),
                    Version::V2 => cgroup_root.clone(),
                },
                fd: 3 + i,
            })
            .take(if version == Version::V2 {
                1
            } else {
                usize::MAX
            })
            .collect(),
        controllers: controllers.iter().map(|c| c.name()).collect(),
        limits: limits
            .iter()
            .map(|l| Limit {
                var: dir_var(version, l.controller, &controllers),
                file: l.file,
                value: &l.value,
                comment: limit_comment(l),
                if_present: l.if_present,
            })
            .collect(),
        oom: (controllers.contains(&Controller::Memory)).then(|| {
            let (file, key) = cgroup::oom_counter(version);
            Oom {
                var: dir_var(version, Controller::Memory, &controllers),
                file,
                key,
                mib: spec.limits.memory_bytes.unwrap_or(0) >> 20,
            }
        }),
        namespaces: spec
            .namespaces
            .iter()
            .map(|n| n.unshare_option())
            .collect::<Vec<_>>()
            .join(" "),
        clone_flags: spec
            .namespaces
            .iter()
            .map(|n| n.clone_flag_name())
            .collect::<Vec<_>>()
            .join("|"),
        setup_caps: setup_caps(spec),
        inheritable: spec.capabilities.inheritable.names().collect(),
        ambient: spec.capabilities.ambient.names().collect(),
        no_new_privs: spec.no_new_privs,
        bounding_set: std::iter::once("-all".to_string())
            .chain(
                spec.capabilities
                    .bounding
                    .names()
                    .map(|name| format!("+{name}")),
            )
            .collect::<Vec<_>>()
            .join(","),
        remount_below: mounts.iter().any(|m| m.remount_below.is_some()),
        nodes: mounts.iter().any(|m| m.node.is_some()),
        mounts,
        dev_probe: crate::mounts::ROOT_HAS_DEV,
        hostname: &spec.hostname,
        terminal: spec.process.terminal,
        stdin: spec.process.stdin,
        cwd: (spec.process.cwd != Path::new("/")).then_some(spec.process.cwd.as_path()),
        oom_score_adj: spec.process.oom_score_adj,
        umask: spec.process.umask.map(|m| format!("{m:04o}")),
        sysctl: spec
            .sysctl
            .iter()
            .map(|(k, v)| (crate::spec::sysctl_file(k), v.as_str()))
            .collect(),
        readonly_root: spec.readonly_root,
        rootfs_slave: spec.rootfs_slave,
        search_path: search_path(&spec.process.env),
        env: &spec.process.env,
        argv: &spec.process.argv,
    };
    script.render().context("render the script template")
}

/// The container's PATH, which its command is looked up on: the last `PATH=` of its
/// environment, as in gocker run.
pub(super) fn search_path(env: &[OsString]) -> OsString {
    env.iter()
        .rev()
        .find_map(|e| e.as_bytes().strip_prefix(b"PATH="))
        .map_or_else(|| DEFAULT_PATH.into(), |p| OsStr::from_bytes(p).to_owned())
}

/// Where the cgroup hierarchies are mounted on the host the script runs on.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// The capabilities the setup steps inside the container need (mount, pivot_root,
/// sethostname need CAP_SYS_ADMIN; bringing up lo needs CAP_NET_ADMIN); the script carries
/// them across in the inheritable set and clears them before the command runs.
const SETUP_CAPS: [&str; 2] = ["sys_admin", "net_admin"];

/// `SETUP_CAPS`, and mknod when the container's /dev is filled by mknod(1) but its kept
/// set lacks CAP_MKNOD (an OCI bundle's may): gocker run makes the nodes before it drops
/// any capability.
fn setup_caps(spec: &ContainerSpec) -> Vec<&'static str> {
    let mut v = SETUP_CAPS.to_vec();
    let mknod = crate::security::CAP_NAMES
        .iter()
        .position(|n| *n == "mknod")
        .unwrap_or(27) as u32;
    let nodes = spec
        .mounts
        .iter()
        .any(|m| matches!(m.kind, MountKind::Node { .. }));
    if !spec.capabilities.bounding.contains(mknod)
        && (nodes
            || spec
                .mounts
                .iter()
                .any(|m| matches!(m.kind, MountKind::Device { .. })))
    {
        v.push("mknod");
    }
    // A linux.devices node gets its owner with chown(1).
    let chown = crate::security::CAP_NAMES
        .iter()
        .position(|n| *n == "chown")
        .unwrap_or(0) as u32;
    if nodes && !spec.capabilities.bounding.contains(chown) {
        v.push("chown");
    }
    v
}

/// The shell variable that holds the container's cgroup directory for `c`: `cg` for the
/// first of `controllers` on v1 and for the one directory on v2, so that v1 and v2 scripts
/// name it alike; `cg_NAME` for a further v1 controller.
pub(super) fn dir_var(version: Version, c: Controller, controllers: &[Controller]) -> String {
    match version {
        Version::V1 if controllers.first() != Some(&c) => format!("cg_{}", c.name()),
        _ => "cg".into(),
    }
}

pub(super) fn limit_comment(l: &LimitFile) -> String {
    let what = match l.file {
        "cpu.max" => "CPU time per period, in microseconds",
        "cpu.cfs_quota_us" => "CPU time per period, in microseconds (quota before period)",
        "cpu.cfs_period_us" => "the period, in microseconds",
        "cpu.shares" => "relative CPU share under contention (1024 is the default)",
        "cpu.weight" => {
            "relative CPU weight under contention (100 is the default; from cpu.shares)"
        }
        "memory.max" | "memory.limit_in_bytes" => "bytes of memory",
        "memory.memsw.limit_in_bytes" => {
            "bytes of memory and swap together: no swap (where the kernel accounts swap)"
        }
        "memory.swap.max" => "bytes of swap: none (where the kernel accounts swap)",
        "pids.max" => "number of processes",
        _ => "limit",
    };
    format!("{}: {what}", l.controller.option())
}

#[derive(Template)]
#[template(path = "script.sh", escape = "none")]
pub(super) struct Script<'a> {
    header: &'a [OsString],
    /// The language of the trace's words (`trace::STEPS_ZH`).
    lang: Lang,
    /// How a traced line frames the lesson's Go code (`trace::lesson_label`).
    lesson_label: &'static str,
    /// Host programs to check for before anything is done (`host::SCRIPT_TOOLS`).
    tools: Vec<&'static ScriptTool>,
    host_view: bool,
    /// The rootfs, written into (`--rootfs-rw`).
    rootfs: Option<&'a Path>,
    /// The rootfs as the read-only lower layer of the container's overlay.
    lower: Option<&'a Path>,
    version: &'static str,
    v2: bool,
    cgroup_root: &'a Path,
    /// One directory per controller on v1; the one directory on v2.
    cgroups: Vec<CgroupDir>,
    controllers: Vec<&'static str>,
    limits: Vec<Limit<'a>>,
    oom: Option<Oom>,
    namespaces: String,
    clone_flags: String,
    /// The capabilities carried across the bounding set's cut for the setup steps
    /// (`SETUP_CAPS`, and `CAP_MKNOD` when the kept set lacks it and nodes are made).
    setup_caps: Vec<&'static str>,
    /// The spec's inheritable set, carried from the start like the setup capabilities
    /// but kept at the end (a bundle's; the CLI's is empty). The effective and permitted
    /// sets need no step: the command runs as root, whose execve makes them the bounding
    /// set plus the inheritable one, as it does under gocker run (`render` refuses a spec
    /// whose permitted set would cut that under no_new_privs).
    inheritable: Vec<std::borrow::Cow<'static, str>>,
    /// The spec's ambient set, raised just before the command (busybox setpriv).
    ambient: Vec<std::borrow::Cow<'static, str>>,
    /// `setpriv --no-new-privs` (the spec's `no_new_privs`).
    no_new_privs: bool,
    bounding_set: String,
    mounts: Vec<MountStep>,
    /// Whether any step needs the `remount_below` function.
    remount_below: bool,
    /// Whether any step makes a `linux.devices` node (busybox's chown gives its owner).
    nodes: bool,
    /// The file whose presence as a device means the root has its own /dev.
    dev_probe: &'static str,
    hostname: &'a str,
    terminal: bool,
    stdin: bool,
    cwd: Option<&'a Path>,
    /// Namespaced kernel parameters: the file under /proc/sys, and its value.
    sysctl: Vec<(PathBuf, &'a str)>,
    /// Written to /proc/self/oom_score_adj by the container's PID 1, before its setup.
    oom_score_adj: Option<i32>,
    /// The command's umask, in octal (OCI `process.user.umask`), when the spec sets one.
    umask: Option<String>,
    /// `/` recursively slave rather than private (OCI rootfsPropagation).
    rootfs_slave: bool,
    /// Remount `/` read-only after the working directory is made (OCI `root.readonly`).
    readonly_root: bool,
    /// The PATH the command is looked up on: the container's.
    search_path: OsString,
    env: &'a [OsString],
    argv: &'a [OsString],
}

impl Script<'_> {
    /// Step `n` of `trace::STEPS` as the template's `trace` takes it: `'N NAME' 'LESSON'`.
    fn step(&self, n: usize) -> String {
        let (name, lesson) = crate::trace::steps(self.lang)[n - 1];
        format!(
            "{} {}",
            quote_bytes(format!("{n} {name}").as_bytes()),
            quote_bytes(lesson.as_bytes())
        )
    }

    /// The trace's words in the script's language.
    fn t<'s>(&self, en: &'s str, zh: &'s str) -> &'s str {
        match self.lang {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }

    /// `+CAP,...` for the first setpriv's inheritable set: the setup capabilities, then
    /// the spec's inheritable ones not among them.
    fn carried_caps(&self) -> String {
        self.setup_caps
            .iter()
            .copied()
            .chain(
                self.inheritable
                    .iter()
                    .map(|c| c.as_ref())
                    .filter(|c| !self.setup_caps.contains(c)),
            )
            .map(|c| format!("+{c}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The last setpriv's options: the setup capabilities the spec's inheritable set
    /// lacks leave it (`--inh-caps -CAP,...`), then the ambient set is raised.
    fn final_caps(&self) -> String {
        let cleared: Vec<String> = self
            .setup_caps
            .iter()
            .filter(|c| !self.inheritable.iter().any(|i| i == *c))
            .map(|c| format!("-{c}"))
            .collect();
        let mut v = Vec::new();
        if !cleared.is_empty() {
            v.push(format!("--inh-caps {}", cleared.join(",")));
        }
        if !self.ambient.is_empty() {
            let raised: Vec<String> = self.ambient.iter().map(|c| format!("+{c}")).collect();
            v.push(format!("--ambient-caps {}", raised.join(",")));
        }
        v.join(" ")
    }
}

/// A node of `linux.devices`, as mknod(1) and chown(1) words.
pub(super) struct NodeStep {
    mode: String,
    kind: &'static str,
    numbers: Option<(u32, u32)>,
    owner: String,
}

pub(super) struct CgroupDir {
    controller: &'static str,
    option: &'static str,
    var: String,
    /// The hierarchy the container's cgroup lives in (v1: one per controller).
    hierarchy: PathBuf,
    /// The descriptor the child keeps `cgroup.procs` open on across pivot_root.
    fd: usize,
}

pub(super) struct Limit<'a> {
    var: String,
    file: &'static str,
    value: &'a str,
    comment: String,
    /// Only where the kernel has the file (`cgroup::LimitFile::if_present`).
    if_present: bool,
}

pub(super) struct Oom {
    var: String,
    file: &'static str,
    key: &'static str,
    mib: u64,
}

/// One entry of `spec.mounts`, as shell steps.
pub(super) struct MountStep {
    why: crate::mounts::Text,
    /// The first of a run of steps with the same `why`: print the comment.
    new_group: bool,
    /// The container path this step works on, and the script's function that finds it
    /// under the new root into `$t` (`in_root`, `fs_target`, `volume_target`, `new_entry`).
    target: PathBuf,
    resolve: &'static str,
    /// Only when the target exists (`[ -e ]`): kernel-dependent /proc files.
    only_if: bool,
    /// `mkdir -p` the target first.
    mkdir: bool,
    /// `mkdir -p` the target's directory first (a file mountpoint).
    mkdir_parent: bool,
    /// Create the target as an empty file first (a file mountpoint).
    touch: bool,
    /// `ln -s TO "$t"` instead of a mount.
    symlink: Option<OsString>,
    /// `mknod -m 666 "$t" c MAJOR MINOR` instead of a mount.
    mknod: Option<(u32, u32)>,
    /// A `linux.devices` node: `mknod -m MODE "$t" TYPE [MAJOR MINOR]`, then its owner.
    node: Option<NodeStep>,
    /// The symlink is skipped when it exists already.
    link_optional: bool,
    /// Leading tabs: one, or two inside the /dev block.
    indent: &'static str,
    /// The first and last steps of the /dev made only for a root without one.
    dev_open: bool,
    dev_close: bool,
    /// mount(8) argument lists, one per mount(2) call.
    calls: Vec<Vec<Word>>,
    /// A mask (`MountKind::Mask`): the mount(8) words over a directory, and over
    /// anything else; the script looks at what is there, as gocker run does.
    mask: Option<[Vec<Word>; 2]>,
    /// The per-mount flags (`ro,nosuid,...`) a recursive bind gives every mount below its
    /// target too, as gocker run's mount_setattr(AT_RECURSIVE) does (`remount_below`).
    remount_below: Option<String>,
}

pub(super) fn mount_steps(mounts: &[Mount]) -> Vec<MountStep> {
    let mut made: Vec<&Path> = vec![Path::new("/")];
    let mut steps = Vec::with_capacity(mounts.len());
    for m in mounts {
        let is_link = matches!(m.kind, MountKind::Symlink { .. });
        let prev_dev = steps.last().is_some_and(|s: &MountStep| s.indent == "\t\t");
        let mut step = MountStep {
            why: m.why.clone(),
            new_group: steps.last().is_none_or(|s: &MountStep| s.why != m.why),
            target: m.target.clone(),
            resolve: match m.kind {
                MountKind::Fs { .. } => "fs_target",
                MountKind::Bind { .. } => "volume_target",
                MountKind::Rebind | MountKind::Mask | MountKind::Propagation { .. } => "in_root",
                MountKind::Symlink { .. } | MountKind::Device { .. } | MountKind::Node { .. } => {
                    "new_entry"
                }
            },
            // A mask skips a missing path by itself (it looks at what is there anyway).
            only_if: m.optional && !is_link && m.kind != MountKind::Mask,
            mkdir: false,
            mkdir_parent: false,
            touch: false,
            symlink: None,
            mknod: None,
            node: None,
            link_optional: m.optional && is_link,
            indent: if m.dev { "\t\t" } else { "\t" },
            dev_open: m.dev && !prev_dev,
            dev_close: false,
            calls: m.calls().iter().map(mount_words).collect(),
            mask: (m.kind == MountKind::Mask).then(|| m.mask_calls().each_ref().map(mount_words)),
            remount_below: match m.kind {
                MountKind::Bind { .. } if m.flags.recursive => {
                    let names = m.flags.names();
                    (!names.is_empty()).then(|| names.join(","))
                }
                _ => None,
            },
        };
        if prev_dev
            && !m.dev
            && let Some(last) = steps.last_mut()
        {
            last.dev_close = true;
        }
        match (&m.kind, m.mountpoint_is_dir()) {
            (MountKind::Symlink { to }, _) => step.symlink = Some(to.into()),
            (MountKind::Device { major, minor }, _) => step.mknod = Some((*major, *minor)),
            (
                MountKind::Node {
                    kind,
                    major,
                    minor,
                    mode,
                    uid,
                    gid,
                },
                _,
            ) => {
                step.node = Some(NodeStep {
                    mode: format!("{mode:o}"),
                    kind: match kind {
                        NodeKind::Char => "c",
                        NodeKind::Block => "b",
                        NodeKind::Fifo => "p",
                    },
                    numbers: (*kind != NodeKind::Fifo).then_some((*major, *minor)),
                    owner: format!("{uid}:{gid}"),
                })
            }
            // An optional target exists by definition when its step runs.
            _ if m.optional => {}
            (_, Some(true)) => step.mkdir = true,
            (_, Some(false)) => {
                // The file's directory, unless an earlier step made it (/dev is a tmpfs).
                let parent = m.target.parent().unwrap_or(Path::new("/"));
                step.mkdir_parent = !made.contains(&parent);
                step.touch = true;
            }
            (_, None) => {}
        }
        made.push(&m.target);
        steps.push(step);
    }
    if let Some(last) = steps.last_mut()
        && last.indent == "\t\t"
    {
        last.dev_close = true;
    }
    steps
}

/// The mount(8) words for one mount(2) call, as `MountCall::mount_args` types them: every
/// path stays the exact bytes of the spec (a lossy print would change a non-UTF-8 path).
pub(super) fn mount_words(c: &MountCall) -> Vec<Word> {
    c.mount_args()
        .into_iter()
        .map(|a| match a {
            MountArg::Text(t) => Word::Text(t.into()),
            MountArg::Host(p) => Word::Text(p.into_os_string()),
            MountArg::Inside(p) => Word::Inside(p),
        })
        .collect()
}

pub(super) mod filters {
    use super::Quote;

    /// The one shell-quoting filter: every value from the user goes through it.
    #[askama::filter_fn]
    pub fn quote<T: Quote>(value: T, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(value.quoted())
    }

    /// `quote` for the one-line header: a newline is written `"$nl"`, so the header stays
    /// one comment line (see `quote_line`).
    #[askama::filter_fn]
    pub fn quote_line(
        value: &std::ffi::OsString,
        _: &dyn askama::Values,
    ) -> askama::Result<String> {
        Ok(super::super::quote::quote_line(
            std::os::unix::ffi::OsStrExt::as_bytes(value.as_os_str()),
        ))
    }
}
