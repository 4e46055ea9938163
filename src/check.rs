//! `gocker check`: an honest report of what this host can do, in the manner of Moby's
//! `check-config.sh` and `lxc-checkconfig`: grouped findings, a hint under each missing
//! item, and what they mean for `run` and `emit-script`.
//!
//! `Report::probe` gathers the facts from the `host` probes (the same ones `run` and
//! `emit-script` refuse on, so the report and the refusals cannot disagree); `text` and
//! `json` render them. Exit status: 0 when `gocker run` can work here, 1 when it cannot.

use crate::cgroup::{CONTROLLERS, Controller, KNOWN_CONTROLLERS};
use crate::host::{
    self, Availability, CgroupMode, CgroupMount, Lack, Privileges, RUN_CAPS, Roots, SCRIPT_TOOLS,
    ScriptTool, ToolPath,
};
use crate::spec::Namespace;
use anyhow::{Context, Result};
use std::io::Write;
use std::path::PathBuf;

/// Exit status when `gocker run` cannot work on this host.
pub const EXIT_CANNOT_RUN: i32 = 1;

/// Everything `check` found.
#[derive(Debug, Clone)]
pub struct Report {
    pub privileges: Privileges,
    /// Why `run` lacks privileges here, if it does.
    pub privileges_lack: Option<Lack>,
    pub kernel: Option<String>,
    pub namespaces: Vec<NsFact>,
    pub cgroups: Cgroups,
    pub surface: Surface,
    pub tools: Vec<ToolFact>,
}

/// The kernel walls every container gets unless lifted with `--security-opt`.
#[derive(Debug, Clone)]
pub struct Surface {
    /// seccomp filters with the errno action (`--security-opt seccomp=unconfined`).
    pub seccomp: Availability,
    /// The device allow list in the container's cgroup: v1 `devices`, or v2's BPF
    /// device programs (`--security-opt devices=unconfined`).
    pub devices: Availability,
}

#[derive(Debug, Clone)]
pub struct NsFact {
    pub kind: Namespace,
    /// One of the lesson's five, which every container gets.
    pub used: bool,
    pub availability: Availability,
}

#[derive(Debug, Clone)]
pub struct Cgroups {
    pub root: PathBuf,
    pub mode: Option<CgroupMode>,
    pub mounts: Vec<CgroupMount>,
    /// On a hybrid host, the controllers the cgroup2 hierarchy at `unified/` has.
    pub unified_controllers: Vec<String>,
    pub controllers: Vec<ControllerFact>,
}

#[derive(Debug, Clone)]
pub struct ControllerFact {
    pub name: &'static str,
    /// The gocker limit that uses it, if any.
    pub used: Option<Controller>,
    pub availability: Availability,
}

#[derive(Debug, Clone)]
pub struct ToolFact {
    pub tool: &'static ScriptTool,
    pub found: Option<ToolPath>,
    /// Where a symlinked tool points (`sh -> dash`, `unshare -> busybox`).
    pub link: Option<String>,
    pub version: Option<String>,
}

impl ToolFact {
    /// Found, and able to do what the script asks of it.
    pub fn usable(&self) -> bool {
        self.found.as_ref().is_some_and(|f| self.tool.usable(f))
    }
}

impl Report {
    /// Probe the host under `roots`.
    pub fn probe(roots: &Roots) -> Report {
        let privileges = host::privileges(&roots.proc);
        let namespaces = Namespace::ALL
            .iter()
            .map(|k| NsFact {
                kind: *k,
                used: Namespace::LESSON.contains(k),
                availability: host::namespace(&roots.proc, k.proc_name()),
            })
            .collect();
        let mode = host::cgroup_mode(&roots.cgroup);
        let no_cgroupfs = || {
            Availability::Missing(Lack {
                why: format!("no cgroup filesystem at {}", roots.cgroup.display()),
                fix: format!(
                    "mount one: mount -t cgroup2 none {}",
                    roots.cgroup.display()
                ),
            })
        };
        let controllers = KNOWN_CONTROLLERS
            .iter()
            .map(|c| ControllerFact {
                name: c.name,
                used: c.used,
                availability: mode
                    .map_or_else(no_cgroupfs, |m| host::controller(&roots.cgroup, m, c.name)),
            })
            .collect();
        let unified_controllers = if mode == Some(CgroupMode::Hybrid) {
            std::fs::read_to_string(roots.cgroup.join("unified").join(CONTROLLERS))
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        } else {
            Vec::new()
        };
        let tools = SCRIPT_TOOLS
            .iter()
            .map(|tool| {
                let found = host::find_tool(roots, tool.name);
                let link = found.as_ref().and_then(|f| {
                    std::fs::read_link(&f.path)
                        .ok()
                        .map(|to| to.to_string_lossy().into_owned())
                });
                let version = found.as_ref().and_then(|f| host::tool_version(&f.path));
                ToolFact {
                    tool,
                    found,
                    link,
                    version,
                }
            })
            .collect();
        let surface = Surface {
            seccomp: host::seccomp(&roots.proc),
            devices: mode.map_or_else(no_cgroupfs, |m| {
                host::device_cgroup(&roots.proc, &roots.cgroup, m)
            }),
        };
        Report {
            surface,
            privileges_lack: privileges.lack(&roots.proc),
            privileges,
            kernel: host::kernel_release(&roots.proc),
            namespaces,
            cgroups: Cgroups {
                root: roots.cgroup.clone(),
                mode,
                mounts: host::cgroup_mounts(&roots.proc),
                unified_controllers,
                controllers,
            },
            tools,
        }
    }

