//! `gocker check --json`: the same facts as the text report, as serde-derived structs
//! whose field order is the document's key order (tests/check.rs reads the keys).

use super::Report;
use crate::host::{self, Availability, RUN_CAPS};
use serde::Serialize;
use serde::ser::Serializer;

/// An object whose keys are only known at run time (one per namespace, controller,
/// tool), in the report's order.
struct Keyed<'a, T>(Vec<(&'a str, T)>);

impl<T: Serialize> Serialize for Keyed<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// A fact: `available`, then what the kind of fact adds, then why and a hint when missing.
#[derive(Serialize)]
struct Fact<'a, E: Serialize> {
    available: bool,
    #[serde(flatten)]
    extra: E,
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
}

fn fact<E: Serialize>(a: &Availability, extra: E) -> Fact<'_, E> {
    Fact {
        available: a.is_available(),
        extra,
        why: a.lack().map(|l| l.why.as_str()),
        hint: a.lack().map(|l| l.fix.as_str()),
    }
}

#[derive(Serialize)]
struct Used {
    used_by_gocker: bool,
}

#[derive(Serialize)]
struct ControllerExtra {
    used_by_gocker: bool,
    option: Option<&'static str>,
}

#[derive(Serialize)]
struct OptOut {
    opt_out: &'static str,
}

#[derive(Serialize)]
struct Document<'a> {
    ok: bool,
    exit_code: i32,
    summary: String,
    privileges: Privileges<'a>,
    kernel: Kernel<'a>,
    namespaces: Keyed<'a, Fact<'a, Used>>,
    cgroups: Cgroups<'a>,
    tools: Keyed<'a, Tool<'a>>,
    run: Run<'a>,
    emit_script: EmitScript<'a>,
}

#[derive(Serialize)]
struct Privileges<'a> {
    euid: Option<u32>,
    root: bool,
    capabilities: Keyed<'a, bool>,
    sufficient: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
}

#[derive(Serialize)]
struct Kernel<'a> {
    release: Option<&'a str>,
    seccomp: Fact<'a, OptOut>,
    device_cgroup: Fact<'a, OptOut>,
}

#[derive(Serialize)]
struct Cgroups<'a> {
    root: String,
    mode: Option<&'static str>,
    limits_version: Option<&'static str>,
    mounts: Vec<Mount<'a>>,
    unified_controllers: &'a [String],
    controllers: Keyed<'a, Fact<'a, ControllerExtra>>,
}

#[derive(Serialize)]
struct Mount<'a> {
    #[serde(rename = "type")]
    fstype: &'a str,
    path: String,
    controllers: &'a [String],
}

#[derive(Serialize)]
struct Tool<'a> {
    available: bool,
    busybox: bool,
    required: bool,
    path: Option<String>,
    on_path: bool,
    link: Option<&'a str>,
    version: Option<&'a str>,
    package: &'static str,
    why: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
}

#[derive(Serialize)]
struct Run<'a> {
    works: bool,
    missing: Vec<String>,
    limits: Vec<&'static str>,
    limits_unavailable: Vec<Unavailable<'a>>,
    meaning: String,
}

#[derive(Serialize)]
struct Unavailable<'a> {
    option: &'static str,
    controller: &'static str,
    why: &'a str,
}

#[derive(Serialize)]
struct EmitScript<'a> {
    needs: Vec<&'a str>,
    missing: Vec<&'static str>,
    meaning: String,
}

/// The same facts as `text`, for scripts and tests.
pub fn json(r: &Report) -> String {
    let p = &r.privileges;
    let missing_caps = p.missing_caps();
    let cg = &r.cgroups;
    let (limits, unavailable) = r.limits();
    let doc = Document {
        ok: r.run_works(),
        exit_code: r.exit_code(),
        summary: r.summary(),
        privileges: Privileges {
            euid: p.euid,
            root: p.is_root(),
            capabilities: Keyed(
                RUN_CAPS
                    .iter()
                    .map(|c| (c.name, !missing_caps.contains(&c.name)))
                    .collect(),
            ),
            sufficient: r.privileges_lack.is_none(),
            why: r.privileges_lack.as_ref().map(|l| l.why.as_str()),
            hint: r.privileges_lack.as_ref().map(|l| l.fix.as_str()),
        },
        kernel: Kernel {
            release: r.kernel.as_deref(),
            seccomp: fact(
                &r.surface.seccomp,
                OptOut {
                    opt_out: host::SECCOMP_OPT_OUT,
                },
            ),
            device_cgroup: fact(
                &r.surface.devices,
                OptOut {
                    opt_out: host::DEVICES_OPT_OUT,
                },
            ),
        },
        namespaces: Keyed(
            r.namespaces
                .iter()
                .map(|ns| {
                    let used = Used {
                        used_by_gocker: ns.used,
                    };
                    (ns.kind.proc_name(), fact(&ns.availability, used))
                })
                .collect(),
        ),
        cgroups: Cgroups {
            root: cg.root.to_string_lossy().into_owned(),
            mode: cg.mode.map(|m| m.name()),
            limits_version: cg.mode.map(|m| m.limits_version().name()),
            mounts: cg
                .mounts
                .iter()
                .map(|m| Mount {
                    fstype: &m.fstype,
                    path: m.path.to_string_lossy().into_owned(),
                    controllers: &m.controllers,
                })
                .collect(),
            unified_controllers: &cg.unified_controllers,
            controllers: Keyed(
                cg.controllers
                    .iter()
                    .map(|c| {
                        let extra = ControllerExtra {
                            used_by_gocker: c.used.is_some(),
                            option: c.used.map(|u| u.option()),
                        };
                        (c.name, fact(&c.availability, extra))
                    })
                    .collect(),
            ),
        },
        tools: Keyed(
            r.tools
                .iter()
                .map(|t| {
                    let tool = Tool {
                        available: t.usable(),
                        busybox: t.found.as_ref().is_some_and(|f| f.busybox),
                        required: t.tool.required,
                        path: t
                            .found
                            .as_ref()
                            .map(|f| f.path.to_string_lossy().into_owned()),
                        on_path: t.found.as_ref().is_some_and(|f| f.on_path),
                        link: t.link.as_deref(),
                        version: t.version.as_deref(),
                        package: t.tool.package,
                        why: t.tool.why,
                        hint: (!t.usable()).then(|| host::tool_fix(t.tool)),
                    };
                    (t.tool.name, tool)
                })
                .collect(),
        ),
        run: Run {
            works: r.run_works(),
            missing: r.run_blockers(),
            limits,
            limits_unavailable: unavailable
                .iter()
                .map(|(c, lack)| Unavailable {
                    option: c.option(),
                    controller: c.name(),
                    why: &lack.why,
                })
                .collect(),
            meaning: r.run_meaning(),
        },
        emit_script: EmitScript {
            needs: r
                .tools
                .iter()
                .filter(|t| t.tool.required)
                .map(|t| t.tool.name)
                .collect(),
            missing: r.script_missing(),
            meaning: r.script_meaning(),
        },
    };
    // Serializing plain structs of strings, numbers and bools cannot fail.
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}
