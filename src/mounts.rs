//! The new root's mounts as data: what is mounted where, with which flags, and why.
//!
//! One `Mount` is one step of both backends: the native runtime resolves its target inside
//! the new root and mounts onto the fd (runtime/newroot.rs); the script renderer prints its
//! kernel calls (`MountCall`) as mount(8) words (`MountArg`), so the two cannot drift.
//! Targets are paths inside the container; each backend puts them under its root.

use crate::sys::ms;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// A string of the model: the built-in tables' text costs no allocation, and a front end
/// that reads its mounts from a file (an OCI `config.json`) fills in owned strings.
pub type Text = Cow<'static, str>;

/// One step of building the new root, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mount {
    pub kind: MountKind,
    /// Where, inside the container.
    pub target: PathBuf,
    /// What the step asks of the mount: read-only, nosuid, ..., recursive.
    pub flags: MountFlags,
    /// Skip this step when the target does not exist (kernel-dependent /proc files); for
    /// a symlink, when the link exists already (a root that brings its own).
    pub optional: bool,
    /// Part of the /dev made only for a root without one of its own (see `ROOT_HAS_DEV`).
    pub dev: bool,
    /// For comments in scripts and docs.
    pub why: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MountKind {
    /// A host path bound into the container; `dir` says which mountpoint to create.
    Bind { source: PathBuf, dir: bool },
    /// A path already inside the new root, bound onto itself to change its flags.
    Rebind,
    /// A new filesystem instance.
    Fs {
        fstype: Text,
        source: Text,
        /// Filesystem-specific options, as mount(8) `-o` takes them (`mode=755,size=64k`).
        data: Option<Text>,
    },
    /// Not a mount: a symlink the root needs (`/dev/fd`, or `/bin -> usr/bin` in the host view).
    Symlink { to: String },
    /// Not a mount: a character device node, made with mknod(2), mode 0666.
    Device { major: u32, minor: u32 },
    /// Not a mount: a node of a bundle's `linux.devices`, made with mknod(2) with its
    /// permission bits, then given its owner; only ever on a tmpfs the container mounts.
    Node {
        kind: NodeKind,
        major: u32,
        minor: u32,
        mode: u32,
        uid: u32,
        gid: u32,
    },
    /// Not a mount: the propagation of the mount on the target changed (a bundle's
    /// `shared`, `slave`, `unbindable` mount options): `flags` is the propagation call's
    /// word, one of ms::SHARED, SLAVE, UNBINDABLE, with ms::REC for the r- forms (the
    /// step's `MountFlags` stay empty). gocker made `/` private or slave first, so a
    /// shared mount's peers are the container's own, never the host's.
    Propagation { flags: u64 },
    /// A path of the container hidden (OCI `maskedPaths`): what lies there decides how,
    /// so each backend looks when it gets there (runc does the same): a directory gets an
    /// empty read-only tmpfs, anything else the host's /dev/null; a missing one is skipped.
    Mask,
}

/// What a `MountKind::Node` is: its `S_IF*` type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeKind {
    Char,
    Block,
    Fifo,
}

impl NodeKind {
    pub fn type_bits(self) -> u32 {
        match self {
            NodeKind::Char => libc::S_IFCHR,
            NodeKind::Block => libc::S_IFBLK,
            NodeKind::Fifo => libc::S_IFIFO,
        }
    }
}

/// The options of one step, typed: the per-mount flags mount(8) spells `ro`, `nosuid`,
/// `nodev` and `noexec`, and whether a bind takes the mounts below its source along
/// (`--rbind`, and `:ro` reaching them). A front end sets fields; only `bits` and `names`
/// turn them into the kernel's `MS_*` word and mount(8)'s words, from one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MountFlags {
    pub readonly: bool,
    pub nosuid: bool,
    pub nodev: bool,
    pub noexec: bool,
    pub recursive: bool,
}