    /// What stops `gocker run` here, each as a short phrase; empty when it can work.
    pub fn run_blockers(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.privileges_lack.is_some() {
            let caps = self.privileges.missing_caps().join(", ");
            out.push(format!("root privileges ({caps})"));
        }
        for ns in &self.namespaces {
            if ns.used && !ns.availability.is_available() {
                out.push(format!("the {} namespace", ns.kind.proc_name()));
            }
        }
        out
    }

    pub fn run_works(&self) -> bool {
        self.run_blockers().is_empty()
    }

    pub fn exit_code(&self) -> i32 {
        if self.run_works() { 0 } else { EXIT_CANNOT_RUN }
    }

    /// The limit options that work here, and those that do not with the reason.
    pub fn limits(&self) -> (Vec<&'static str>, Vec<(Controller, &Lack)>) {
        let mut ok = Vec::new();
        let mut not = Vec::new();
        for c in &self.cgroups.controllers {
            let Some(used) = c.used else { continue };
            match &c.availability {
                Availability::Available => ok.push(short_option(used)),
                Availability::Missing(lack) => not.push((used, lack)),
            }
        }
        (ok, not)
    }

    /// The required script tools that were not found.
    pub fn script_missing(&self) -> Vec<&'static str> {
        self.tools
            .iter()
            .filter(|t| t.tool.required && !t.usable())
            .map(|t| t.tool.name)
            .collect()
    }

    /// The first line of the report: whether `run` can work, and if not, what is missing.
    pub fn summary(&self) -> String {
        let blockers = self.run_blockers();
        if !blockers.is_empty() {
            return format!(
                "gocker run cannot work on this host: missing {}",
                blockers.join(", ")
            );
        }
        let (ok, not) = self.limits();
        if not.is_empty() {
            format!(
                "gocker run can work on this host, with all its limits ({})",
                ok.join(", ")
            )
        } else {
            let without: Vec<&str> = not.iter().map(|(c, _)| short_option(*c)).collect();
            format!(
                "gocker run can work on this host, but without {}",
                without.join(", ")
            )
        }
    }

    /// The `--security-opt` options `run` needs here, for the walls this host lacks.
    pub fn opt_outs_needed(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if !self.surface.seccomp.is_available() {
            v.push(host::SECCOMP_OPT_OUT);
        }
        if !self.surface.devices.is_available() {
            v.push(host::DEVICES_OPT_OUT);
        }
        v
    }

    /// "yes (limits: --cpus, -m, --pids-limit)", "yes, but without --pids-limit (...)",
    /// and "only with --security-opt …" when a wall cannot be built here.
    pub fn run_meaning(&self) -> String {
        let blockers = self.run_blockers();
        if !blockers.is_empty() {
            return format!("no: missing {}", blockers.join(", "));
        }
        let opts = self.opt_outs_needed();
        if opts.is_empty() {
            return self.limits_meaning();
        }
        format!("{}; only with {}", self.limits_meaning(), opts.join(" "))
    }

    fn limits_meaning(&self) -> String {
        let (ok, not) = self.limits();
        if not.is_empty() {
            return format!("yes (limits: {})", ok.join(", "));
        }
        if self.cgroups.mode.is_none() {
            return format!(
                "yes, but without limits (no cgroup filesystem at {})",
                self.cgroups.root.display()
            );
        }
        let without: Vec<String> = not
            .iter()
            .map(|(c, _)| format!("{} (no {} controller)", short_option(*c), c.name()))
            .collect();
        format!("yes, but without {}", without.join(", "))
    }

    /// "scripts for this host need: sh, unshare, ... (missing: pivot_root)".
    pub fn script_meaning(&self) -> String {
        let need: Vec<&str> = self
            .tools
            .iter()
            .filter(|t| t.tool.required)
            .map(|t| t.tool.name)
            .collect();
        let missing = self.script_missing();
        let status = if missing.is_empty() {
            "all found".to_owned()
        } else {
            format!("missing: {}", missing.join(", "))
        };
        format!(
            "scripts for this host need: {} ({status}); run them as root",
            need.join(", ")
        )
    }
}

