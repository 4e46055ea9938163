//! The OCI runtime command line (runc's contract), so that podman (conmon) and containerd
//! (its runc shim) can drive gocker: the global `--root`, `--log`, `--log-format`,
//! `--systemd-cgroup`, and `create`, `start`, `state`, `kill`, `delete`, `ps`, `pause`,
//! `resume`, `features`, `spec`. What the engines send and expect is in the project's
//! OCI contract notes: above all, nothing on stderr when a command succeeds (containerd
//! reads stdout and stderr from one pipe), and errors also as JSON lines in `--log`.

mod signals;
mod templates;

use crate::host::Roots;
use crate::runtime::{control, create, hooks};
use crate::state::{self, Record, Status, Store};
use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The global options of an OCI runtime, given before the subcommand.
#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// Where the containers' state lives (OCI runtime commands)
    #[arg(long, value_name = "DIR", default_value = state::DEFAULT_ROOT)]
    pub root: PathBuf,
    /// Also write errors to FILE (OCI runtime commands)
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// The format of --log
    #[arg(
        long = "log-format",
        value_enum,
        value_name = "FORMAT",
        default_value = "text"
    )]
    pub log_format: LogFormat,
    /// Refused: gocker manages cgroupfs itself, never through systemd
    #[arg(long = "systemd-cgroup")]
    pub systemd_cgroup: bool,
    /// Accepted for runc compatibility; gocker has no debug log
    #[arg(long, hide = true)]
    pub debug: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum OciCommand {
    /// OCI: create a container from a bundle, its init waiting for `start`
    #[command(
        after_help = "Examples:\n  gocker spec --bundle /tmp/b && gocker create --bundle /tmp/b --pid-file /tmp/b/pid c1\n  gocker start c1        # the init was waiting at its exec fifo"
    )]
    Create(CreateArgs),
    /// OCI: start a created container's command
    #[command(after_help = "Examples:\n  gocker create --bundle /tmp/b c1 && gocker start c1")]
    Start(IdArg),
    /// OCI: print a container's state as JSON
    #[command(
        after_help = "Examples:\n  gocker state c1        # {\"ociVersion\": ..., \"status\": \"running\", \"pid\": ...}"
    )]
    State(IdArg),
    /// OCI: send a signal to a container's init (or, with --all, to all its processes)
    #[command(
        after_help = "Examples:\n  gocker kill c1          # SIGTERM\n  gocker kill c1 9        # numbers or names: KILL, SIGKILL\n  gocker kill --all c1 TERM"
    )]
    Kill(KillArgs),
    /// OCI: remove a container (its processes with --force, its cgroup, its state)
    #[command(
        after_help = "Examples:\n  gocker delete c1\n  gocker delete --force c1   # kills it first; an unknown id is not an error"
    )]
    Delete(DeleteArgs),
    /// List containers (Docker's ps); with an ID, that container's processes (OCI)
    #[command(
        after_help = "Examples:\n  gocker ps                    # the running containers: id, name, command, created, status, limits\n  gocker ps -a                 # and the stopped ones, with their exit codes\n  gocker ps -a --format json   # one JSON array of objects\n  gocker ps -q                 # only the ids (short)\n  gocker ps c1                 # OCI: the host pids of container c1\n  gocker ps --format json c1   # [684,716]"
    )]
    Ps(PsArgs),
    /// OCI: freeze every process of a container
    #[command(
        after_help = "Examples:\n  gocker pause c1 && gocker state c1   # \"status\": \"paused\""
    )]
    Pause(IdArg),
    /// OCI: thaw a paused container
    #[command(after_help = "Examples:\n  gocker resume c1")]
    Resume(IdArg),
    /// OCI: print what this runtime supports, as JSON
    #[command(after_help = "Examples:\n  gocker features")]
    Features,
    /// OCI: write a default config.json for a bundle whose root is ./rootfs
    #[command(
        after_help = "Examples:\n  gocker spec --bundle /tmp/b   # /tmp/b/config.json, for a root in /tmp/b/rootfs\n  gocker rootfs busybox /tmp/b/rootfs"
    )]
    Spec(SpecArgs),
}

