//! Privilege probes: the capabilities `gocker run` needs, and the kernel release.

use super::*;

/// A capability `gocker run` uses: its bit in `CapEff` (capabilities(7)), name and use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunCap {
    pub bit: u32,
    pub name: &'static str,
    pub why: &'static str,
}

/// The capabilities `gocker run` needs in its effective set. root has them all, unless it
/// is itself inside a container that took them away (Docker without --privileged).
pub const RUN_CAPS: [RunCap; 3] = [
    RunCap {
        bit: 21,
        name: "CAP_SYS_ADMIN",
        why: "new namespaces, mount, pivot_root, sethostname",
    },
    RunCap {
        bit: 12,
        name: "CAP_NET_ADMIN",
        why: "bring up lo in the new network namespace",
    },
    RunCap {
        bit: 8,
        name: "CAP_SETPCAP",
        why: "drop capabilities from the container's bounding set",
    },
];

/// Who this process is, from `<proc>/self/status` (`None`: that file could not be read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Privileges {
    pub euid: Option<u32>,
    /// The effective capability set, one bit per capability.
    pub cap_eff: Option<u64>,
}

impl Privileges {
    pub fn is_root(&self) -> bool {
        self.euid == Some(0)
    }

    /// The `RUN_CAPS` this process lacks.
    pub fn missing_caps(&self) -> Vec<&'static str> {
        RUN_CAPS
            .iter()
            .filter(|c| self.cap_eff.is_none_or(|set| set & (1 << c.bit) == 0))
            .map(|c| c.name)
            .collect()
    }

    /// Can `gocker run` create a container? That is decided by the capabilities, not by
    /// the uid: root without CAP_SYS_ADMIN cannot, and whoever has them can.
    pub fn sufficient(&self) -> bool {
        self.missing_caps().is_empty()
    }

    /// "root (euid 0)", "euid 1000 (not root)".
    pub fn user(&self) -> String {
        match self.euid {
            Some(0) => "root (euid 0)".into(),
            Some(n) => format!("euid {n} (not root)"),
            None => "unknown".into(),
        }
    }

    /// Why `run` cannot work, and the fix; `None` when it can.
    pub fn lack(&self, proc: &Path) -> Option<Lack> {
        if self.sufficient() {
            return None;
        }
        if self.cap_eff.is_none() {
            let status = proc.join("self/status");
            return Some(Lack {
                why: format!("cannot read {}", status.display()),
                fix: format!("mount proc on {} (mount -t proc proc {0})", proc.display()),
            });
        }
        let missing = self.missing_caps().join(", ");
        Some(if self.is_root() {
            Lack {
                why: format!(
                    "euid 0 lacks {missing} (probably inside a container that dropped it)"
                ),
                fix: "run gocker on the host, or in a container started with --privileged".into(),
            }
        } else {
            let who = self
                .euid
                .map_or("this user".into(), |u| format!("euid {u}"));
            Lack {
                why: format!("{who} is not root and lacks {missing}"),
                fix: "run as root: sudo gocker run ...".into(),
            }
        })
    }
}

/// The euid and effective capabilities of this process.
pub fn privileges(proc: &Path) -> Privileges {
    let status = std::fs::read_to_string(proc.join("self/status")).unwrap_or_default();
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(str::trim)
    };
    Privileges {
        // Uid: real, effective, saved, filesystem.
        euid: field("Uid:")
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok()),
        cap_eff: field("CapEff:").and_then(|s| u64::from_str_radix(s, 16).ok()),
    }
}

/// `privileges(proc)`, but for this process on the real /proc from geteuid(2) and
/// capget(2): generating /proc/self/status costs ~90 us, and `run` asks on every start.
pub fn privileges_fast(proc: &Path) -> Privileges {
    if proc != Path::new("/proc") {
        return privileges(proc);
    }
    Privileges {
        euid: Some(crate::sys::geteuid()),
        cap_eff: crate::sys::effective_caps().ok(),
    }
}

// ------------------------------------------------------------------ kernel

/// The running kernel's release (`uname -r`).
pub fn kernel_release(proc: &Path) -> Option<String> {
    std::fs::read_to_string(proc.join("sys/kernel/osrelease"))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}
