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

/// How long a container whose terminal's reader went away gets, after SIGHUP, before it
/// is killed: nothing it writes can be seen any more, and gocker must not wait forever.
const HANGUP_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// Wait for the container to exit, forwarding signals and (with -t) relaying the
/// terminal. The handled signals are blocked by the caller, so they arrive here only.
pub fn supervise(
    pid: sys::pid_t,
    mut master: Option<OwnedFd>,
    stdin: bool,
) -> Result<sys::WaitStatus> {
    let sigfd = sys::signalfd(&sys::SigSet::of(&super::HANDLED)).context("create signalfd")?;
    let _raw = match (&master, stdin) {
        (Some(_), true) => Some(RawTerminal::enter(STDIN)),
        _ => None,
    };
    let mut relay_in = master.is_some() && stdin;
    let mut relay_out = master.is_some();
    // The last byte sent to the terminal: at end of input, one EOF character ends a read
    // at the start of a line; after a partial line the first one only submits it.
    let mut last_in = b'\n';
    let mut kill_at: Option<std::time::Instant> = None;
    // A child that exited before the signalfd existed sent its SIGCHLD already (blocked,
    // so pending: signalfd reports it), but check anyway: waitpid is cheap.
    loop {
        if let Some(st) = sys::waitpid(pid, true).context("wait for the container")? {
            if let Some(m) = &master {
                drain(m.as_raw_fd());
            }
            return Ok(st);
        }
        let timeout = match kill_at {
            Some(t) if std::time::Instant::now() >= t => {
                let _ = sys::kill(pid, libc::SIGKILL);
                kill_at = None;
                -1
            }
            Some(t) => {
                t.saturating_duration_since(std::time::Instant::now())
                    .as_millis()
                    .min(i32::MAX as u128) as i32
                    + 1
            }
            None => -1,
        };
        let mut fds = vec![sigfd.as_raw_fd()];
        if let Some(m) = &master {
            if relay_out {
                fds.push(m.as_raw_fd());
            }
            if relay_in {
                fds.push(STDIN);
            }
        }
        let ready = sys::poll_readable_for(&fds, timeout).context("poll")?;
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
        let Some(m) = master.as_ref().map(|m| m.as_raw_fd()) else {
            continue;
        };
        let mut i = 1;
        if relay_out {
            if ready[i] {
                match copy(m, STDOUT) {
                    Copied::Some(_) => {}
                    Copied::End => relay_out = false,
                    Copied::WriteFailed => {
                        // Our reader went away (`gocker run -t … | head -1`). As when a
                        // terminal hangs up: the master is closed (the container's writes
                        // fail with EIO), SIGHUP is sent, and after a grace SIGKILL, so
                        // that gocker itself never hangs.
                        master = None;
                        relay_in = false;
                        relay_out = false;
                        let _ = sys::kill(pid, libc::SIGHUP);
                        kill_at = Some(std::time::Instant::now() + HANGUP_GRACE);
                        continue;
                    }
                }
            }
            i += 1;
        }
        if relay_in && ready.get(i).copied().unwrap_or(false) {
            match copy(STDIN, m) {
                Copied::Some(b) => last_in = b,
                Copied::End => {
                    // End of our input: pass it on as the terminal's EOF character, so a
                    // program reading the terminal sees end of file (`echo hi | gocker
                    // run -it … cat` ends).
                    let eof = sys::eof_char(m);
                    let n = if last_in == b'\n' { 1 } else { 2 };
                    let _ = sys::write_all(m, &vec![eof; n]);
                    relay_in = false;
                }
                Copied::WriteFailed => relay_in = false,
            }
        }
    }
}

enum Copied {
    /// Copied; the last byte.
    Some(u8),
    /// End of input, or a read error (EIO: the terminal's other side closed).
    End,
    WriteFailed,
}

fn copy(from: RawFd, to: RawFd) -> Copied {
    let mut buf = [0u8; 4096];
    match sys::read(from, &mut buf) {
        Ok(0) | Err(_) => Copied::End,
        Ok(n) => match sys::write_all(to, &buf[..n]) {
            Ok(()) => Copied::Some(buf[n - 1]),
            Err(_) => Copied::WriteFailed,
        },
    }
}

/// Output the container wrote just before it exited.
fn drain(master: RawFd) {
    while let Ok(r) = sys::poll_ready_now(master) {
        if !r || !matches!(copy(master, STDOUT), Copied::Some(_)) {
            break;
        }
    }
}
