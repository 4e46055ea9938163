//! `gocker check`'s text report: grouped rows, a hint under each missing item, colour
//! only for a terminal.

use super::*;

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
pub(super) fn mount_rows(mounts: &[CgroupMount]) -> Vec<(&'static str, String)> {
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
