//! `gocker check`: an honest report of what this host can do, in the manner of Moby's
//! `check-config.sh` and `lxc-checkconfig`: grouped findings, a hint under each missing
//! item, and what they mean for `run` and `emit-script`.
//!
//! `Report::probe` (this file) gathers the facts from the `host` probes (the same ones
//! `run` and `emit-script` refuse on, so the report and the refusals cannot disagree);
//! `text.rs` and `json.rs` (serde) render them. Exit status: 0 when `gocker run` can
//! work here, 1 when it cannot.

use crate::cgroup::{CONTROLLERS, Controller, KNOWN_CONTROLLERS};
use crate::host::{
    self, Availability, CgroupMode, CgroupMount, Lack, Privileges, RUN_CAPS, Roots, SCRIPT_TOOLS,
    ScriptTool, ToolPath,
};
use crate::spec::Namespace;
use anyhow::{Context, Result};
use std::io::Write;
use std::path::PathBuf;

mod json;
mod text;

pub use json::json;
#[cfg(test)]
use text::mount_rows;
pub use text::text;

#[cfg(test)]
mod tests;

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
    /// Only a bundle's `linux.resources` uses it: `run`'s limits do not depend on it.
    pub bundle_only: bool,
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
                bundle_only: c.bundle_only,
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
        for c in self.cgroups.controllers.iter().filter(|c| !c.bundle_only) {
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