type Flag = (fn(&MountFlags) -> bool, u64, &'static str);

/// Each per-mount flag: its field, its kernel bit, its mount(8) name; the one table both
/// backends use.
const PER_MOUNT: [Flag; 4] = [
    (|f| f.readonly, ms::RDONLY, "ro"),
    (|f| f.nosuid, ms::NOSUID, "nosuid"),
    (|f| f.nodev, ms::NODEV, "nodev"),
    (|f| f.noexec, ms::NOEXEC, "noexec"),
];

impl MountFlags {
    pub const NONE: MountFlags = MountFlags {
        readonly: false,
        nosuid: false,
        nodev: false,
        noexec: false,
        recursive: false,
    };

    /// RDONLY | NOSUID | NODEV | NOEXEC, as set: what a remount of a bind applies.
    pub fn per_mount_bits(&self) -> u64 {
        PER_MOUNT
            .iter()
            .filter(|(on, _, _)| on(self))
            .fold(0, |bits, (_, bit, _)| bits | bit)
    }

    /// The kernel's word for all of it (`MS_REC` for `recursive`).
    pub fn bits(&self) -> u64 {
        self.per_mount_bits() | if self.recursive { ms::REC } else { 0 }
    }

    /// The per-mount flags set, as mount(8) `-o` spells them, in the table's order.
    pub fn names(&self) -> Vec<&'static str> {
        flag_names(self.per_mount_bits())
    }
}

/// mount(8)'s names of the per-mount flags in a kernel word (a `MountCall`'s).
pub fn flag_names(bits: u64) -> Vec<&'static str> {
    PER_MOUNT
        .iter()
        .filter(|(_, bit, _)| bits & bit != 0)
        .map(|(_, _, name)| *name)
        .collect()
}

/// One mount(2) call. `source` and `target` are container paths except for a bind's
/// host source; the backend prefixes the container ones with its root.
#[derive(Debug, Clone, PartialEq)]
pub struct MountCall {
    pub source: Option<CallSource>,
    pub target: PathBuf,
    pub fstype: Option<Text>,
    pub flags: u64,
    pub data: Option<Text>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CallSource {
    Host(PathBuf),
    /// A path inside the container (a bind onto itself).
    Container(PathBuf),
    /// A filesystem's source name ("proc", "tmpfs").
    Name(Text),
}

impl Mount {
    pub fn volume(source: PathBuf, target: PathBuf, dir: bool, readonly: bool) -> Mount {
        Mount {
            kind: MountKind::Bind { source, dir },
            target,
            flags: MountFlags {
                readonly,
                recursive: true,
                ..MountFlags::NONE
            },
            optional: false,
            dev: false,
            why: "volume (-v)".into(),
        }
    }

    #[cfg(test)]
    pub fn is_readonly(&self) -> bool {
        self.flags.readonly
    }

    /// The mountpoint to create when missing: `Some(true)` a directory, `Some(false)` a file.
    pub fn mountpoint_is_dir(&self) -> Option<bool> {
        match &self.kind {
            MountKind::Bind { dir, .. } => Some(*dir),
            MountKind::Fs { .. } => Some(true),
            MountKind::Rebind
            | MountKind::Symlink { .. }
            | MountKind::Device { .. }
            | MountKind::Node { .. }
            | MountKind::Propagation { .. }
            | MountKind::Mask => None,
        }
    }

    /// The kernel calls this step makes. A bind ignores per-mount flags, so a read-only
    /// (or nosuid, ...) bind is a bind followed by a remount of that bind (mount(2)).
    pub fn calls(&self) -> Vec<MountCall> {
        let per_mount = self.flags.per_mount_bits();
        let bind = |source: CallSource| {
            let mut v = vec![MountCall {
                source: Some(source),
                target: self.target.clone(),
                fstype: None,
                flags: ms::BIND | if self.flags.recursive { ms::REC } else { 0 },
                data: None,
            }];
            if per_mount != 0 {
                v.push(MountCall {
                    source: None,
                    target: self.target.clone(),
                    fstype: None,
                    flags: ms::REMOUNT | ms::BIND | per_mount,
                    data: None,
                });
            }
            v
        };
        match &self.kind {
            MountKind::Bind { source, .. } => bind(CallSource::Host(source.clone())),
            MountKind::Rebind => bind(CallSource::Container(self.target.clone())),
            MountKind::Fs {
                fstype,
                source,
                data,
            } => vec![MountCall {
                source: Some(CallSource::Name(source.clone())),
                target: self.target.clone(),
                fstype: Some(fstype.clone()),
                flags: per_mount,
                data: data.clone(),
            }],
            MountKind::Symlink { .. }
            | MountKind::Device { .. }
            | MountKind::Node { .. }
            | MountKind::Propagation { .. }
            | MountKind::Mask => vec![],
        }
    }

