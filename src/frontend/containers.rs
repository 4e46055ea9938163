//! The Docker-style commands on containers that outlive the command (`run -d`): `ps`,
//! `inspect`, `logs`, `stop`, `rm`. They read the OCI commands' state store (the global
//! `--root`), and find a container by its id, its name or a unique prefix of its id
//! (`Store::find`); an unknown one is one line and 125.
//!
//! Nothing here waits behind another command's lock to read: listings `peek` the
//! records (each saved whole by a rename), so `ps` answers while a `stop` is at work.

use crate::error::{Failure, fail};
use crate::host::Roots;
use crate::runtime::detach::{self, Detach};
use crate::spec::{ContainerSpec, Root};
use crate::state::{self, Record, Status, Store};
use anyhow::{Context, Result};
use clap::Args;
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

pub const INSPECT_EXAMPLES: &str = "Examples:\n  \
gocker inspect web                    # [{\"Id\": ..., \"State\": {\"Status\": \"running\", ...}, ...}]\n  \
gocker inspect 3f2a web2              # an id prefix works too; one array for all\n\n\
Exit status: 0; 125 if a container is unknown (the others are still printed).";

pub const LOGS_EXAMPLES: &str = "Examples:\n  \
gocker logs web              # everything it wrote, stdout and stderr as they came\n  \
gocker logs --tail 5 web     # the last 5 lines\n  \
gocker logs -f web           # and then what it writes, until it exits";

pub const STOP_EXAMPLES: &str = "Examples:\n  \
gocker stop web              # SIGTERM, then SIGKILL after 10 seconds\n  \
gocker stop -t 0 web         # SIGKILL at once\n\n\
Returns once the container's exit is recorded (gocker ps -a shows the code).";

pub const RM_EXAMPLES: &str = "Examples:\n  \
gocker rm web                # a stopped container: state, layer, log, cgroup, name\n  \
gocker rm -f web             # a running one: killed first\n  \
gocker rm $(gocker ps -aq)   # every container";

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Containers: ids, names or unique id prefixes
    #[arg(value_name = "CONTAINER", required = true)]
    pub ids: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// Keep printing what the container writes, until it exits
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Only the last N lines ("all": everything)
    #[arg(short = 'n', long, value_name = "N", default_value = "all")]
    pub tail: String,
    /// The container: its id, its name, or a unique prefix of its id
    #[arg(value_name = "CONTAINER")]
    pub id: String,
}

#[derive(Args, Debug)]
pub struct StopArgs {
    /// Seconds to wait after SIGTERM before SIGKILL
    #[arg(
        short = 't',
        long = "time",
        value_name = "SECONDS",
        default_value_t = 10
    )]
    pub time: u64,
    /// Containers: ids, names or unique id prefixes
    #[arg(value_name = "CONTAINER", required = true)]
    pub ids: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// Remove running containers too (killed first)
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Containers: ids, names or unique id prefixes
    #[arg(value_name = "CONTAINER", required = true)]
    pub ids: Vec<String>,
}

/// `run -d`: the container started in the background; its id on stdout.
pub fn run_detached(
    spec: &ContainerSpec,
    roots: &Roots,
    root: &Path,
    name: Option<String>,
    auto_remove: bool,
    interactive: bool,
) -> Result<i32> {
    // The monitor leaves the caller's directory: a relative --root would lose its way.
    let root =
        std::path::absolute(root).with_context(|| format!("state directory {}", root.display()))?;
    let store = Store::open(&root)?;
    let d = Detach {
        name,
        auto_remove,
        interactive,
    };
    let id = detach::run_detached(spec, roots, &store, &d)?;
    print(&format!("{id}\n"))
}

