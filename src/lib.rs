//! gocker: a tiny container runtime that is also a lesson in what a container is.
//!
//! A front end (`frontend::cli`: clap) validates its input into one `ContainerSpec`
//! (`spec`); the native runtime (`runtime`) and the script renderer (`script`) take only
//! that spec. Host probes (`host`) serve `run`, `emit-script` and `check` alike.
//! `src/main.rs` only parses and dispatches; everything else is this library.
//!
//! `unsafe` is denied everywhere but in `sys`, the syscall layer.
#![deny(unsafe_code)]

pub mod cgroup;
pub mod check;
pub mod devices;
pub mod error;
pub mod frontend;
pub mod host;
pub mod image;
pub mod mounts;
pub mod rootfs;
pub mod runtime;
pub mod script;
pub mod seccomp;
pub mod security;
pub mod spec;
pub mod state;
#[allow(unsafe_code)]
pub mod sys;
pub mod trace;
// Shared with the end-to-end tests (tests/common), not part of gocker's interface.
#[doc(hidden)]
pub mod testutil;
