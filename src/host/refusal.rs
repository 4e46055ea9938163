//! Early refusal: what a container needs (`Needs`) checked against the probes before
//! anything is created, and the explanation of a failed clone.

use super::*;

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