/// The option as a learner types it: `-m`, not `-m/--memory`.
fn short_option(c: Controller) -> &'static str {
    match c {
        Controller::Memory => "-m",
        other => other.option(),
    }
}

/// Print the report on stdout; the exit status is 0 when `gocker run` can work here.
pub fn report(roots: &Roots, json: bool) -> Result<i32> {
    let r = Report::probe(roots);
    let out = if json {
        self::json(&r)
    } else {
        // Colour only for a person at a terminal who has not opted out (no-color.org).
        let colour =
            crate::sys::isatty(1) && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        text(&r, colour)
    };
    std::io::stdout()
        .write_all(out.as_bytes())
        .context("write the report to stdout")?;
    Ok(r.exit_code())
}

// ------------------------------------------------------------------ text

#[derive(Clone, Copy)]
enum Tone {
    Good,
    Bad,
    Warn,
}

struct Text {
    out: String,
    colour: bool,
}

/// Width of the label column, as `youki info` aligns its rows.
const LABEL: usize = 14;

impl Text {
    fn paint(&self, tone: Tone, s: &str) -> String {
        if !self.colour {
            return s.to_owned();
        }
        let code = match tone {
            Tone::Good => "32",
            Tone::Bad => "31",
            Tone::Warn => "33",
        };
        format!("\x1b[{code}m{s}\x1b[0m")
    }

    fn heading(&mut self, h: &str) {
        self.out.push('\n');
        self.out.push_str(h);
        self.out.push('\n');
    }

    fn row(&mut self, label: &str, value: &str) {
        self.out
            .push_str(&format!("  {label:<LABEL$}{value}\n").replace(" \n", "\n"));
    }

    /// A row whose value starts with a coloured status word.
    fn status(&mut self, label: &str, tone: Tone, word: &str, rest: &str) {
        let value = format!("{}{rest}", self.paint(tone, word));
        self.row(label, &value);
    }

    /// The hint under a missing item.
    fn hint(&mut self, fix: &str) {
        self.row("", &format!("hint: {fix}"));
    }

    fn availability(&mut self, label: &str, a: &Availability, required: bool, note: &str) {
        match a {
            Availability::Available => self.status(label, Tone::Good, "available", note),
            Availability::Missing(lack) => {
                let tone = if required { Tone::Bad } else { Tone::Warn };
                self.status(label, tone, "missing", &format!(": {}", lack.why));
                self.hint(&lack.fix);
            }
        }
    }
}

/// The report for a person.
pub fn text(r: &Report, colour: bool) -> String {
    let mut t = Text {
        out: String::new(),
        colour,
    };
    let tone = if r.run_works() { Tone::Good } else { Tone::Bad };
    t.out = format!("{}\n", t.paint(tone, &r.summary()));

    t.heading("Privileges");
    t.row("user", &r.privileges.user());
    let caps: Vec<&str> = RUN_CAPS.iter().map(|c| c.name).collect();
    match &r.privileges_lack {
        None => t.status(
            "capabilities",
            Tone::Good,
            "effective",
            &format!(": {}", caps.join(", ")),
        ),
        Some(lack) => {
            t.status(
                "capabilities",
                Tone::Bad,
                "missing",
                &format!(": {}", lack.why),
            );
            t.hint(&lack.fix);
        }
    }

    t.heading("Kernel");
    t.row("release", r.kernel.as_deref().unwrap_or("unknown"));
    t.availability(
        "seccomp",
        &r.surface.seccomp,
        true,
        "  (the default system call filter)",
    );
    t.availability(
        "device cgroup",
        &r.surface.devices,
        true,
        "  (the device allow list)",
    );

    t.heading("Namespaces");
    for ns in &r.namespaces {
        let note = if ns.used {
            format!("  ({})", ns.kind.isolates())
        } else {
            "  (not used by gocker)".into()
        };
        t.availability(ns.kind.proc_name(), &ns.availability, ns.used, &note);
    }

    t.heading("Control groups");
    let cg = &r.cgroups;
    let root = cg.root.display();
    match cg.mode {
        None => {
            t.status(
                "mode",
                Tone::Warn,
                "none",
                &format!(": no cgroup filesystem at {root}"),
            );
            t.hint(&format!(
                "mount one (mount -t cgroup2 none {root}); run works without limits until then"
            ));
        }
        Some(CgroupMode::V1) => t.row(
            "mode",
            &format!("v1: one hierarchy per controller under {root}"),
        ),
        Some(CgroupMode::Hybrid) => {
            let offers = if cg.unified_controllers.is_empty() {
                "no controllers".to_owned()
            } else {
                cg.unified_controllers.join(" ")
            };
            t.row(
                "mode",
                &format!(
                    "hybrid: limits use v1 (v1 hierarchies under {root}; cgroup2 at {root}/unified offers {offers})"
                ),
            )
        }
        Some(CgroupMode::V2) => t.row(
            "mode",
            &format!("v2: one unified hierarchy (cgroup2) at {root}"),
        ),
    }
    for (label, paths) in mount_rows(&cg.mounts) {
        t.row(label, &paths);
    }
    for c in &cg.controllers {
        let note = match c.used {
            Some(used) => format!("  (for {})", used.option()),
            None => "  (not used by gocker)".into(),
        };
        t.availability(c.name, &c.availability, false, &note);
    }

    t.heading("Script tools");
    for tool in &r.tools {
        match &tool.found {
            Some(found) => {
                let mut v = found.path.display().to_string();
                if let Some(to) = &tool.link {
                    v.push_str(&format!(" -> {to}"));
                }
                if let Some(ver) = &tool.version {
                    v.push_str(&format!(" ({ver})"));
                }
                if !found.on_path {
                    let note = t.paint(Tone::Warn, "not on PATH");
                    v.push_str(&format!(", {note} (sudo finds it)"));
                }
                if tool.usable() {
                    t.row(tool.tool.name, &v);
                } else {
                    t.status(
                        tool.tool.name,
                        Tone::Bad,
                        "busybox applet",
                        &format!(": {v} lacks the util-linux options the script uses"),
                    );
                    t.hint(&host::tool_fix(tool.tool));
                }
            }
            None => {
                let tone = if tool.tool.required {
                    Tone::Bad
                } else {
                    Tone::Warn
                };
                let optional = if tool.tool.required {
                    ""
                } else {
                    " (optional)"
                };
                t.status(
                    tool.tool.name,
                    tone,
                    "missing",
                    &format!(
                        "{optional}: the script uses it to {}",
                        tool.tool.why.trim_end_matches('.')
                    ),
                );
                t.hint(&host::tool_fix(tool.tool));
            }
        }
    }

    t.heading("What this means");
    let tone = if r.run_works() { Tone::Good } else { Tone::Bad };
    let run = t.paint(tone, &r.run_meaning());
    t.row("run", &run);
    let tone = if r.script_missing().is_empty() {
        Tone::Good
    } else {
        Tone::Bad
    };
    let script = t.paint(tone, &r.script_meaning());
    t.row("emit-script", &script);
    t.out
}

