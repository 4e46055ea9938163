//! `gocker exec`: the command line that runc's callers (podman, containerd) and people
//! (Docker's `exec -it -e -w -u`) use to run a process in a running container.
//!
//! Both spellings build one `runtime::exec::ExecOptions`: the OCI one from a process.json
//! (`--process F`), the Docker one from the container's own process (its env, its
//! working directory) with the flags applied on top. The container comes from the state
//! store, by id, name or unique id prefix.

use crate::error::{Failure, fail};
use crate::runtime::exec::{ExecOptions, Target, exec};
use crate::security::{CAP_NAMES, CapSet, Capabilities};
use crate::spec::{self, ContainerSpec, Process};
use crate::state::{Status, Store};
use anyhow::{Context, Result};
use clap::Args;
use serde::Deserialize;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

#[derive(Args, Debug, Clone, Default)]
#[command(after_help = "Examples:\n  \
gocker exec -it web sh                         # a shell inside container `web`\n  \
gocker exec -e A=1 -w /tmp web env             # with one more variable, in /tmp\n  \
gocker exec --process p.json --detach --pid-file p.pid ID   # as podman calls runc\n\n\
Exit status: the command's own; 128+N if it was killed by signal N; 125 if gocker failed \
(an unknown or stopped container among the reasons); 126 if the command cannot be invoked; \
127 if it was not found.")]
pub struct ExecArgs {
    /// The process to run, as an OCI process.json (args, env, cwd, terminal, user,
    /// capabilities, noNewPrivileges, rlimits); COMMAND is then not given
    #[arg(long, value_name = "FILE")]
    pub process: Option<PathBuf>,

    /// Return once the process has started, leaving it running
    #[arg(short = 'd', long)]
    pub detach: bool,

    /// Write the process's pid (as the host sees it) to FILE
    #[arg(long = "pid-file", value_name = "FILE")]
    pub pid_file: Option<PathBuf>,

    /// Send the terminal's master over the Unix socket at PATH (with --tty)
    #[arg(long = "console-socket", value_name = "PATH")]
    pub console_socket: Option<PathBuf>,

    /// Keep stdin open and connect it to the process
    #[arg(short = 'i', long)]
    pub interactive: bool,

    /// Give the process a terminal (use -it for an interactive shell)
    #[arg(short = 't', long)]
    pub tty: bool,

    /// Set an environment variable (repeatable; `-e KEY` copies it from gocker's environment)
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<OsString>,

    /// Working directory inside the container [default: the container's]
    #[arg(short = 'w', long = "workdir", value_name = "DIR")]
    pub workdir: Option<OsString>,

    /// The user to run as: UID[:GID] (numbers), or root
    #[arg(short = 'u', long, value_name = "USER")]
    pub user: Option<String>,

    /// The container: its id, its name, or a unique prefix of its id
    #[arg(value_name = "CONTAINER")]
    pub id: String,

    /// The command and its arguments, passed exactly as given
    #[arg(
        value_name = "COMMAND",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        num_args = 0..
    )]
    pub command: Vec<OsString>,
}

/// `gocker exec` with the OCI commands' global options (the store's `--root`, errors
/// also to `--log`): the process's exit status, or 0 with --detach.
pub fn dispatch(args: &ExecArgs, global: &super::runtime_cli::GlobalArgs) -> Result<i32> {
    let r = run(args, &global.root);
    if let Err(e) = &r {
        super::runtime_cli::log_error(global, &crate::error::one_line(e));
    }
    r
}

/// `gocker exec` on the store at `root`.
pub fn run(args: &ExecArgs, root: &Path) -> Result<i32> {
    let store = Store::open(root)?;
    let record = store.find(&args.id)?;
    match record.status() {
        Status::Running => {}
        Status::Paused => fail(
            Failure::Usage,
            format!("container {} is paused: resume it first", record.id),
        )?,
        Status::Created => fail(
            Failure::Usage,
            format!(
                "container {} is created but not started: start it first",
                record.id
            ),
        )?,
        Status::Stopped => fail(
            Failure::Usage,
            format!("container {} is not running", record.id),
        )?,
    }
    let opts = args.options(&record.spec, &std::env::vars_os().collect::<Vec<_>>())?;
    let target = Target {
        pid: record.pid,
        pid_start_time: record.pid_start_time,
        cgroup_dirs: &record.cgroup_dirs,
        spec: &record.spec,
    };
    exec(&target, &opts)
}