#[derive(Args, Debug)]
pub struct IdArg {
    /// The container's id
    pub id: String,
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// The bundle directory (config.json and, usually, rootfs)
    #[arg(short = 'b', long, value_name = "DIR", default_value = ".")]
    pub bundle: PathBuf,
    /// Write the init's host pid here (bare digits)
    #[arg(long = "pid-file", value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// Send the terminal's master to this unix socket (process.terminal)
    #[arg(long = "console-socket", value_name = "SOCKET")]
    pub console_socket: Option<PathBuf>,
    /// Accepted for runc compatibility: gocker pivots, and moves the root onto / and
    /// chroots by itself only where pivot_root cannot work (an initramfs)
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,
    /// Accepted for runc compatibility (gocker always joins a fresh session keyring)
    #[arg(long = "no-new-keyring", hide = true)]
    pub no_new_keyring: bool,
    pub id: String,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    /// Signal every process in the container's cgroup
    #[arg(short = 'a', long)]
    pub all: bool,
    pub id: String,
    /// A number (15) or a name (TERM, SIGTERM)
    #[arg(default_value = "SIGTERM")]
    pub signal: String,
}

#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// Kill a running container first; an unknown id is not an error
    #[arg(short = 'f', long)]
    pub force: bool,
    pub id: String,
}

#[derive(Args, Debug)]
pub struct PsArgs {
    /// table, or json (a JSON array: of containers, or with an ID of host pids)
    #[arg(short = 'f', long, default_value = "table")]
    pub format: String,
    /// Stopped containers too (the listing)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only the short ids (the listing)
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// A container: list its processes instead (OCI `ps`)
    pub id: Option<String>,
}

#[derive(Args, Debug)]
pub struct SpecArgs {
    /// Where to write config.json
    #[arg(short = 'b', long, value_name = "DIR", default_value = ".")]
    pub bundle: PathBuf,
    /// Refused: gocker has no rootless mode yet
    #[arg(long)]
    pub rootless: bool,
}

/// Run one OCI command; on failure the error also goes to `--log`, in its format.
pub fn dispatch(global: &GlobalArgs, cmd: OciCommand, roots: &Roots) -> Result<i32> {
    let r = run(global, cmd, roots);
    if let Err(e) = &r {
        log_error(global, &crate::error::one_line(e));
    }
    r
}

