//! The parent/child handshake, as two pipes with ends named by purpose.
//!
//! `alive`: the parent holds the write end and never writes; when the parent dies, the
//! kernel closes it and the child sees the pipe hang up. That closes the window between
//! clone and PR_SET_PDEATHSIG, in which a parent's death would go unnoticed.
//! `report`: the child's setup errors, or EOF when execve succeeded (the write end is
//! close-on-exec), so the parent knows whether the command started.

use crate::error::Failure;
use crate::sys;
use anyhow::{Context, Result};
use std::os::fd::{AsRawFd, OwnedFd};

/// The parent's ends.
pub struct ParentEnds {
    alive: OwnedFd,
    report: OwnedFd,
}

/// The child's ends.
pub struct ChildEnds {
    alive: OwnedFd,
    report: OwnedFd,
}

pub fn channels() -> Result<(ParentEnds, ChildEnds)> {
    let (alive_r, alive_w) = sys::pipe().context("create sync pipe")?;
    let (rep_r, rep_w) = sys::pipe().context("create report pipe")?;
    Ok((
        ParentEnds {
            alive: alive_w,
            report: rep_r,
        },
        ChildEnds {
            alive: alive_r,
            report: rep_w,
        },
    ))
}

impl ParentEnds {
    /// Wait until the child has exec'd its command (Ok) or reported why it could not.
    /// `alive` stays open: the container's PID 1 is our child until it exits.
    pub fn wait_started(&self) -> Result<()> {
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
    /// Whether the parent is still there (its end of `alive` is open). Does not block.
    pub fn parent_alive(&self) -> bool {
        !sys::hung_up(self.alive.as_raw_fd()).unwrap_or(true)
    }

    /// Tell the parent why the container could not start, then exit.
    pub fn report_and_exit(&self, code: i32, msg: &str) -> ! {
        let _ = sys::write_all(self.report.as_raw_fd(), format!("{code}\n{msg}").as_bytes());
        sys::exit_now(code)
    }
}
