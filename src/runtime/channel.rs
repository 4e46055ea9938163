//! The parent/child handshake, as two pipes with ends named by purpose.
//!
//! `go`: the parent releases the child once the child is in its cgroup (v1 attaches it
//! after clone; the command must not start before). EOF instead of a byte means the
//! parent died, and the child quits.
//! `report`: the child's setup errors, or EOF when execve succeeded (the write end is
//! close-on-exec), so the parent knows whether the command started.

use crate::error::Failure;
use crate::sys;
use anyhow::{Context, Result};
use std::os::fd::{AsRawFd, OwnedFd};

/// The parent's ends.
pub struct ParentEnds {
    go: OwnedFd,
    report: OwnedFd,
}

/// The child's ends.
pub struct ChildEnds {
    go: OwnedFd,
    report: OwnedFd,
}

pub fn channels() -> Result<(ParentEnds, ChildEnds)> {
    let (go_r, go_w) = sys::pipe().context("create sync pipe")?;
    let (rep_r, rep_w) = sys::pipe().context("create report pipe")?;
    Ok((
        ParentEnds {
            go: go_w,
            report: rep_r,
        },
        ChildEnds {
            go: go_r,
            report: rep_w,
        },
    ))
}

impl ParentEnds {
    /// Let the child continue.
    pub fn release(&self) -> Result<()> {
        sys::write_all(self.go.as_raw_fd(), b"g").context("release the container process")
    }

    /// Wait until the child has exec'd its command (Ok) or reported why it could not.
    pub fn wait_started(self) -> Result<()> {
        drop(self.go);
        let mut buf = Vec::new();
        let mut chunk = [0u8; 512];
        loop {
            match sys::read(self.report.as_raw_fd(), &mut chunk) {
                Ok(0) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(e).context("read the container's start report"),
            }
        }
        if buf.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&buf);
        let (code, msg) = text.split_once('\n').unwrap_or(("125", &text));
        let code: i32 = code.parse().unwrap_or(125);
        Err(Failure::from_code(code).with(msg.to_string()))
    }
}

impl ChildEnds {
    /// Block until the parent says go; false if it died instead.
    pub fn wait_for_go(&self) -> bool {
        let mut b = [0u8; 1];
        matches!(sys::read(self.go.as_raw_fd(), &mut b), Ok(1))
    }

    /// Tell the parent why the container could not start, then exit.
    pub fn report_and_exit(&self, code: i32, msg: &str) -> ! {
        let _ = sys::write_all(self.report.as_raw_fd(), format!("{code}\n{msg}").as_bytes());
        sys::exit_now(code)
    }
}