impl ExecArgs {
    /// The process to run in the container `spec` describes. `host_env` serves `-e KEY`.
    pub fn options(
        &self,
        spec: &ContainerSpec,
        host_env: &[(OsString, OsString)],
    ) -> Result<ExecOptions> {
        let mut opts = match &self.process {
            Some(file) => {
                if !self.command.is_empty() {
                    fail(
                        Failure::Usage,
                        "exec: give either --process FILE or a command, not both",
                    )?;
                }
                let text = std::fs::read(file)
                    .with_context(|| format!("read process file {}", file.display()))?;
                process_json(&text, spec)
                    .with_context(|| format!("process file {}", file.display()))?
            }
            None => self.docker_process(spec, host_env)?,
        };
        // --tty on the command line counts as process.terminal (runc's exec -t).
        opts.process.terminal |= self.tty;
        if self.console_socket.is_some() && !opts.process.terminal {
            fail(
                Failure::Usage,
                "exec: --console-socket needs a terminal (--tty)",
            )?;
        }
        if opts.process.terminal && self.detach && self.console_socket.is_none() {
            fail(
                Failure::Usage,
                "exec: a detached process's terminal needs --console-socket to go somewhere",
            )?;
        }
        opts.detach = self.detach;
        opts.pid_file = self.pid_file.clone();
        opts.console_socket = self.console_socket.clone();
        Ok(opts)
    }

    /// Docker's exec: the container's environment and working directory, then the flags.
    fn docker_process(
        &self,
        spec: &ContainerSpec,
        host_env: &[(OsString, OsString)],
    ) -> Result<ExecOptions> {
        match self.command.first() {
            None => fail(
                Failure::Usage,
                "no command given: gocker exec [OPTIONS] CONTAINER COMMAND [ARG...]",
            )?,
            Some(c) if c.is_empty() => fail(Failure::Usage, "the command is an empty string")?,
            Some(_) => {}
        }
        for a in &self.command {
            spec::no_nul(a, "command argument")?;
        }
        let mut env: Vec<OsString> = spec.process.env.clone();
        if self.tty {
            set_env(&mut env, OsString::from("TERM=xterm"), false);
        }
        for e in &self.env {
            spec::no_nul(e, "-e")?;
            let b = e.as_bytes();
            let key = &b[..b.iter().position(|&c| c == b'=').unwrap_or(b.len())];
            if key.is_empty() || key[0].is_ascii_digit() || key.iter().any(u8::is_ascii_whitespace)
            {
                fail(
                    Failure::Usage,
                    format!(
                        "-e {}: expected KEY=VALUE with a non-empty KEY",
                        e.to_string_lossy()
                    ),
                )?;
            }
            if key.len() == b.len() {
                // `-e KEY`: gocker's own value, or nothing when it has none (as Docker).
                if let Some((k, v)) = host_env.iter().find(|(k, _)| k.as_bytes() == key) {
                    let mut kv = k.clone();
                    kv.push("=");
                    kv.push(v);
                    set_env(&mut env, kv, true);
                }
            } else {
                set_env(&mut env, e.clone(), true);
            }
        }
        let cwd = match &self.workdir {
            Some(w) => spec::container_path(w, "-w")?,
            None => spec.process.cwd.clone(),
        };
        Ok(ExecOptions {
            process: Process {
                argv: self.command.clone(),
                env,
                cwd,
                terminal: self.tty,
                stdin: self.interactive,
                // Docker's exec runs as the container's user unless -u says otherwise.
                user: match &self.user {
                    Some(u) => parse_user(u)?,
                    None => spec.process.user.clone(),
                },
                // The init's; an exec'd process inherits gocker's.
                oom_score_adj: None,
                umask: None,
            },
            detach: false,
            pid_file: None,
            console_socket: None,
            capabilities: None,
            no_new_privs: None,
            rlimits: None,
        })
    }
}

/// `KEY=VALUE` into `env`: replacing the same key when `replace`, else only if absent.
fn set_env(env: &mut Vec<OsString>, kv: OsString, replace: bool) {
    let key_of = |s: &OsString| -> Vec<u8> {
        let b = s.as_bytes();
        b[..b.iter().position(|&c| c == b'=').unwrap_or(b.len())].to_vec()
    };
    let key = key_of(&kv);
    if let Some(i) = env.iter().position(|e| key_of(e) == key) {
        if !replace {
            return;
        }
        env.remove(i);
    }
    env.push(kv);
}

/// `-u`: numbers only (names would mean reading the image's /etc/passwd), or `root`.
fn parse_user(s: &str) -> Result<spec::User> {
    let (u, g) = match s.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (s, None),
    };
    let num = |x: &str, what: &str| -> Result<u32> {
        if x == "root" {
            return Ok(0);
        }
        x.parse().map_err(|_| {
            Failure::Usage.with(format!(
                "-u {s}: the {what} must be a number (or root); user names are not looked up"
            ))
        })
    };
    let uid = num(u, "user")?;
    let gid = g.map(|g| num(g, "group")).transpose()?.unwrap_or(uid);
    Ok(spec::User {
        uid,
        gid,
        additional_gids: Vec::new(),
    })
}

/// The fields of an OCI process.json that `exec` reads; any other is ignored as runc
/// ignores it for exec (consoleSize, apparmorProfile, selinuxLabel, oomScoreAdj).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProcessJson {
    #[serde(default)]
    terminal: bool,
    #[serde(default)]
    user: Option<UserJson>,
    args: Vec<String>,
    #[serde(default)]
    env: Vec<String>,
    #[serde(default)]
    cwd: Option<String>,
    #[serde(default)]
    capabilities: Option<CapsJson>,
    #[serde(default)]
    rlimits: Option<Vec<RlimitJson>>,
    #[serde(default)]
    no_new_privileges: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserJson {
    #[serde(default)]
    uid: u32,
    #[serde(default)]
    gid: u32,
    #[serde(default)]
    additional_gids: Vec<u32>,
    #[serde(default)]
    umask: Option<u32>,
}

