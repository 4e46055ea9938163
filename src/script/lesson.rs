//! `gocker emit-script --lesson`: only what lesson 18's Go code does (five namespaces,
//! pivotRoot, /proc, the hostname, the cgroup limits), as a script of one screen that a
//! learner reads beside the lesson, rendered from `templates/lesson.sh`.
//!
//! It is rendered from the same `ContainerSpec` as the full script and quoted by the same
//! filter (`script::quote`); the cgroup files and values are `cgroup::limit_files`,
//! so a lesson script limits exactly what `gocker run` does. What it leaves out is said in
//! its header; options the lesson has no step for are refused by the front end
//! (`EmitArgs::refuse_beyond_lesson`) rather than half done. Like the full script, it takes
//! a spec, a cgroup version and the header's words, nothing from clap.

use super::Lang;
use super::model::dir_var;
use crate::cgroup::{self, LimitFile, Version};
use crate::error::Failure;
use crate::spec::{ContainerSpec, Root};
use anyhow::{Context, Result};
use askama::Template;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The lesson's hostname (`syscall.Sethostname([]byte("lagoudocker"))`).
pub const LESSON_HOSTNAME: &str = "lagoudocker";

/// Print the lesson script for `spec`, for cgroup `version`, on stdout; `header` is the
/// `emit-script` arguments its first comment line shows.
pub fn emit(
    spec: &ContainerSpec,
    version: Version,
    header: &[OsString],
    lang: Lang,
) -> Result<i32> {
    let text = render(spec, version, header, lang)?;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("write the script to stdout")?;
    Ok(0)
}

/// The lesson script for `spec` and cgroup `version`, its comments in `lang`.
pub fn render(
    spec: &ContainerSpec,
    version: Version,
    header: &[OsString],
    lang: Lang,
) -> Result<String> {
    let Root::Dir(root) = &spec.root else {
        return Err(Failure::Usage.with("--lesson needs --rootfs: the lesson's container has one"));
    };
    let zh = lang == Lang::Zh;
    let controllers = cgroup::needed_controllers(&spec.limits);
    let cgroup_root = PathBuf::from(CGROUP_ROOT);
    let dirs: Vec<Dir> = match version {
        Version::V1 => controllers
            .iter()
            .map(|c| Dir {
                var: dir_var(version, *c, &controllers),
                parent: cgroup_root.join(c.name()).join("gocker"),
            })
            .collect(),
        Version::V2 if controllers.is_empty() => Vec::new(),
        Version::V2 => vec![Dir {
            var: "cg".into(),
            parent: cgroup_root.join("gocker"),
        }],
    };
    let limits = cgroup::limit_files(&spec.limits, version)
        .into_iter()
        .map(|l| Limit {
            var: dir_var(version, l.controller, &controllers),
            comment: limit_comment(&l, zh).into(),
            file: l.file,
            if_present: l.if_present,
            value: l.value,
        })
        .collect();
    let lesson = Lesson {
        header,
        zh,
        v2: version == Version::V2,
        cgroup_root: &cgroup_root,
        controllers: controllers.iter().map(|c| c.name()).collect(),
        dirs,
        limits,
        terminal: spec.process.terminal,
        null_stdin: !spec.process.stdin && !spec.process.terminal,
        root,
        env: &spec.process.env,
        namespaces: spec
            .namespaces
            .iter()
            .map(|n| n.unshare_option())
            .collect::<Vec<_>>()
            .join(" "),
        hostname: &spec.hostname,
        argv: &spec.process.argv,
    };
    lesson.render().context("render the lesson script template")
}

/// Where the cgroup hierarchies are mounted on the host the script runs on.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// A limit's comment: which lesson method it is, and what the value counts.
fn limit_comment(l: &LimitFile, zh: bool) -> &'static str {
    let (en, cn) = match l.file {
        "cpu.max" => (
            "SetCPULimit: CPU time per period, in microseconds (quota, then period)",
            "SetCPULimit：每个周期内可用的 CPU 时间，单位微秒（先配额，后周期）",
        ),
        "cpu.cfs_quota_us" => (
            "SetCPULimit: CPU time per period, in microseconds",
            "SetCPULimit：每个周期内可用的 CPU 时间，单位微秒",
        ),
        "cpu.cfs_period_us" => ("the period, in microseconds", "周期长度，单位微秒"),
        "memory.max" | "memory.limit_in_bytes" => (
            "SetMemoryLimit: bytes of memory",
            "SetMemoryLimit：内存字节数",
        ),
        "memory.memsw.limit_in_bytes" | "memory.swap.max" => (
            "no swap beyond the memory limit (not in the lesson; where the kernel accounts swap)",
            "不允许超出内存限制去用交换分区（课中没有；仅当内核统计交换分区时）",
        ),
        _ => ("a limit", "限制"),
    };
    if zh { cn } else { en }
}

// ------------------------------------------------------------------ the template

/// The quoting filters are the full script's: one quoting for every script.
mod filters {
    pub use crate::script::model::filters::{quote, quote_line};
}

#[derive(Template)]
#[template(path = "lesson.sh", escape = "none")]
struct Lesson<'a> {
    header: &'a [OsString],
    zh: bool,
    v2: bool,
    cgroup_root: &'a Path,
    controllers: Vec<&'static str>,
    /// One directory per controller on v1; the one directory on v2; none without limits.
    dirs: Vec<Dir>,
    limits: Vec<Limit>,
    terminal: bool,
    null_stdin: bool,
    root: &'a Path,
    env: &'a [OsString],
    namespaces: String,
    hostname: &'a str,
    argv: &'a [OsString],
}

impl Lesson<'_> {
    /// A comment in the script's language.
    fn t<'s>(&self, en: &'s str, zh: &'s str) -> &'s str {
        if self.zh { zh } else { en }
    }
}

struct Dir {
    var: String,
    /// The container's cgroup directory is `parent/$$`.
    parent: PathBuf,
}

struct Limit {
    var: String,
    file: &'static str,
    value: String,
    comment: String,
    if_present: bool,
}
