//! Probes of the running host: privileges, kernel, namespaces, cgroup mode and
//! controllers, script tools, CPUs and memory. `run`, `emit-script` and `check` all ask
//! these (and `refuse_unsupported` turns them into early refusals), so they always agree.
//!
//! One file per concern: `privileges`, `namespaces`, `cgroups` (mode, controllers,
//! hierarchies), `surface` (seccomp, device list), `tools` (the script's tool table),
//! `refusal` (early refusals) and `facts` (what front ends validate against).
//!
//! Each probe takes its roots (`/proc`, `/sys/fs/cgroup`, `PATH`, `/`) as parameters, so
//! tests run it against fake trees.

use crate::cgroup::{CONTROLLERS, Controller, PARENT, PROCS, SUBTREE_CONTROL, Version};
use crate::error::{Failure, fail};
use crate::mounts::{HOST_VIEW_DIRS, HostDir};
use crate::spec::{ContainerSpec, Namespace};
use anyhow::Result;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

mod cgroups;
mod facts;
mod namespaces;
mod privileges;
mod refusal;
mod surface;
mod tools;

pub use cgroups::*;
pub use facts::*;
pub use namespaces::*;
pub use privileges::*;
pub use refusal::*;
pub use surface::*;
pub use tools::*;

#[cfg(test)]
pub mod fake;
#[cfg(test)]
mod tests;

/// Where the probes look. `Roots::system()` is the real host.
#[derive(Debug, Clone)]
pub struct Roots {
    pub proc: PathBuf,
    pub cgroup: PathBuf,
    /// The search path for tools (`PATH`).
    pub path: Option<OsString>,
    /// The host's `/`: where the host-view system directories are, and the sbin
    /// directories searched for tools that are not on `PATH`.
    pub fs: PathBuf,
}

impl Roots {
    pub fn system() -> Roots {
        Roots {
            proc: "/proc".into(),
            cgroup: "/sys/fs/cgroup".into(),
            path: std::env::var_os("PATH"),
            fs: "/".into(),
        }
    }
}

/// Whether something can be used here, and if not, why and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    Available,
    Missing(Lack),
}

/// Why something is missing (`why`) and the one-line fix (`fix`), both for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lack {
    pub why: String,
    pub fix: String,
}

impl Availability {
    fn missing(why: impl Into<String>, fix: impl Into<String>) -> Availability {
        Availability::Missing(Lack {
            why: why.into(),
            fix: fix.into(),
        })
    }

    pub fn is_available(&self) -> bool {
        matches!(self, Availability::Available)
    }

    pub fn lack(&self) -> Option<&Lack> {
        match self {
            Availability::Available => None,
            Availability::Missing(l) => Some(l),
        }
    }
}
