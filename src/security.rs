//! What a container may not do: the capabilities it keeps (Docker's default set, the
//! `Capabilities` a front end puts in `spec.capabilities`: five sets, of which the CLI
//! fills one) and `no_new_privs`. Both backends read the spec's sets (the script passes
//! them to setpriv(1)).

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

    /// The set's capabilities, by number.
    pub fn members(self) -> impl Iterator<Item = u32> {
        (0..64u32).filter(move |c| self.contains(*c))
    }

    /// Capabilities to drop on a kernel that knows capabilities 0..=last.
    pub fn dropped(self, last: u32) -> impl Iterator<Item = u32> {
        (0..=last).filter(move |c| !self.contains(*c))
    }

    /// The names of the set's capabilities, in number order (a number without a name
    /// is spelled `capN`).
    pub fn names(self) -> impl Iterator<Item = std::borrow::Cow<'static, str>> {
        self.members().map(|c| {
            CAP_NAMES
                .get(c as usize)
                .map_or_else(|| format!("cap{c}").into(), |n| (*n).into())
        })
    }
}

/// The five capability sets of the container's process (capabilities(7)), as capset(2)
/// and prctl(2) take them. The CLI keeps one set (`Capabilities::kept`: inheritable and
/// ambient empty, whatever the caller holds: issue 10); a bundle's config.json gives all
/// five, and nothing of the caller's is added to any of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Capabilities {
    /// Caps what any later execve can grant: every other capability is dropped from it.
    pub bounding: CapSet,
    pub effective: CapSet,
    pub permitted: CapSet,
    /// Kept across execve; for a root command the kernel adds them to its permitted set,
    /// so none may lie outside `bounding` (`check`).
    pub inheritable: CapSet,
    /// Kept across execve even by a command that is not root (raised one by one).
    pub ambient: CapSet,
}

impl Capabilities {
    /// Bounding, effective and permitted `set`; inheritable and ambient empty: a root
    /// command then ends with exactly `set`, a command of another user with none.
    pub const fn kept(set: CapSet) -> Capabilities {
        Capabilities {
            bounding: set,
            effective: set,
            permitted: set,
            inheritable: CapSet(0),
            ambient: CapSet(0),
        }
    }

    /// The kernel's rules for the sets, checked before anything is made: the first one
    /// broken, as (the set, the capabilities that break it, why). capset(2) refuses an
    /// effective capability outside permitted, and an inheritable one outside the bounding
    /// set unless the caller already held it there: that is refused whatever the caller
    /// holds, so the result never depends on it. PR_CAP_AMBIENT_RAISE refuses one that is
    /// not both permitted and inheritable.
    pub fn check(&self) -> Result<(), (&'static str, CapSet, &'static str)> {
        let outside = |a: CapSet, b: CapSet| CapSet(a.0 & !b.0);
        let rules = [
            (
                "effective",
                outside(self.effective, self.permitted),
                "not in the permitted set (capset(2) refuses it)",
            ),
            (
                "inheritable",
                outside(self.inheritable, self.bounding),
                "not in the bounding set (a root command would get it past the bounding set; capset(2) refuses it)",
            ),
            (
                "ambient",
                outside(self.ambient, CapSet(self.permitted.0 & self.inheritable.0)),
                "not in both the permitted and the inheritable set (prctl PR_CAP_AMBIENT_RAISE refuses it)",
            ),
        ];
        match rules.into_iter().find(|(_, bad, _)| bad.0 != 0) {
            Some(broken) => Err(broken),
            None => Ok(()),
        }
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
    fn the_kernels_rules_for_the_five_sets() {
        let kill = CapSet(1 << 5);
        let chown = CapSet(1 << 0);
        let both = CapSet(kill.0 | chown.0);
        assert_eq!(Capabilities::kept(both).check(), Ok(()));
        let all = Capabilities {
            bounding: both,
            effective: both,
            permitted: both,
            inheritable: both,
            ambient: both,
        };
        assert_eq!(all.check(), Ok(()));
        let rule = |c: Capabilities| c.check().map_err(|(set, bad, _)| (set, bad));
        assert_eq!(
            rule(Capabilities {
                effective: both,
                permitted: kill,
                ..all
            }),
            Err(("effective", chown))
        );
        assert_eq!(
            rule(Capabilities {
                bounding: chown,
                effective: chown,
                ..all
            }),
            Err(("inheritable", kill))
        );
        assert_eq!(
            rule(Capabilities {
                inheritable: kill,
                ..all
            }),
            Err(("ambient", chown))
        );
        assert_eq!(
            rule(Capabilities {
                effective: kill,
                permitted: kill,
                inheritable: both,
                ..all
            }),
            Err(("ambient", chown))
        );
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
