//! Signal names and numbers for `kill`: the engines send numbers (`15`, `9`), people and
//! runtime-tools send names (`KILL`, `SIGTERM`).

use crate::error::{Failure, fail};
use anyhow::Result;

/// Linux's signal numbers (signal(7)), without the `SIG` prefix.
const SIGNALS: [(&str, i32); 31] = [
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("STKFLT", libc::SIGSTKFLT),
    ("CHLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("PWR", libc::SIGPWR),
    ("SYS", libc::SIGSYS),
];

/// `15`, `TERM`, `SIGTERM`, `sigterm`, and the real-time `RTMIN+N` / `RTMAX-N`.
pub fn parse(s: &str) -> Result<i32> {
    let bad = || {
        fail::<i32>(
            Failure::Usage,
            format!("invalid signal {s:?}: give a number (15) or a name (TERM, SIGKILL)"),
        )
    };
    if let Ok(n) = s.parse::<i32>() {
        return if (1..=libc::SIGRTMAX()).contains(&n) {
            Ok(n)
        } else {
            bad()
        };
    }
    let up = s.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    if let Some((_, n)) = SIGNALS.iter().find(|(n, _)| *n == name) {
        return Ok(*n);
    }
    let rt = |base: i32, rest: &str, sign: i32| -> Option<i32> {
        let off: i32 = if rest.is_empty() {
            0
        } else {
            rest.parse().ok()?
        };
        let n = base + sign * off;
        (libc::SIGRTMIN()..=libc::SIGRTMAX())
            .contains(&n)
            .then_some(n)
    };
    let found = if let Some(r) = name.strip_prefix("RTMIN") {
        rt(libc::SIGRTMIN(), r.strip_prefix('+').unwrap_or(r), 1)
    } else if let Some(r) = name.strip_prefix("RTMAX") {
        rt(libc::SIGRTMAX(), r.strip_prefix('-').unwrap_or(r), -1)
    } else {
        None
    };
    found.map_or_else(bad, Ok)
}
