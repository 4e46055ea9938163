//! gocker's side while the container runs: forward signals, relay the terminal, reap.

use crate::sys;
use anyhow::{Context, Result};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// Kills and reaps the child if gocker leaves early (an error after clone), so that no
/// container outlives a failed start.
pub struct ChildGuard {
    pid: sys::pid_t,
    live: bool,
}

impl ChildGuard {
    pub fn new(pid: sys::pid_t) -> ChildGuard {
        ChildGuard { pid, live: true }
    }

    pub fn reaped(&mut self) {
        self.live = false;
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.live {
            let _ = sys::kill(self.pid, libc::SIGKILL);
            let _ = sys::waitpid(self.pid, false);
        }
    }
}

const STDIN: RawFd = 0;
const STDOUT: RawFd = 1;

/// Our terminal in raw mode for the length of a -t session, restored on drop, so keys
/// like Ctrl-C reach the container's terminal instead of signalling gocker.
struct RawTerminal(Option<sys::Termios>);

impl RawTerminal {
    fn enter(fd: RawFd) -> RawTerminal {
        if !sys::isatty(fd) {
            return RawTerminal(None);
        }
        let Ok(saved) = sys::tcgetattr(fd) else {
            return RawTerminal(None);
        };
        let mut raw = saved;
        sys::make_raw(&mut raw);
        let _ = sys::tcsetattr(fd, &raw);
        RawTerminal(Some(saved))
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        if let Some(t) = &self.0 {
            let _ = sys::tcsetattr(STDIN, t);
        }
    }
}

/// Wait for the container to exit, forwarding signals and (with -t) relaying the
/// terminal. The handled signals are blocked by the caller, so they arrive here only.
pub fn supervise(pid: sys::pid_t, master: Option<OwnedFd>, stdin: bool) -> Result<sys::WaitStatus> {
    let sigfd = sys::signalfd(&sys::SigSet::of(&super::HANDLED)).context("create signalfd")?;
    let _raw = match (&master, stdin) {
        (Some(_), true) => Some(RawTerminal::enter(STDIN)),
        _ => None,
    };
    if let Some(m) = &master {
        let _ = sys::copy_winsize(STDIN, m.as_raw_fd());
    }
    let mut relay_in = master.is_some() && stdin;
    let mut relay_out = master.is_some();
    // A child that exited before the signalfd existed sent its SIGCHLD already (blocked,
    // so pending: signalfd reports it), but check anyway: waitpid is cheap.
    loop {
        if let Some(st) = sys::waitpid(pid, true).context("wait for the container")? {
            if let Some(m) = &master {
                drain(m.as_raw_fd());
            }
            return Ok(st);
        }
        let mut fds = vec![sigfd.as_raw_fd()];
        if let Some(m) = &master {
            if relay_out {
                fds.push(m.as_raw_fd());
            }
            if relay_in {
                fds.push(STDIN);
            }
        }
        let ready = sys::poll_readable(&fds).context("poll")?;
        if ready[0] {
            let sig = sys::read_signal(&sigfd).context("read signalfd")?;
            match sig {
                libc::SIGCHLD => {}
                libc::SIGWINCH => {
                    if let Some(m) = &master {
                        let _ = sys::copy_winsize(STDIN, m.as_raw_fd());
                    }
                }
                // The container may already be gone (ESRCH): waitpid above will tell.
                s => {
                    let _ = sys::kill(pid, s);
                }
            }
        }
        let Some(m) = &master else { continue };
        let mut i = 1;
        if relay_out {
            if ready[i] && !copy(m.as_raw_fd(), STDOUT) {
                relay_out = false;
            }
            i += 1;
        }
        if relay_in && ready.get(i).copied().unwrap_or(false) && !copy(STDIN, m.as_raw_fd()) {
            relay_in = false;
        }
    }
}

/// Copy one chunk; false at end of input or on error (EIO: the terminal's other side closed).
fn copy(from: RawFd, to: RawFd) -> bool {
    let mut buf = [0u8; 4096];
    match sys::read(from, &mut buf) {
        Ok(0) | Err(_) => false,
        Ok(n) => sys::write_all(to, &buf[..n]).is_ok(),
    }
}

/// Output the container wrote just before it exited.
fn drain(master: RawFd) {
    while let Ok(r) = sys::poll_ready_now(master) {
        if !r || !copy(master, STDOUT) {
            break;
        }
    }
}