#[derive(Deserialize)]
struct CapsJson {
    #[serde(default)]
    bounding: Option<Vec<String>>,
    #[serde(default)]
    effective: Option<Vec<String>>,
    #[serde(default)]
    permitted: Option<Vec<String>>,
    #[serde(default)]
    inheritable: Option<Vec<String>>,
    #[serde(default)]
    ambient: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RlimitJson {
    #[serde(rename = "type")]
    kind: String,
    hard: u64,
    soft: u64,
}

/// An OCI process.json as the process to run. Its env is the whole environment (as
/// runc), its cwd must be absolute; a `user.umask` is refused (not supported yet).
fn process_json(text: &[u8], spec: &ContainerSpec) -> Result<ExecOptions> {
    let p: ProcessJson =
        serde_json::from_slice(text).map_err(|e| Failure::Usage.with(format!("parse: {e}")))?;
    if p.args.first().is_none_or(|a| a.is_empty()) {
        fail(Failure::Usage, "process.args: no command given")?;
    }
    let argv: Vec<OsString> = p.args.iter().map(OsString::from).collect();
    for a in &argv {
        spec::no_nul(a, "process.args")?;
    }
    let env: Vec<OsString> = p.env.iter().map(OsString::from).collect();
    for e in &env {
        spec::no_nul(e, "process.env")?;
    }
    let cwd = match &p.cwd {
        Some(c) if !c.is_empty() => spec::container_path(c.as_ref(), "process.cwd")?,
        _ => spec.process.cwd.clone(),
    };
    let user = match p.user {
        Some(u) if u.umask.is_some() => fail(
            Failure::Usage,
            "process.user.umask: not supported by gocker yet",
        )?,
        Some(u) => Some(spec::User {
            uid: u.uid,
            gid: u.gid,
            additional_gids: u.additional_gids,
        }),
        None => None,
    };
    let capabilities = match p.capabilities {
        // The five sets exactly as given (a set left out is empty, as in runc), checked
        // by the kernel's rules before anything runs, as config.json's are.
        Some(c) => {
            let set =
                |v: &Option<Vec<String>>| cap_mask(v.as_deref().unwrap_or_default()).map(CapSet);
            let caps = Capabilities {
                bounding: set(&c.bounding)?,
                effective: set(&c.effective)?,
                permitted: set(&c.permitted)?,
                inheritable: set(&c.inheritable)?,
                ambient: set(&c.ambient)?,
            };
            if let Err((field, bad, why)) = caps.check() {
                let names: Vec<String> = bad
                    .names()
                    .map(|n| format!("CAP_{}", n.to_uppercase()))
                    .collect();
                fail(
                    Failure::Usage,
                    format!("process.capabilities.{field}: {}: {why}", names.join(", ")),
                )?;
            }
            Some(caps)
        }
        None => None,
    };
    let rlimits = p
        .rlimits
        .map(|v| {
            v.iter()
                .map(|r| {
                    Ok(spec::Rlimit {
                        resource: rlimit_number(&r.kind)?,
                        soft: r.soft,
                        hard: r.hard,
                    })
                })
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?;
    Ok(ExecOptions {
        process: Process {
            argv,
            env,
            cwd,
            terminal: p.terminal,
            // The engine's pipes (or the console socket's terminal) are the process's.
            stdin: true,
            user: user.unwrap_or_else(|| spec.process.user.clone()),
            oom_score_adj: None,
            umask: None,
        },
        detach: false,
        pid_file: None,
        console_socket: None,
        capabilities,
        no_new_privs: p.no_new_privileges,
        rlimits,
    })
}

/// `["CAP_CHOWN", ...]` as a mask; an unknown name is refused.
fn cap_mask(names: &[String]) -> Result<u64> {
    let mut m = 0u64;
    for n in names {
        let bare = n.strip_prefix("CAP_").unwrap_or(n).to_ascii_lowercase();
        match CAP_NAMES.iter().position(|c| *c == bare) {
            Some(i) => m |= 1 << i,
            None => fail(
                Failure::Usage,
                format!("process.capabilities: unknown capability {n}"),
            )?,
        }
    }
    Ok(m)
}

/// An RLIMIT_* name of the OCI spec as its setrlimit(2) number: read as oci-spec reads
/// it, numbered by the bundle loader's table (`frontend::oci`).
fn rlimit_number(name: &str) -> Result<u32> {
    serde_json::from_value::<oci_spec::runtime::PosixRlimitType>(serde_json::Value::from(name))
        .map(super::oci::rlimit_number)
        .map_err(|_| Failure::Usage.with(format!("process.rlimits: unknown type {name}")))
}

#[cfg(test)]
mod tests;