/// The cgroup mounts as rows: "v1 mounts" then "cgroup2 at", each a list of paths, with a
/// common parent written once (`/sys/fs/cgroup/{cpu, memory, pids}`).
fn mount_rows(mounts: &[CgroupMount]) -> Vec<(&'static str, String)> {
    let mut rows = Vec::new();
    for (label, fstype) in [("v1 mounts", "cgroup"), ("cgroup2 at", "cgroup2")] {
        let paths: Vec<&std::path::Path> = mounts
            .iter()
            .filter(|m| m.fstype == fstype)
            .map(|m| m.path.as_path())
            .collect();
        let Some(first) = paths.first() else { continue };
        let parent = first.parent();
        let shared = paths.len() > 1 && paths.iter().all(|p| p.parent() == parent);
        let value = match parent {
            Some(parent) if shared => {
                let names: Vec<String> = paths
                    .iter()
                    .filter_map(|p| p.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
                    .collect();
                format!("{}/{{{}}}", parent.display(), names.join(", "))
            }
            _ => paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        };
        rows.push((label, value));
    }
    rows
}

// ------------------------------------------------------------------ json

/// A JSON value, written by hand: the report is small and flat, and this keeps gocker's
/// dependencies to what the container itself needs. Objects keep their key order.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn str(s: impl Into<String>) -> Json {
        Json::Str(s.into())
    }

    fn obj(pairs: Vec<(&str, Json)>) -> Json {
        Json::Obj(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    fn opt(s: Option<impl Into<String>>) -> Json {
        s.map_or(Json::Null, Json::str)
    }

    fn strs<S: AsRef<str>>(v: &[S]) -> Json {
        Json::Arr(v.iter().map(|s| Json::str(s.as_ref())).collect())
    }

    /// Pretty-printed, two spaces per level.
    pub fn write(&self, out: &mut String, level: usize) {
        let pad = |out: &mut String, l: usize| out.extend(std::iter::repeat_n("  ", l));
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(n) => out.push_str(&n.to_string()),
            Json::Str(s) => escape(s, out),
            Json::Arr(v) if v.is_empty() => out.push_str("[]"),
            Json::Obj(v) if v.is_empty() => out.push_str("{}"),
            Json::Arr(v) => {
                out.push_str("[\n");
                for (i, x) in v.iter().enumerate() {
                    pad(out, level + 1);
                    x.write(out, level + 1);
                    out.push_str(if i + 1 < v.len() { ",\n" } else { "\n" });
                }
                pad(out, level);
                out.push(']');
            }
            Json::Obj(v) => {
                out.push_str("{\n");
                for (i, (k, x)) in v.iter().enumerate() {
                    pad(out, level + 1);
                    escape(k, out);
                    out.push_str(": ");
                    x.write(out, level + 1);
                    out.push_str(if i + 1 < v.len() { ",\n" } else { "\n" });
                }
                pad(out, level);
                out.push('}');
            }
        }
    }
}