/// `ps` without an id: the containers of the store, one line (or object) each.
pub fn ps(root: &Path, all: bool, quiet: bool, format: &str) -> Result<i32> {
    if !matches!(format, "table" | "json") {
        fail(
            Failure::Usage,
            format!("ps --format {format}: use table or json"),
        )?;
    }
    let store = Store::open(root)?;
    store.sweep();
    let now = SystemTime::now();
    let mut rows = Vec::new();
    for id in store.list()? {
        // Removed since the listing, or half-written by a tool other than gocker.
        let Ok(r) = store.peek(&id) else { continue };
        let r = settled(&store, r);
        let status = r.status();
        if !all && !matches!(status, Status::Running | Status::Paused) {
            continue;
        }
        rows.push((r, status));
    }
    // Newest first, as Docker lists them.
    rows.sort_by(|a, b| b.0.created.cmp(&a.0.created));
    if quiet {
        let out: String = rows
            .iter()
            .map(|(r, _)| format!("{}\n", state::short(&r.id)))
            .collect();
        return print(&out);
    }
    if format == "json" {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(r, s)| {
                serde_json::json!({
                    "Id": r.id,
                    "Name": r.name.clone().unwrap_or_default(),
                    "Command": command_line(&r.spec),
                    "Created": r.created,
                    "State": s.as_str(),
                    "Status": status_text(r, *s, now),
                    "ExitCode": r.exit_code,
                    "Pid": if *s == Status::Stopped { 0 } else { r.pid },
                    "Limits": limits_json(&r.spec),
                })
            })
            .collect();
        let mut text = serde_json::to_string_pretty(&v).context("encode json")?;
        text.push('\n');
        return print(&text);
    }
    let mut table = vec![[
        "CONTAINER ID".to_string(),
        "NAME".to_string(),
        "COMMAND".to_string(),
        "CREATED".to_string(),
        "STATUS".to_string(),
        "LIMITS".to_string(),
    ]];
    for (r, s) in &rows {
        let created = state::parse_rfc3339_utc(&r.created)
            .map_or_else(|| r.created.clone(), |t| format!("{} ago", ago(now, t)));
        table.push([
            state::short(&r.id).to_string(),
            r.name.clone().unwrap_or_default(),
            ellipsize(&format!("\"{}\"", command_line(&r.spec)), 24),
            created,
            status_text(r, *s, now),
            limits_text(&r.spec),
        ]);
    }
    print(&render_table(&table))
}

/// Columns padded to their widest cell, three spaces apart (Docker's layout).
fn render_table(rows: &[[String; 6]]) -> String {
    let mut widths = [0usize; 6];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i] - cell.chars().count() + 3;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The command as one line, each argument lossily UTF-8 (a listing, not a shell line).
fn command_line(spec: &ContainerSpec) -> String {
    spec.process
        .argv
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

fn ellipsize(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max - 1).collect();
    t.push('…');
    t
}

/// "Up 3 seconds", "Exited (0) 2 minutes ago", "Created", as Docker words them.
fn status_text(r: &Record, s: Status, now: SystemTime) -> String {
    let since = |t: &Option<String>| {
        t.as_deref()
            .and_then(state::parse_rfc3339_utc)
            .map(|t| ago(now, t))
    };
    match s {
        Status::Created => "Created".into(),
        Status::Running => format!(
            "Up {}",
            since(&r.started).unwrap_or_else(|| "a moment".into())
        ),
        Status::Paused => format!(
            "Up {} (Paused)",
            since(&r.started).unwrap_or_else(|| "a moment".into())
        ),
        Status::Stopped => match (r.exit_code, since(&r.finished)) {
            (Some(c), Some(t)) => format!("Exited ({c}) {t} ago"),
            (Some(c), None) => format!("Exited ({c})"),
            // Its monitor was killed, or `gocker create` made it: no status was recorded.
            (None, _) if r.monitor_pid == 0 && r.pid == 0 => "Created".into(),
            (None, _) => "Exited (unknown)".into(),
        },
    }
}

/// Docker's rounding of a duration ("Less than a second", "About a minute", "3 hours").
fn ago(now: SystemTime, then: SystemTime) -> String {
    let secs = now.duration_since(then).unwrap_or_default().as_secs();
    let plural = |n: u64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    match secs {
        0 => "Less than a second".into(),
        1..=59 => plural(secs, "second"),
        60..=119 => "About a minute".into(),
        120..=3599 => plural(secs / 60, "minute"),
        3600..=7199 => "About an hour".into(),
        7200..=172_799 => plural(secs / 3600, "hour"),
        172_800..=1_209_599 => plural(secs / 86_400, "day"),
        1_209_600..=5_183_999 => plural(secs / 604_800, "week"),
        5_184_000..=63_071_999 => plural(secs / 2_592_000, "month"),
        _ => plural(secs / 31_536_000, "year"),
    }
}

/// `cpus=0.5 mem=64MiB pids=50`, or `-` with no limit.
fn limits_text(spec: &ContainerSpec) -> String {
    let l = &spec.limits;
    let mut parts = Vec::new();
    if let Some(c) = l.cpu {
        parts.push(format!("cpus={}", cpus(c.quota_us, c.period_us)));
    }
    if let Some(m) = l.memory_bytes {
        parts.push(if m % (1 << 20) == 0 {
            format!("mem={}MiB", m >> 20)
        } else {
            format!("mem={m}B")
        });
    }
    if let Some(p) = l.pids {
        parts.push(format!("pids={p}"));
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(" ")
    }
}

