//! Errors and the exit codes they map to, the way Docker does it: 125 when gocker itself
//! failed (bad input included), 126 when the command cannot be invoked, 127 when it is not
//! found. Anything else is the container's own status.

use std::fmt;

/// Why gocker could not give the container's own status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The user's input was refused before anything was created.
    Usage,
    /// The host cannot do what was asked (missing controller, namespace or tool).
    Host,
    /// The command exists but cannot be executed.
    CannotInvoke,
    /// The command was not found in the container.
    NotFound,
}

impl Failure {
    pub fn exit_code(self) -> i32 {
        match self {
            Failure::Usage | Failure::Host => 125,
            Failure::CannotInvoke => 126,
            Failure::NotFound => 127,
        }
    }

    pub fn with(self, msg: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(Coded {
            failure: self,
            msg: msg.into(),
        })
    }

    pub fn from_code(code: i32) -> Failure {
        match code {
            126 => Failure::CannotInvoke,
            127 => Failure::NotFound,
            _ => Failure::Host,
        }
    }
}

/// An error that carries its exit code.
#[derive(Debug)]
pub struct Coded {
    pub failure: Failure,
    pub msg: String,
}

impl fmt::Display for Coded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Coded {}

pub fn fail<T>(failure: Failure, msg: impl Into<String>) -> anyhow::Result<T> {
    Err(failure.with(msg))
}

/// The exit code for an error: its own if it carries one, else 125.
pub fn exit_code_of(e: &anyhow::Error) -> i32 {
    e.chain()
        .find_map(|c| c.downcast_ref::<Coded>())
        .map_or(125, |c| c.failure.exit_code())
}

/// An OS error as a short lowercase phrase ("no such file or directory"), without the
/// "(os error 2)" suffix that means nothing to a learner.
pub fn os_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    let s = match s.find(" (os error") {
        Some(i) => &s[..i],
        None => &s,
    };
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => s.to_owned(),
    }
}

/// One line for the user: each context, outermost first, with OS errors shortened.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut parts = Vec::new();
    for c in e.chain() {
        match c.downcast_ref::<std::io::Error>() {
            Some(io) => parts.push(os_reason(io)),
            None => parts.push(c.to_string()),
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn codes() {
        assert_eq!(exit_code_of(&Failure::NotFound.with("x")), 127);
        assert_eq!(exit_code_of(&Failure::CannotInvoke.with("x")), 126);
        assert_eq!(exit_code_of(&anyhow::anyhow!("plain")), 125);
        let wrapped = Err::<(), _>(Failure::NotFound.with("x"))
            .context("outer")
            .unwrap_err();
        assert_eq!(exit_code_of(&wrapped), 127);
    }

    #[test]
    fn one_line_names_each_step_and_drops_os_error_numbers() {
        let io = std::io::Error::from_raw_os_error(libc::ENOENT);
        let e = Err::<(), _>(io)
            .context("mount proc on /x/proc")
            .unwrap_err();
        assert_eq!(
            one_line(&e),
            "mount proc on /x/proc: no such file or directory"
        );
    }
}