    /// A `Mask`'s two ways, one chosen where it is made: over a directory, and over
    /// anything else.
    pub fn mask_calls(&self) -> [MountCall; 2] {
        [
            MountCall {
                source: Some(CallSource::Name("tmpfs".into())),
                target: self.target.clone(),
                fstype: Some("tmpfs".into()),
                flags: ms::RDONLY,
                data: None,
            },
            MountCall {
                source: Some(CallSource::Host(MASK_FILE.into())),
                target: self.target.clone(),
                fstype: None,
                flags: ms::BIND,
                data: None,
            },
        ]
    }
}

/// What a masked file is bound to: the host's null device, empty to read, deaf to writes.
pub const MASK_FILE: &str = "/dev/null";

/// One word of a mount(8) command line, typed: an option or name as text, a host path,
/// or a path inside the container (which each backend puts under its own root).
#[derive(Debug, Clone, PartialEq)]
pub enum MountArg {
    Text(String),
    Host(PathBuf),
    Inside(PathBuf),
}

impl MountCall {
    /// The mount(8) arguments that make the same call; the one rendering of flags and
    /// options both the script and the docs use.
    pub fn mount_args(&self) -> Vec<MountArg> {
        let text = |s: &str| MountArg::Text(s.to_string());
        let target = MountArg::Inside(self.target.clone());
        let names = flag_names(self.flags);
        if self.flags & ms::REMOUNT != 0 {
            let mut o = vec!["remount", "bind"];
            o.extend(&names);
            return vec![text("-o"), text(&o.join(",")), target];
        }
        match (&self.source, self.fstype.as_deref()) {
            (Some(src), None) => {
                let src = match src {
                    CallSource::Host(p) => MountArg::Host(p.clone()),
                    CallSource::Container(p) => MountArg::Inside(p.clone()),
                    CallSource::Name(n) => text(n),
                };
                let op = if self.flags & ms::REC != 0 {
                    "--rbind"
                } else {
                    "--bind"
                };
                vec![text(op), src, target]
            }
            (src, fstype) => {
                let mut v = vec![text("-t"), text(fstype.unwrap_or("none"))];
                let mut o: Vec<&str> = names;
                if let Some(d) = self.data.as_deref() {
                    o.push(d);
                }
                if !o.is_empty() {
                    v.push(text("-o"));
                    v.push(text(&o.join(",")));
                }
                v.push(match src {
                    Some(CallSource::Name(n)) => text(n),
                    _ => text("none"),
                });
                v.push(target);
                v
            }
        }
    }

    /// `mount_args` as text, with `root` before each path inside the container (docs, tests).
    pub fn mount_args_under(&self, root: &str) -> Vec<String> {
        self.mount_args()
            .into_iter()
            .map(|a| match a {
                MountArg::Text(t) => t,
                MountArg::Host(p) => p.display().to_string(),
                MountArg::Inside(p) => format!("{root}{}", p.display()),
            })
            .collect()
    }
}

/// A host system directory as the host view sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum HostDir {
    Dir(PathBuf),
    /// `/bin -> usr/bin` on merged-/usr systems: recreated as the same symlink.
    Link(PathBuf, String),
}

/// Top-level host directories the default root shows read-only.
pub const HOST_VIEW_DIRS: [&str; 8] = [
    "usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc",
];

/// The default root's own writable places, each a private tmpfs (as a small distribution
/// has them): `/tmp` for everyone, sticky, and `/root`, `$HOME` of the container's root.
/// The host's system directories stay read-only beside them.
pub const HOST_VIEW_SCRATCH: [(&str, &str); 2] = [("/tmp", "mode=1777"), ("/root", "mode=700")];