fn cpus(quota: u64, period: u64) -> String {
    if period == 0 {
        return "?".into();
    }
    let v = quota as f64 / period as f64;
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn limits_json(spec: &ContainerSpec) -> serde_json::Value {
    let l = &spec.limits;
    serde_json::json!({
        "NanoCpus": l.cpu.map_or(0, |c| (c.quota_us.saturating_mul(1_000_000_000)).checked_div(c.period_us).unwrap_or(0)),
        "Memory": l.memory_bytes.unwrap_or(0),
        "PidsLimit": l.pids.unwrap_or(0),
    })
}

/// Docker's inspect, in the parts gocker has.
fn inspect_json(r: &Record) -> serde_json::Value {
    let s = r.status();
    let rootfs = match &r.spec.root {
        Root::Dir(p) | Root::Overlay(p) => p.display().to_string(),
        Root::HostView => String::new(),
    };
    let env: Vec<String> = r
        .spec
        .process
        .env
        .iter()
        .map(|e| e.to_string_lossy().into_owned())
        .collect();
    let argv: Vec<String> = r
        .spec
        .process
        .argv
        .iter()
        .map(|e| e.to_string_lossy().into_owned())
        .collect();
    let limits = limits_json(&r.spec);
    serde_json::json!({
        "Id": r.id,
        "Name": r.name.clone().unwrap_or_default(),
        "Created": r.created,
        "State": {
            "Status": match s { Status::Stopped => "exited", other => other.as_str() },
            "Running": matches!(s, Status::Running | Status::Paused),
            "Paused": s == Status::Paused,
            "Pid": if s == Status::Stopped { 0 } else { r.pid },
            "ExitCode": r.exit_code.unwrap_or(0),
            "StartedAt": r.started.clone().unwrap_or_default(),
            "FinishedAt": r.finished.clone().unwrap_or_default(),
        },
        "Config": {
            "Cmd": argv,
            "Env": env,
            "Hostname": r.spec.hostname,
            "WorkingDir": r.spec.process.cwd.display().to_string(),
        },
        "HostConfig": {
            "Memory": limits["Memory"],
            "NanoCpus": limits["NanoCpus"],
            "PidsLimit": limits["PidsLimit"],
            "AutoRemove": r.auto_remove,
        },
        "Rootfs": rootfs,
        "RootfsMode": match &r.spec.root {
            Root::Dir(_) => "rw",
            Root::Overlay(_) => "overlay",
            Root::HostView => "host-view",
        },
        "Layer": r.layer.as_ref().map(|p| p.display().to_string()),
        "LogPath": r.log.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
        "CgroupDirs": r.cgroup_dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>(),
    })
}

/// The record once its monitor caught up: an init that just exited is recorded within
/// moments, and a listing should show its exit code, not "exited" without one.
fn settled(store: &Store, r: Record) -> Record {
    let pending =
        |r: &Record| r.exit_code.is_none() && r.monitor_alive() && r.status() == Status::Stopped;
    if !pending(&r) {
        return r;
    }
    let deadline = std::time::Instant::now() + Duration::from_millis(500);
    let mut r = r;
    while pending(&r) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
        match store.peek(&r.id) {
            Ok(now) => r = now,
            Err(_) => break,
        }
    }
    r
}

/// Run `each` on every container named, reporting failures one line each on stderr;
/// 125 if any failed (after trying all, as Docker does).
fn for_each(ids: &[String], mut each: impl FnMut(&str) -> Result<()>) -> Result<i32> {
    let mut failed = None;
    for id in ids {
        if let Err(e) = each(id) {
            if ids.len() == 1 {
                return Err(e);
            }
            eprintln!("gocker: {}", crate::error::one_line(&e));
            failed = Some(crate::error::exit_code_of(&e));
        }
    }
    Ok(failed.unwrap_or(0))
}

pub fn inspect(args: &InspectArgs, root: &Path) -> Result<i32> {
    let store = Store::open(root)?;
    let mut found = Vec::new();
    let mut failed = false;
    for id in &args.ids {
        match store.find(id) {
            Ok(r) => found.push(inspect_json(&settled(&store, r))),
            Err(e) => {
                eprintln!("gocker: {}", crate::error::one_line(&e));
                failed = true;
            }
        }
    }
    let mut text = serde_json::to_string_pretty(&found).context("encode json")?;
    text.push('\n');
    print(&text)?;
    Ok(if failed { 125 } else { 0 })
}