/// A JSON string literal (RFC 8259 section 7): quote, backslash and control characters
/// escaped; everything else, non-ASCII included, as UTF-8.
fn escape(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn availability_json(a: &Availability, mut extra: Vec<(&str, Json)>) -> Json {
    let mut pairs = vec![("available", Json::Bool(a.is_available()))];
    pairs.append(&mut extra);
    if let Some(lack) = a.lack() {
        pairs.push(("why", Json::str(&lack.why)));
        pairs.push(("hint", Json::str(&lack.fix)));
    }
    Json::obj(pairs)
}

/// The same facts as `text`, for scripts and tests.
pub fn json(r: &Report) -> String {
    let p = &r.privileges;
    let mut privileges = vec![
        ("euid", p.euid.map_or(Json::Null, |u| Json::Int(u.into()))),
        ("root", Json::Bool(p.is_root())),
        (
            "capabilities",
            Json::obj(
                RUN_CAPS
                    .iter()
                    .map(|c| {
                        let has = !p.missing_caps().contains(&c.name);
                        (c.name, Json::Bool(has))
                    })
                    .collect(),
            ),
        ),
        ("sufficient", Json::Bool(r.privileges_lack.is_none())),
    ];
    if let Some(lack) = &r.privileges_lack {
        privileges.push(("why", Json::str(&lack.why)));
        privileges.push(("hint", Json::str(&lack.fix)));
    }
    let namespaces = r
        .namespaces
        .iter()
        .map(|ns| {
            let extra = vec![("used_by_gocker", Json::Bool(ns.used))];
            (
                ns.kind.proc_name(),
                availability_json(&ns.availability, extra),
            )
        })
        .collect();
    let cg = &r.cgroups;
    let controllers = cg
        .controllers
        .iter()
        .map(|c| {
            let extra = vec![
                ("used_by_gocker", Json::Bool(c.used.is_some())),
                ("option", Json::opt(c.used.map(|u| u.option()))),
            ];
            (c.name, availability_json(&c.availability, extra))
        })
        .collect();
    let mounts = cg
        .mounts
        .iter()
        .map(|m| {
            Json::obj(vec![
                ("type", Json::str(&m.fstype)),
                ("path", Json::str(m.path.to_string_lossy())),
                ("controllers", Json::strs(&m.controllers)),
            ])
        })
        .collect();
    let tools = r
        .tools
        .iter()
        .map(|t| {
            let mut pairs = vec![
                ("available", Json::Bool(t.usable())),
                (
                    "busybox",
                    Json::Bool(t.found.as_ref().is_some_and(|f| f.busybox)),
                ),
                ("required", Json::Bool(t.tool.required)),
                (
                    "path",
                    Json::opt(t.found.as_ref().map(|f| f.path.to_string_lossy())),
                ),
                (
                    "on_path",
                    Json::Bool(t.found.as_ref().is_some_and(|f| f.on_path)),
                ),
                ("link", Json::opt(t.link.as_deref())),
                ("version", Json::opt(t.version.as_deref())),
                ("package", Json::str(t.tool.package)),
                ("why", Json::str(t.tool.why)),
            ];
            if !t.usable() {
                pairs.push(("hint", Json::str(host::tool_fix(t.tool))));
            }
            (t.tool.name, Json::obj(pairs))
        })
        .collect();
    let (limits, unavailable) = r.limits();
    let unavailable = unavailable
        .iter()
        .map(|(c, lack)| {
            Json::obj(vec![
                ("option", Json::str(c.option())),
                ("controller", Json::str(c.name())),
                ("why", Json::str(&lack.why)),
            ])
        })
        .collect();
    let needs: Vec<&str> = r
        .tools
        .iter()
        .filter(|t| t.tool.required)
        .map(|t| t.tool.name)
        .collect();
    let doc = Json::obj(vec![
        ("ok", Json::Bool(r.run_works())),
        ("exit_code", Json::Int(r.exit_code().into())),
        ("summary", Json::str(r.summary())),
        ("privileges", Json::obj(privileges)),
        (
            "kernel",
            Json::obj(vec![
                ("release", Json::opt(r.kernel.as_deref())),
                (
                    "seccomp",
                    availability_json(
                        &r.surface.seccomp,
                        vec![("opt_out", Json::str(host::SECCOMP_OPT_OUT))],
                    ),
                ),
                (
                    "device_cgroup",
                    availability_json(
                        &r.surface.devices,
                        vec![("opt_out", Json::str(host::DEVICES_OPT_OUT))],
                    ),
                ),
            ]),
        ),
        ("namespaces", Json::obj(namespaces)),
        (
            "cgroups",
            Json::obj(vec![
                ("root", Json::str(cg.root.to_string_lossy())),
                ("mode", Json::opt(cg.mode.map(|m| m.name()))),
                (
                    "limits_version",
                    Json::opt(cg.mode.map(|m| m.limits_version().name())),
                ),
                ("mounts", Json::Arr(mounts)),
                ("unified_controllers", Json::strs(&cg.unified_controllers)),
                ("controllers", Json::obj(controllers)),
            ]),
        ),
        ("tools", Json::obj(tools)),
        (
            "run",
            Json::obj(vec![
                ("works", Json::Bool(r.run_works())),
                ("missing", Json::strs(&r.run_blockers())),
                ("limits", Json::strs(&limits)),
                ("limits_unavailable", Json::Arr(unavailable)),
                ("meaning", Json::str(r.run_meaning())),
            ]),
        ),
        (
            "emit_script",
            Json::obj(vec![
                ("needs", Json::strs(&needs)),
                ("missing", Json::strs(&r.script_missing())),
                ("meaning", Json::str(r.script_meaning())),
            ]),
        ),
    ]);
    let mut out = String::new();
    doc.write(&mut out, 0);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake;
    use crate::testutil::TempDir;

    const LESSON_NS: [&str; 5] = ["mnt", "uts", "ipc", "pid", "net"];
    const ALL_NS: [&str; 8] = ["mnt", "uts", "ipc", "pid", "net", "user", "cgroup", "time"];

    struct Host {
        proc: TempDir,
        cgroup: TempDir,
        bin: TempDir,
    }

    impl Host {
        fn new(proc: TempDir, cgroup: TempDir, tools: &[&str]) -> Host {
            Host {
                proc,
                cgroup,
                bin: fake::tools(tools),
            }
        }

        fn report(&self) -> Report {
            Report::probe(&Roots {
                proc: self.proc.path().into(),
                cgroup: self.cgroup.path().into(),
                path: Some(self.bin.path().into()),
                fs: self.bin.path().join("no-such-fs"),
            })
        }
    }

    fn all_tools() -> Vec<&'static str> {
        SCRIPT_TOOLS.iter().map(|t| t.name).collect()
    }

    fn root_proc() -> TempDir {
        fake::proc(0, fake::ALL_CAPS, &ALL_NS, &[])
    }

    fn controller<'a>(r: &'a Report, name: &str) -> &'a Availability {
        &r.cgroups
            .controllers
            .iter()
            .find(|c| c.name == name)
            .unwrap()
            .availability
    }

    /// The JSON output, parsed by an independent parser.
    fn parsed(r: &Report) -> serde_json::Value {
        serde_json::from_str(&json(r)).expect("check --json prints valid JSON")
    }

    #[test]
    fn v1_host_with_every_controller() {
        let h = Host::new(
            root_proc(),
            fake::v1(&["cpu", "memory", "pids", "cpuset", "blkio", "devices"]),
            &all_tools(),
        );
        let r = h.report();
        assert_eq!(r.cgroups.mode, Some(CgroupMode::V1));
        assert!(
            r.cgroups
                .controllers
                .iter()
                .all(|c| c.availability.is_available())
        );
        assert_eq!(r.exit_code(), 0);
        assert_eq!(r.run_meaning(), "yes (limits: --cpus, -m, --pids-limit)");
        let out = text(&r, false);
        assert!(
            out.starts_with("gocker run can work on this host, with all its limits"),
            "{out}"
        );
        assert!(out.contains("v1: one hierarchy per controller"), "{out}");
        let j = parsed(&r);
        assert_eq!(j["cgroups"]["mode"], "v1");
        assert_eq!(j["cgroups"]["controllers"]["io"]["available"], true);
        assert_eq!(j["kernel"]["release"], "6.1.0-test");
    }

    #[test]
    fn seccomp_and_device_cgroup_are_reported_with_their_opt_outs() {
        let h = Host::new(
            root_proc(),
            fake::v1(&["cpu", "memory", "pids", "devices"]),
            &all_tools(),
        );
        let r = h.report();
        assert!(r.surface.seccomp.is_available() && r.surface.devices.is_available());
        let out = text(&r, false);
        assert!(out.contains("seccomp       available"), "{out}");
        assert!(out.contains("device cgroup available"), "{out}");
        let j = parsed(&r);
        assert_eq!(j["kernel"]["seccomp"]["available"], true);
        assert_eq!(j["kernel"]["device_cgroup"]["available"], true);

        // No devices hierarchy, no seccomp: run works only with both opt-outs.
        let p = root_proc();
        std::fs::remove_file(p.path().join("sys/kernel/seccomp/actions_avail")).unwrap();
        let h = Host::new(p, fake::v1(&["cpu", "memory", "pids"]), &all_tools());
        let r = h.report();
        assert_eq!(r.exit_code(), 0, "run works, with the opt-outs");
        assert_eq!(
            r.run_meaning(),
            "yes (limits: --cpus, -m, --pids-limit); only with --security-opt seccomp=unconfined --security-opt devices=unconfined"
        );
        let out = text(&r, false);
        assert!(out.contains("seccomp       missing"), "{out}");
        assert!(
            out.contains("device cgroup missing: devices controller"),
            "{out}"
        );
        assert!(
            out.contains("or run with --security-opt devices=unconfined"),
            "{out}"
        );
        let j = parsed(&r);
        assert_eq!(j["kernel"]["seccomp"]["available"], false);
        assert_eq!(
            j["kernel"]["device_cgroup"]["opt_out"],
            "--security-opt devices=unconfined"
        );
    }

    #[test]
    fn hybrid_host_without_pids_runs_without_pids_limit() {
        let h = Host::new(
            root_proc(),
            fake::hybrid(&["cpu", "memory", "devices"]),
            &all_tools(),
        );
        let r = h.report();
        assert_eq!(r.cgroups.mode, Some(CgroupMode::Hybrid));
        assert!(!controller(&r, "pids").is_available());
        assert_eq!(r.exit_code(), 0, "limits are optional");
        assert_eq!(
            r.run_meaning(),
            "yes, but without --pids-limit (no pids controller)"
        );
        assert_eq!(
            r.summary(),
            "gocker run can work on this host, but without --pids-limit"
        );
        let out = text(&r, false);
        assert!(out.contains("hybrid: limits use v1"), "{out}");
        assert!(out.contains("offers no controllers"), "{out}");
        // The missing item has its hint on the next line.
        let lines: Vec<&str> = out.lines().collect();
        let i = lines
            .iter()
            .position(|l| l.trim_start().starts_with("pids "))
            .unwrap();
        assert!(
            lines[i].contains("missing: no v1 hierarchy mounted at"),
            "{}",
            lines[i]
        );
        assert!(
            lines[i + 1].trim_start().starts_with("hint: mount it:"),
            "{}",
            lines[i + 1]
        );
        let j = parsed(&r);
        assert_eq!(j["cgroups"]["mode"], "hybrid");
        assert_eq!(j["cgroups"]["limits_version"], "v1");
        assert_eq!(j["run"]["limits_unavailable"][0]["controller"], "pids");
        assert!(j["cgroups"]["controllers"]["pids"]["hint"].is_string());
    }

    #[test]
    fn v2_host_with_controllers_delegated() {
        let cg = fake::v2_delegated(&["cpuset", "cpu", "io", "memory", "pids"], &[], "");
        let h = Host::new(root_proc(), cg, &all_tools());
        let r = h.report();
        assert_eq!(r.cgroups.mode, Some(CgroupMode::V2));
        assert!(
            r.cgroups
                .controllers
                .iter()
                .all(|c| c.availability.is_available())
        );
        assert_eq!(
            parsed(&r)["run"]["limits"],
            serde_json::json!(["--cpus", "-m", "--pids-limit"])
        );
        assert!(text(&r, false).contains("v2: one unified hierarchy"));
    }

    #[test]
    fn v2_host_without_delegation() {
        let cg = fake::v2_delegated(&["cpu"], &[], "");
        let h = Host::new(root_proc(), cg, &all_tools());
        let r = h.report();
        assert!(controller(&r, "cpu").is_available());
        let mem = controller(&r, "memory").lack().unwrap();
        assert!(mem.why.contains("not offered in"), "{mem:?}");
        assert!(mem.fix.contains("Delegate=yes"), "{mem:?}");
        assert_eq!(r.exit_code(), 0);
        assert_eq!(
            r.run_meaning(),
            "yes, but without -m (no memory controller), --pids-limit (no pids controller)"
        );
    }

    #[test]
    fn host_with_tools_missing() {
        let h = Host::new(root_proc(), fake::v2(&["cpu"]), &["sh", "unshare", "mount"]);
        let r = h.report();
        assert_eq!(
            r.script_missing(),
            [
                "readlink",
                "setsid",
                "setpriv",
                "busybox",
                "pivot_root",
                "hostname",
                "mknod",
                "mktemp",
                "rmdir"
            ]
        );
        // Scripts are emit-script's business: run still works.
        assert_eq!(r.exit_code(), 0);
        assert!(r.script_meaning().contains(
            "(missing: readlink, setsid, setpriv, busybox, pivot_root, hostname, mknod, mktemp, rmdir)"
        ));
        let unshare = r.tools.iter().find(|t| t.tool.name == "unshare").unwrap();
        assert_eq!(
            unshare.version.as_deref(),
            Some("unshare from util-linux 2.99")
        );
        let out = text(&r, false);
        assert!(
            out.contains("hint: install it: apt-get install util-linux"),
            "{out}"
        );
        assert!(out.contains("ip            missing (optional)"), "{out}");
        let j = parsed(&r);
        assert_eq!(j["tools"]["pivot_root"]["available"], false);
        assert_eq!(j["tools"]["pivot_root"]["package"], "util-linux");
        assert_eq!(
            j["tools"]["unshare"]["path"],
            h.bin.path().join("unshare").to_str().unwrap()
        );
        assert_eq!(j["emit_script"]["missing"][4], "pivot_root");
    }

    #[test]
    fn unprivileged_user_cannot_run_and_exit_is_1() {
        let h = Host::new(fake::proc(1000, 0, &ALL_NS, &[]), fake::v2(&["cpu"]), &[]);
        let r = h.report();
        assert_eq!(r.exit_code(), EXIT_CANNOT_RUN);
        let out = text(&r, false);
        let first = out.lines().next().unwrap();
        assert_eq!(
            first,
            "gocker run cannot work on this host: missing root privileges (CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SETPCAP)"
        );
        assert!(out.contains("hint: run as root: sudo"), "{out}");
        let j = parsed(&r);
        assert_eq!(j["ok"], false);
        assert_eq!(j["exit_code"], 1);
        assert_eq!(j["privileges"]["euid"], 1000);
        assert_eq!(j["privileges"]["capabilities"]["CAP_SYS_ADMIN"], false);
    }

    #[test]
    fn a_missing_lesson_namespace_stops_run_but_an_extra_one_does_not() {
        let no_time = Host::new(
            fake::proc(0, fake::ALL_CAPS, &LESSON_NS, &[]),
            fake::v2(&[]),
            &[],
        );
        let r = no_time.report();
        assert_eq!(r.exit_code(), 0);
        assert!(text(&r, false).contains("hint: use a kernel built with CONFIG_TIME_NS"));

        let no_pid = Host::new(
            fake::proc(0, fake::ALL_CAPS, &ALL_NS, &["pid"]),
            fake::v2(&[]),
            &[],
        );
        let r = no_pid.report();
        assert_eq!(r.exit_code(), EXIT_CANNOT_RUN);
        assert_eq!(
            r.summary(),
            "gocker run cannot work on this host: missing the pid namespace"
        );
        assert_eq!(parsed(&r)["namespaces"]["pid"]["available"], false);
    }

    #[test]
    fn no_cgroup_filesystem() {
        let h = Host::new(root_proc(), TempDir::new("nocg"), &[]);
        let r = h.report();
        assert_eq!(r.cgroups.mode, None);
        assert_eq!(r.exit_code(), 0);
        assert!(
            r.run_meaning()
                .starts_with("yes, but without limits (no cgroup filesystem at")
        );
        assert_eq!(parsed(&r)["cgroups"]["mode"], serde_json::Value::Null);
    }

    #[test]
    fn colour_only_when_asked() {
        let h = Host::new(fake::proc(1000, 0, &ALL_NS, &[]), fake::v2(&["cpu"]), &[]);
        let r = h.report();
        assert!(!text(&r, false).contains('\x1b'));
        let coloured = text(&r, true);
        assert!(
            coloured.starts_with("\x1b[31mgocker run cannot work"),
            "{coloured}"
        );
        assert!(coloured.contains("\x1b[32mavailable\x1b[0m"));
        // The JSON never has colour.
        assert!(!json(&r).contains('\x1b'));
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut out = String::new();
        Json::Obj(vec![(
            "k\"ey".into(),
            Json::Arr(vec![
                Json::str("quote \" backslash \\ newline \n tab \t bell \u{7} é"),
                Json::Null,
                Json::Int(-3),
                Json::Arr(vec![]),
                Json::Obj(vec![]),
            ]),
        )])
        .write(&mut out, 0);
        assert!(
            out.contains(r#""quote \" backslash \\ newline \n tab \t bell \u0007 é""#),
            "{out}"
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v["k\"ey"][0],
            "quote \" backslash \\ newline \n tab \t bell \u{7} é"
        );
        assert_eq!(v["k\"ey"][2], -3);
    }

    #[test]
    fn mount_rows_share_a_parent() {
        let m = |fstype: &str, path: &str| CgroupMount {
            fstype: fstype.into(),
            path: path.into(),
            controllers: vec![],
        };
        let rows = mount_rows(&[
            m("cgroup", "/sys/fs/cgroup/cpu"),
            m("cgroup", "/sys/fs/cgroup/memory"),
            m("cgroup2", "/sys/fs/cgroup/unified"),
        ]);
        assert_eq!(
            rows,
            [
                ("v1 mounts", "/sys/fs/cgroup/{cpu, memory}".to_owned()),
                ("cgroup2 at", "/sys/fs/cgroup/unified".to_owned())
            ]
        );
    }
}
