//! The parent/child handshake, as two pipes with ends named by purpose.
//!
//! `ready`: the parent writes one byte when its share of the setup is done (bringing up
//! `lo` in the container's network namespace, which it does while the child builds the
//! root). Until then a hang-up means the parent died: that also covers the window between
//! clone and PR_SET_PDEATHSIG, in which a parent's death would go unnoticed.
//! `report`: the child's setup errors, or EOF when execve succeeded (the write end is
//! close-on-exec), so the parent knows whether the command started.
//! `console` (with -t only): a socket pair over which the child sends the master of the
//! pseudo-terminal it opened in the container's own devpts, the way an OCI runtime hands
//! a console to its caller.

use crate::error::Failure;
use crate::sys;
use anyhow::{Context, Result};
use std::os::fd::{AsRawFd, OwnedFd};

/// The parent's ends.
pub struct ParentEnds {
    ready: Option<OwnedFd>,
    report: OwnedFd,
    console: Option<OwnedFd>,
}

/// The child's ends.
pub struct ChildEnds {
    ready: OwnedFd,
    report: OwnedFd,
    console: Option<OwnedFd>,
    /// Past `report_gated`: the parent (`gocker create`) is gone, nobody reads `report`.
    gated: std::cell::Cell<bool>,
}

pub fn channels(terminal: bool) -> Result<(ParentEnds, ChildEnds)> {
    let (ready_r, ready_w) = sys::pipe().context("create sync pipe")?;
    let (rep_r, rep_w) = sys::pipe().context("create report pipe")?;
    let (console_p, console_c) = if terminal {
        let (p, c) = sys::socketpair().context("create console socket pair")?;
        (Some(p), Some(c))
    } else {
        (None, None)
    };
    Ok((
        ParentEnds {
            ready: Some(ready_w),
            report: rep_r,
            console: console_p,
        },
        ChildEnds {
            ready: ready_r,
            report: rep_w,
            console: console_c,
            gated: std::cell::Cell::new(false),
        },
    ))
}

impl ParentEnds {
    /// Tell the child the parent's part is done.
    pub fn signal_ready(&self) -> Result<()> {
        let fd = self.ready.as_ref().map_or(-1, |f| f.as_raw_fd());
        sys::write_all(fd, b"r").context("tell the container to go on")
    }

    /// Give up on the child: it sees `ready` hang up and exits without a report.
    pub fn give_up(&mut self) {
        self.ready = None;
    }

    /// The master of the container's terminal (-t), once the child has opened it; None
    /// when the child failed first (its report says why).
    pub fn receive_console(&mut self) -> Result<Option<OwnedFd>> {
        match self.console.take() {
            Some(sock) => sys::recv_fd(&sock).context("receive the container's terminal"),
            None => Ok(None),
        }
    }

    /// `create`: wait until the child waits at its exec gate (Ok) or reported why it
    /// could not get there. The report's end stays with the child, which may still fail
    /// after this (at exec, once started), but then tells its own stderr, not us.
    pub fn wait_created(&self) -> Result<()> {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 512];
        loop {
            match sys::read(self.report.as_raw_fd(), &mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    if buf == [GATED] {
                        return Ok(());
                    }
                }
                Err(e) => return Err(e).context("read the container's start report"),
            }
        }
        if buf.is_empty() {
            // EOF without the byte: the child exec'd, which it never does before its gate.
            return Err(Failure::Host.with("the container's init went past its exec gate"));
        }
        report_error(&buf)
    }

    /// Wait until the child has exec'd its command (Ok) or reported why it could not.
    /// `ready` stays open: the container's PID 1 is our child until it exits.
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
        report_error(&buf)
    }
}

/// The byte a `create`d child writes on `report` when it waits at its exec gate; a
/// report of an error starts with its exit code's digits, so the two cannot be confused.
const GATED: u8 = b'g';

/// A child's report, `CODE\nMESSAGE`, as the error it stands for.
fn report_error(buf: &[u8]) -> Result<()> {
    let text = String::from_utf8_lossy(buf);
    let (code, msg) = text.split_once('\n').unwrap_or(("125", &text));
    let code: i32 = code.parse().unwrap_or(125);
    Err(Failure::from_code(code).with(msg.to_string()))
}

impl ChildEnds {
    /// Whether the parent is still there (its end of `ready` is open). Does not block.
    pub fn parent_alive(&self) -> bool {
        !sys::hung_up(self.ready.as_raw_fd()).unwrap_or(true)
    }

    /// Wait for the parent's part of the setup; false if the parent died or gave up.
    pub fn wait_parent_ready(&self) -> bool {
        let mut b = [0u8; 1];
        matches!(sys::read(self.ready.as_raw_fd(), &mut b), Ok(1))
    }

    /// Hand the master of the container's terminal to the parent.
    pub fn send_console(&self, master: &OwnedFd) -> Result<()> {
        let sock = self
            .console
            .as_ref()
            .context("no console socket without -t")?;
        sys::send_fd(sock, master).context("send the terminal to gocker")
    }

    /// `create`: tell the parent the init waits at its exec gate; from here on, errors go
    /// to the container's stderr.
    pub fn report_gated(&self) -> Result<()> {
        sys::write_all(self.report.as_raw_fd(), &[GATED]).context("tell gocker create we wait")?;
        self.gated.set(true);
        Ok(())
    }

    /// Tell the parent why the container could not start, then exit.
    pub fn report_and_exit(&self, code: i32, msg: &str) -> ! {
        if self.gated.get() {
            // Started by `gocker start`: the container's stderr is the engine's.
            let _ = sys::write_all(2, format!("gocker: {msg}\n").as_bytes());
            sys::exit_now(code)
        }
        let _ = sys::write_all(self.report.as_raw_fd(), format!("{code}\n{msg}").as_bytes());
        sys::exit_now(code)
    }
}