fn run(global: &GlobalArgs, cmd: OciCommand, roots: &Roots) -> Result<i32> {
    if global.systemd_cgroup {
        crate::error::fail(
            crate::error::Failure::Usage,
            "--systemd-cgroup is not supported: gocker manages cgroupfs itself (configure the engine for cgroupfs, e.g. podman --cgroup-manager=cgroupfs)",
        )?;
    }
    match cmd {
        OciCommand::Features => print_json(&templates::features()),
        OciCommand::Spec(a) => spec(&a),
        OciCommand::Create(a) => create_cmd(global, &a, roots),
        OciCommand::Start(a) => {
            let store = Store::open(&global.root)?;
            let entry = store.open_entry(&a.id)?;
            let mut record = entry.load()?;
            create::start(&entry, &mut record)?;
            let hooks = saved_hooks(entry.dir());
            drop(entry);
            if let Err(e) =
                hooks::run_all("poststart", &hooks.poststart, &control::state_json(&record))
            {
                log_warning(global, &crate::error::one_line(&e));
            }
            Ok(0)
        }
        OciCommand::State(a) => {
            let store = Store::open(&global.root)?;
            let record = store.open_entry(&a.id)?.load()?;
            print_json(&control::state_json(&record))
        }
        OciCommand::Kill(a) => {
            let sig = signals::parse(&a.signal)?;
            let store = Store::open(&global.root)?;
            let record = store.open_entry(&a.id)?.load()?;
            control::kill(&record, sig, a.all)?;
            Ok(0)
        }
        OciCommand::Delete(a) => {
            let store = Store::open(&global.root)?;
            let entry = match store.open_entry(&a.id) {
                Ok(e) => e,
                Err(e) if a.force && state::is_does_not_exist(&e) => return Ok(0),
                Err(e) => return Err(e),
            };
            let record = entry.load()?;
            let hooks = saved_hooks(entry.dir());
            control::delete(entry, &record, a.force)?;
            let mut state = control::state_json(&record);
            state["status"] = "stopped".into();
            state["pid"] = 0.into();
            if let Err(e) = hooks::run_all("poststop", &hooks.poststop, &state) {
                log_warning(global, &crate::error::one_line(&e));
            }
            Ok(0)
        }
        OciCommand::Ps(a) => {
            let Some(id) = &a.id else {
                return crate::frontend::containers::ps(&global.root, a.all, a.quiet, &a.format);
            };
            let store = Store::open(&global.root)?;
            let record = store.open_entry(id)?.load()?;
            let pids = control::pids(&record);
            match a.format.as_str() {
                "json" => print(&format!("{}\n", serde_json::json!(pids))),
                "table" => {
                    let mut out = String::from("PID\tCMD\n");
                    for p in pids {
                        let cmd = std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
                        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
                        out.push_str(&format!("{p}\t{}\n", cmd.trim_end()));
                    }
                    print(&out)
                }
                f => crate::error::fail(
                    crate::error::Failure::Usage,
                    format!("ps --format {f}: use table or json"),
                ),
            }
        }
        OciCommand::Pause(a) => pause(global, &a.id, true),
        OciCommand::Resume(a) => pause(global, &a.id, false),
    }
}

fn pause(global: &GlobalArgs, id: &str, frozen: bool) -> Result<i32> {
    let store = Store::open(&global.root)?;
    let entry = store.open_entry(id)?;
    let record = entry.load()?;
    control::pause(&record, frozen)?;
    Ok(0)
}

fn create_cmd(global: &GlobalArgs, a: &CreateArgs, roots: &Roots) -> Result<i32> {
    state::validate_id(&a.id)?;
    let bundle = std::fs::canonicalize(&a.bundle)
        .with_context(|| format!("bundle {}", a.bundle.display()))?;
    let spec = crate::frontend::oci::load_bundle(&bundle, &a.id)?;
    let hooks = crate::frontend::oci::load_hooks(&bundle)?;
    let annotations = templates::annotations(&bundle);
    let store = Store::open(&global.root)?;
    let entry = store.create(&a.id)?;
    let made = (|| -> Result<()> {
        let created = create::create(
            &spec,
            roots,
            entry.dir(),
            a.console_socket.as_deref(),
            None,
            false,
        )?;
        let record = Record {
            id: a.id.clone(),
            name: None,
            bundle: Some(bundle.clone()),
            pid: created.pid,
            pid_start_time: created.pid_start_time,
            created: state::rfc3339_utc_now(),
            cgroup_dirs: created.cgroup_dirs,
            cgroup_version: created.cgroup_version.name().to_string(),
            status_hint: Status::Created.as_str().to_string(),
            annotations,
            spec: spec.clone(),
            layer: None,
            exit_code: None,
            started: None,
            finished: None,
            auto_remove: false,
            monitor_pid: 0,
            monitor_start_time: 0,
            log: None,
        };
        // Saved before the pid file: an engine that reads the pid file may call
        // `state` at once.
        let saved = entry
            .save(&record)
            .and_then(|()| save_hooks(entry.dir(), &hooks))
            .and_then(|()| {
                let state = control::state_json(&record);
                hooks::run_all("prestart", &hooks.prestart, &state)?;
                hooks::run_all("createRuntime", &hooks.create_runtime, &state)
            })
            .and_then(|()| match &a.pid_file {
                Some(f) => write_pid_file(f, created.pid),
                None => Ok(()),
            });
        if let Err(e) = saved {
            let _ = sys_kill_and_forget(&record);
            return Err(e);
        }
        Ok(())
    })();
    if made.is_err() {
        let _ = entry.remove();
    }
    made.map(|()| 0)
}

