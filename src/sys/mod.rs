//! The syscall layer: every kernel call gocker makes, one small function each.
//!
//! This is the only module with `unsafe` (`#[allow(unsafe_code)]` on it in lib.rs; the
//! crate denies it everywhere else). One file per concern: `fs` (mounts, paths inside a
//! root), `process` (clone, exec, wait, signals), `creds` (capabilities, no_new_privs,
//! rlimits), `tty` (terminals, descriptor passing), `join` (entering a running
//! container), `tree` (a tree walked and copied by descriptors, a detached overlay),
//! `kernel` (the rest). Each function is one syscall; a `-1` return becomes
//! `io::Error::last_os_error()`, and callers add the operation and path as context.

use std::ffi::{CStr, CString, OsStr};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub use libc::pid_t;

mod creds;
mod fs;
mod join;
mod kernel;
mod process;
mod tree;
mod tty;

pub use creds::*;
pub use fs::*;
pub use join::*;
pub use kernel::*;
pub use process::*;
pub use tree::*;
pub use tty::*;

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn check_long(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// A path or string as a C string; an interior NUL is an input error, not a panic.
pub fn cstr<S: AsRef<OsStr> + ?Sized>(s: &S) -> io::Result<CString> {
    CString::new(s.as_ref().as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "contains a NUL byte, which no path or argument can hold",
        )
    })
}
