//! What a container may not do: the capabilities it keeps (Docker's default set) and
//! `no_new_privs`. Both backends read this table (the script passes it to setpriv(1)).

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

/// The kept set as a capability mask (bit N = capability N).
pub fn kept_mask() -> u64 {
    KEPT_CAPS.iter().fold(0, |m, (c, _)| m | 1 << c)
}

/// Capabilities to drop on a kernel that knows capabilities 0..=last.
pub fn dropped_caps(last: u32) -> impl Iterator<Item = u32> {
    (0..=last).filter(|c| !KEPT_CAPS.iter().any(|(k, _)| k == c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sys_admin_is_dropped_and_chown_kept() {
        let d: Vec<u32> = dropped_caps(40).collect();
        assert!(d.contains(&21), "CAP_SYS_ADMIN");
        assert!(d.contains(&16), "CAP_SYS_MODULE");
        assert!(!d.contains(&0));
        assert_eq!(d.len(), 41 - KEPT_CAPS.len());
        // Docker's default set, as /proc/PID/status prints it (CapBnd, CapEff).
        assert_eq!(kept_mask(), 0x00000000a80425fb);
    }
}