const HOOKS_FILE: &str = "hooks.json";

/// The hooks `start` and `delete` run, kept in the state directory: the bundle may be
/// gone by then (the engines remove it before the last delete).
fn save_hooks(dir: &Path, hooks: &crate::spec::Hooks) -> Result<()> {
    if hooks.is_empty() {
        return Ok(());
    }
    let path = dir.join(HOOKS_FILE);
    std::fs::write(&path, serde_json::to_vec(hooks).context("encode hooks")?)
        .with_context(|| format!("write {}", path.display()))
}

fn saved_hooks(dir: &Path) -> crate::spec::Hooks {
    std::fs::read(dir.join(HOOKS_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// A create that failed after its init exists: the init and its cgroup go too.
fn sys_kill_and_forget(record: &Record) -> Result<()> {
    let _ = crate::sys::kill(record.pid, libc::SIGKILL);
    for d in &record.cgroup_dirs {
        for _ in 0..100 {
            if std::fs::remove_dir(d).is_ok() || !d.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    Ok(())
}

/// The pid as bare digits, written whole (tmp + rename): conmon reads it as soon as
/// `create` returns, and a half-written file would name another process.
fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let name = path
        .file_name()
        .with_context(|| format!("pid file {}: not a file name", path.display()))?;
    let tmp = dir.unwrap_or(Path::new(".")).join(format!(
        ".{}.tmp.{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, pid.to_string())
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            anyhow::Error::new(e).context(format!("write pid file {}", path.display()))
        })
}

fn spec(a: &SpecArgs) -> Result<i32> {
    if a.rootless {
        crate::error::fail(
            crate::error::Failure::Usage,
            "spec --rootless: gocker has no rootless mode (user namespaces) yet",
        )?;
    }
    let path = a.bundle.join("config.json");
    let text = serde_json::to_string_pretty(&templates::default_spec()).context("encode spec")?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                crate::error::Failure::Usage.with(format!(
                    "{} exists already: remove it first",
                    path.display()
                ))
            } else {
                anyhow::Error::new(e).context(format!("create {}", path.display()))
            }
        })?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.write_all(b"\n"))
        .with_context(|| format!("write {}", path.display()))?;
    Ok(0)
}

fn print_json(v: &serde_json::Value) -> Result<i32> {
    let mut text = serde_json::to_string_pretty(v).context("encode json")?;
    text.push('\n');
    print(&text)
}

fn print(text: &str) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("write to stdout")?;
    Ok(0)
}

/// A warning (a failed poststart or poststop hook) goes to `--log` only: the command
/// succeeded, so stderr stays empty.
fn log_warning(global: &GlobalArgs, msg: &str) {
    log_line(global, "warning", msg);
}

pub(crate) fn log_error(global: &GlobalArgs, msg: &str) {
    log_line(global, "error", msg);
}

/// Append one line for `msg` to `--log`. A log whose directory is gone (the engine's
/// cleanup removed the bundle first) is not an error: the message still reaches stderr.
fn log_line(global: &GlobalArgs, level: &str, msg: &str) {
    let Some(path) = &global.log else {
        return;
    };
    let time = state::rfc3339_utc_now();
    let line = match global.log_format {
        LogFormat::Json => {
            let mut l = serde_json::json!({"level": level, "msg": msg, "time": time}).to_string();
            l.push('\n');
            l
        }
        LogFormat::Text => format!("time={time:?} level={level} msg={msg:?}\n"),
    };
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
    {
        let _ = f.write_all(line.as_bytes());
    }
}

#[cfg(test)]
mod tests;