pub fn logs(args: &LogsArgs, root: &Path) -> Result<i32> {
    let store = Store::open(root)?;
    let record = store.find(&args.id)?;
    let tail: Option<usize> = match args.tail.as_str() {
        "all" => None,
        n => Some(n.parse().map_err(|_| {
            Failure::Usage.with(format!("logs --tail {n}: give a number of lines, or all"))
        })?),
    };
    let Some(path) = &record.log else {
        return fail(
            Failure::Usage,
            format!(
                "container {} has no log: only run -d keeps one (gocker create's output went to its engine)",
                state::short(&record.id)
            ),
        );
    };
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        // Removed meanwhile (`rm`, or its --rm): as if the id were unknown.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(state::does_not_exist(&args.id));
        }
        Err(e) => Err(e).with_context(|| format!("open log {}", path.display()))?,
    };
    let mut out = std::io::stdout().lock();
    let mut text = Vec::new();
    file.read_to_end(&mut text)
        .with_context(|| format!("read log {}", path.display()))?;
    let start = tail.map_or(0, |n| tail_start(&text, n));
    out.write_all(&text[start..])
        .and_then(|()| out.flush())
        .context("write to stdout")?;
    if !args.follow {
        return Ok(0);
    }
    // Following: what was appended since, every 50 ms, until the exit is recorded (or
    // its monitor gone), then whatever came last.
    let mut pos = file
        .stream_position()
        .with_context(|| format!("read log {}", path.display()))?;
    loop {
        let done = match store.peek(&record.id) {
            Ok(r) => r.status() == Status::Stopped && (r.exit_code.is_some() || !r.monitor_alive()),
            Err(_) => true,
        };
        let mut chunk = Vec::new();
        file.seek(std::io::SeekFrom::Start(pos))
            .and_then(|_| file.read_to_end(&mut chunk))
            .with_context(|| format!("read log {}", path.display()))?;
        pos += chunk.len() as u64;
        if !chunk.is_empty() {
            // The reader went away (`logs -f | head`): done, not a failure.
            if out.write_all(&chunk).and_then(|()| out.flush()).is_err() {
                return Ok(0);
            }
        }
        if done {
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Where the last `n` lines of `text` begin (a last line without its newline counts).
fn tail_start(text: &[u8], n: usize) -> usize {
    if n == 0 {
        return text.len();
    }
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    let mut seen = 0;
    for (i, &b) in body.iter().enumerate().rev() {
        if b == b'\n' {
            seen += 1;
            if seen == n {
                return i + 1;
            }
        }
    }
    0
}

pub fn stop(args: &StopArgs, root: &Path) -> Result<i32> {
    let store = Store::open(root)?;
    let code = for_each(&args.ids, |id| {
        let record = store.find(id)?;
        detach::stop(&store, &record, Duration::from_secs(args.time))?;
        print(&format!("{id}\n")).map(drop)
    })?;
    Ok(code)
}

pub fn rm(args: &RmArgs, root: &Path, roots: &Roots) -> Result<i32> {
    let store = Store::open(root)?;
    store.sweep();
    for_each(&args.ids, |id| {
        let found = match store.find(id) {
            Ok(r) => r,
            // A directory without a record: its creator was killed before saving one.
            Err(e) if args.force && state::is_does_not_exist(&e) && store.remove_unrecorded(id) => {
                return print(&format!("{id}\n")).map(drop);
            }
            Err(e) => return Err(e),
        };
        let entry = store.open_entry(&found.id)?;
        // Under the lock now: the record as it is, not as the listing saw it.
        let record = entry.load()?;
        detach::remove(&store, roots, entry, &record, args.force)?;
        print(&format!("{id}\n")).map(drop)
    })
}

fn print(text: &str) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("write to stdout")?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn ago_rounds_as_docker_does() {
        let t = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let at = |s| ago(t + Duration::from_secs(s), t);
        assert_eq!(at(0), "Less than a second");
        assert_eq!(at(1), "1 second");
        assert_eq!(at(59), "59 seconds");
        assert_eq!(at(90), "About a minute");
        assert_eq!(at(180), "3 minutes");
        assert_eq!(at(4000), "About an hour");
        assert_eq!(at(3 * 3600), "3 hours");
        assert_eq!(at(3 * 86_400), "3 days");
        // A clock that went backwards is not a panic.
        assert_eq!(ago(t, t + Duration::from_secs(5)), "Less than a second");
    }

    #[test]
    fn tail_counts_lines_from_the_end() {
        assert_eq!(&b"a\nb\nc\n"[tail_start(b"a\nb\nc\n", 2)..], b"b\nc\n");
        assert_eq!(&b"a\nb\nc"[tail_start(b"a\nb\nc", 1)..], b"c");
        assert_eq!(tail_start(b"a\nb\n", 5), 0);
        assert_eq!(tail_start(b"a\nb\n", 0), 4);
        assert_eq!(tail_start(b"", 3), 0);
    }

    #[test]
    fn cpus_are_short_decimals() {
        assert_eq!(cpus(50_000, 100_000), "0.5");
        assert_eq!(cpus(100_000, 100_000), "1");
        assert_eq!(cpus(150_000, 100_000), "1.5");
        assert_eq!(cpus(1, 0), "?");
    }

    #[test]
    fn table_columns_line_up() {
        let row = |a: &str, b: &str| [a, b, "c", "d", "e", "f"].map(String::from);
        let t = render_table(&[row("ID", "NAME"), row("abc", "x")]);
        assert_eq!(
            t,
            "ID    NAME   c   d   e   f\nabc   x      c   d   e   f\n"
        );
    }
}
