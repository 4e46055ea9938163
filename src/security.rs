//! What a container may not do: the capabilities it keeps (Docker's default set, the
//! `CapSet` a front end puts in `spec.capabilities`) and `no_new_privs`. Both backends
//! read the spec's set (the script passes it to setpriv(1)).

/// Capabilities the container keeps, as (number, name) from capabilities(7): its bounding,
/// effective and permitted sets are exactly these; inheritable and ambient are empty (a
/// root process's capabilities after execve are then its bounding set).
pub const KEPT_CAPS: [(u32, &str); 14] = [
    (0, "chown"),
    (1, "dac_override"),
    (3, "fowner"),
    (4, "fsetid"),
    (5, "kill"),
    (6, "setgid"),
    (7, "setuid"),
    (8, "setpcap"),
    (10, "net_bind_service"),
    (13, "net_raw"),
    (18, "sys_chroot"),
    (27, "mknod"),
    (29, "audit_write"),
    (31, "setfcap"),
];

/// Every capability's name, by number, from capabilities(7) (setpriv(1) spells them so).
pub const CAP_NAMES: [&str; 41] = [
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

/// A set of capabilities as a mask (bit N = capability N), the form capset(2) takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CapSet(pub u64);

impl CapSet {
    /// Docker's default set (`KEPT_CAPS`).
    pub const DOCKER_DEFAULT: CapSet = {
        let mut m = 0u64;
        let mut i = 0;
        while i < KEPT_CAPS.len() {
            m |= 1 << KEPT_CAPS[i].0;
            i += 1;
        }
        CapSet(m)
    };

    pub fn contains(self, cap: u32) -> bool {
        cap < 64 && self.0 & (1 << cap) != 0
    }

    /// Capabilities to drop on a kernel that knows capabilities 0..=last.
    pub fn dropped(self, last: u32) -> impl Iterator<Item = u32> {
        (0..=last).filter(move |c| !self.contains(*c))
    }

    /// The names of the set's capabilities, in number order (a number without a name
    /// is spelled `capN`).
    pub fn names(self) -> impl Iterator<Item = std::borrow::Cow<'static, str>> {
        (0..64u32).filter(move |c| self.contains(*c)).map(|c| {
            CAP_NAMES
                .get(c as usize)
                .map_or_else(|| format!("cap{c}").into(), |n| (*n).into())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sys_admin_is_dropped_and_chown_kept() {
        let d: Vec<u32> = CapSet::DOCKER_DEFAULT.dropped(40).collect();
        assert!(d.contains(&21), "CAP_SYS_ADMIN");
        assert!(d.contains(&16), "CAP_SYS_MODULE");
        assert!(!d.contains(&0));
        assert_eq!(d.len(), 41 - KEPT_CAPS.len());
        // Docker's default set, as /proc/PID/status prints it (CapBnd, CapEff).
        assert_eq!(CapSet::DOCKER_DEFAULT.0, 0x00000000a80425fb);
    }

    #[test]
    fn names_follow_the_kept_table() {
        let names: Vec<_> = CapSet::DOCKER_DEFAULT.names().collect();
        let kept: Vec<_> = KEPT_CAPS.iter().map(|(_, n)| *n).collect();
        assert_eq!(names, kept);
        for (n, name) in KEPT_CAPS {
            assert_eq!(CAP_NAMES[n as usize], name);
        }
    }
}