pub fn host_view_mounts(dirs: &[HostDir]) -> Vec<Mount> {
    let scratch = HOST_VIEW_SCRATCH.iter().map(|(target, mode)| Mount {
        kind: MountKind::Fs {
            fstype: "tmpfs".into(),
            source: "tmpfs".into(),
            data: Some(Cow::Borrowed(*mode)),
        },
        target: (*target).into(),
        flags: MountFlags {
            nosuid: true,
            nodev: true,
            ..MountFlags::NONE
        },
        optional: false,
        dev: false,
        why: "a private, writable tmpfs (the default root)".into(),
    });
    dirs.iter()
        .map(|d| match d {
            HostDir::Dir(p) => Mount {
                kind: MountKind::Bind {
                    source: p.clone(),
                    dir: true,
                },
                target: p.clone(),
                flags: MountFlags {
                    readonly: true,
                    nosuid: true,
                    nodev: true,
                    noexec: false,
                    recursive: true,
                },
                optional: false,
                dev: false,
                why: "host system directory, read-only (the default root)".into(),
            },
            HostDir::Link(p, to) => Mount {
                kind: MountKind::Symlink { to: to.clone() },
                target: p.clone(),
                flags: MountFlags::NONE,
                optional: false,
                dev: false,
                why: "same symlink as on the host (the default root)".into(),
            },
        })
        .chain(scratch)
        .collect()
}

fn fs(
    target: &str,
    fstype: &'static str,
    flags: MountFlags,
    data: Option<&'static str>,
    why: &'static str,
) -> Mount {
    Mount {
        kind: MountKind::Fs {
            fstype: fstype.into(),
            source: fstype.into(),
            data: data.map(Cow::Borrowed),
        },
        target: target.into(),
        flags,
        optional: false,
        dev: false,
        why: why.into(),
    }
}

fn link(target: &str, to: &str, why: &'static str) -> Mount {
    Mount {
        kind: MountKind::Symlink { to: to.into() },
        target: target.into(),
        flags: MountFlags::NONE,
        optional: false,
        dev: false,
        why: why.into(),
    }
}

/// A path of the host kernel's shown read-only (/proc/sys, OCI `readonlyPaths`): every
/// flag, and the mounts below it too.
pub const KERNEL_READONLY: MountFlags = MountFlags {
    readonly: true,
    nosuid: true,
    nodev: true,
    noexec: true,
    recursive: true,
};

/// A filesystem where nothing may run or gain privileges by a set-id bit (/dev, /dev/pts).
const NOSUID_NOEXEC: MountFlags = MountFlags {
    nosuid: true,
    noexec: true,
    ..MountFlags::NONE
};

/// A root whose /dev/null is a character device brings its own /dev (an image, or a rootfs
/// from `gocker rootfs busybox`): then the tmpfs, device nodes and links below are not
/// made, on the start path and again at teardown. Without one (the host view's fresh
/// tmpfs, a bare directory), they are.
pub const ROOT_HAS_DEV: &str = "/dev/null";

/// Device nodes a program expects, with their fixed numbers (devices.txt in the kernel's
/// documentation). mknod(2) in the container's own tmpfs is several times cheaper than a
/// bind mount of the host's node, on start and again on teardown; Docker does the same.
pub const DEVICES: [(&str, u32, u32); 6] = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// The links every /dev has.
pub const DEV_LINKS: [(&str, &str); 4] = [
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
];

/// /proc entries that would let a container change or read the host kernel: made
/// read-only, as Docker and runc do.
pub const PROC_READONLY: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];
/// /proc files that leak host information: hidden behind /dev/null, as Docker does.
pub const PROC_MASKED: [&str; 5] = [
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/sched_debug",
];

