//! The OCI lifecycle hooks of a bundle, run by `create`, `start` and `delete` in the
//! runtime's own namespaces, each with the container's state JSON on its stdin.
//!
//! createRuntime (and the deprecated prestart before it, as runc does) run once the
//! container's init exists and waits at its exec gate: later than the spec's "before
//! pivot_root", since gocker's init pivots before it reports. A failing one fails
//! `create`. poststart runs after `start`, poststop after `delete`; their failures are
//! only warned about, as the spec says.

use crate::error::{Failure, fail};
use crate::spec::Hook;
use anyhow::{Context, Result};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Run each hook in order, stopping at the first that fails.
pub fn run_all(which: &str, hooks: &[Hook], state: &serde_json::Value) -> Result<()> {
    for (i, h) in hooks.iter().enumerate() {
        run_one(h, state).with_context(|| format!("hooks.{which}[{i}] {}", h.path.display()))?;
    }
    Ok(())
}

fn run_one(h: &Hook, state: &serde_json::Value) -> Result<()> {
    let mut c = Command::new(&h.path);
    if let Some((arg0, rest)) = h.args.split_first() {
        std::os::unix::process::CommandExt::arg0(&mut c, arg0);
        c.args(rest);
    }
    c.env_clear()
        .envs(h.env.iter().filter_map(|kv| {
            let b = std::os::unix::ffi::OsStrExt::as_bytes(kv.as_os_str());
            let i = b.iter().position(|&x| x == b'=')?;
            Some((
                std::ffi::OsStr::new(std::str::from_utf8(&b[..i]).ok()?),
                std::ffi::OsStr::new(std::str::from_utf8(&b[i + 1..]).ok()?),
            ))
        }))
        .stdin(Stdio::piped())
        // Nothing of a hook's may reach the engine's parsers on stdout.
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = c.spawn().context("start")?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin is no error.
        let _ = stdin.write_all(state.to_string().as_bytes());
    }
    let deadline = h
        .timeout_secs
        .map(|t| Instant::now() + Duration::from_secs(t.into()));
    let status = loop {
        if let Some(st) = child.try_wait().context("wait")? {
            break st;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill();
            let _ = child.wait();
            fail(
                Failure::Host,
                format!("timed out after {}s", h.timeout_secs.unwrap_or(0)),
            )?;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    if status.success() {
        return Ok(());
    }
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    let how = match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (_, Some(s)) => format!("killed by signal {s}"),
        _ => "failed".to_string(),
    };
    fail(
        Failure::Host,
        format!(
            "{how}{}",
            if err.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", err.trim())
            }
        ),
    )
}