/// /proc, /dev and the /proc masks: every container gets these, in this order.
pub fn standard_mounts(tty: bool) -> Vec<Mount> {
    let mut v = vec![fs(
        "/proc",
        "proc",
        MountFlags {
            nodev: true,
            ..NOSUID_NOEXEC
        },
        None,
        "a fresh /proc: ps sees only this PID namespace",
    )];
    for p in PROC_READONLY {
        v.push(Mount {
            kind: MountKind::Rebind,
            target: p.into(),
            flags: KERNEL_READONLY,
            optional: true,
            dev: false,
            why: "host kernel settings, read-only".into(),
        });
    }
    for p in PROC_MASKED {
        v.push(Mount {
            kind: MountKind::Bind {
                source: "/dev/null".into(),
                dir: false,
            },
            target: p.into(),
            flags: MountFlags::NONE,
            optional: true,
            dev: false,
            why: "host kernel information, masked".into(),
        });
    }
    v.push(Mount {
        dev: true,
        ..fs(
            "/dev",
            "tmpfs",
            NOSUID_NOEXEC,
            Some("mode=755,size=64k"),
            "a minimal /dev of its own",
        )
    });
    for (name, major, minor) in DEVICES {
        v.push(Mount {
            kind: MountKind::Device { major, minor },
            target: Path::new("/dev").join(name),
            flags: MountFlags::NONE,
            optional: false,
            dev: true,
            why: "device nodes (mknod)".into(),
        });
    }
    for (name, to) in DEV_LINKS {
        v.push(Mount {
            dev: true,
            ..link(&format!("/dev/{name}"), to, "standard /dev link")
        });
    }
    if tty {
        v.push(fs(
            "/dev/pts",
            "devpts",
            NOSUID_NOEXEC,
            Some("newinstance,ptmxmode=0666,mode=0620"),
            "pseudo-terminals of its own (-t)",
        ));
        v.push(Mount {
            optional: true,
            ..link("/dev/ptmx", "pts/ptmx", "pseudo-terminal multiplexer (-t)")
        });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_is_one_call_with_the_lesson_flags() {
        let m = &standard_mounts(false)[0];
        let calls = m.calls();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].flags, ms::NOSUID | ms::NODEV | ms::NOEXEC);
        assert_eq!(
            calls[0].mount_args_under("$r"),
            ["-t", "proc", "-o", "nosuid,nodev,noexec", "proc", "$r/proc"]
        );
    }

    #[test]
    fn readonly_bind_is_bind_then_remount() {
        let m = Mount::volume("/src".into(), "/data".into(), true, true);
        let calls = m.calls();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].flags, ms::BIND | ms::REC);
        assert_eq!(calls[1].flags, ms::REMOUNT | ms::BIND | ms::RDONLY);
        assert_eq!(
            calls[0].mount_args_under("R"),
            ["--rbind", "/src", "R/data"]
        );
        assert_eq!(
            calls[1].mount_args_under("R"),
            ["-o", "remount,bind,ro", "R/data"]
        );
        let rw = Mount::volume("/src".into(), "/data".into(), true, false);
        assert_eq!(rw.calls().len(), 1);
    }

    #[test]
    fn proc_sys_rebinds_onto_itself() {
        let m = standard_mounts(false)
            .into_iter()
            .find(|m| m.target == Path::new("/proc/sys"))
            .unwrap();
        let c = m.calls();
        assert_eq!(
            c[0].mount_args_under("R"),
            ["--rbind", "R/proc/sys", "R/proc/sys"]
        );
        assert_eq!(
            c[1].mount_args_under("R"),
            ["-o", "remount,bind,ro,nosuid,nodev,noexec", "R/proc/sys"]
        );
    }

    #[test]
    fn pts_only_with_a_terminal() {
        let has_pts = |tty| {
            standard_mounts(tty)
                .iter()
                .any(|m| m.target == Path::new("/dev/pts"))
        };
        assert!(has_pts(true));
        assert!(!has_pts(false));
    }

    #[test]
    fn host_view_links_stay_links() {
        let m = host_view_mounts(&[
            HostDir::Link("/bin".into(), "usr/bin".into()),
            HostDir::Dir("/usr".into()),
        ]);
        assert_eq!(
            m[0].kind,
            MountKind::Symlink {
                to: "usr/bin".into()
            }
        );
        assert!(m[0].calls().is_empty());
        assert!(m[1].is_readonly());
    }
}
