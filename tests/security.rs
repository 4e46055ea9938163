//! Security baseline (as runc and crun have it): host filesystem unreachable, kernel
//! knobs in /proc read-only or masked, no_new_privs, Docker's capability set.

mod common;

use common::*;

#[test]
fn proc_is_read_only_or_masked_where_docker_does_it() {
    if !need_root("proc_is_read_only_or_masked_where_docker_does_it") {
        return;
    }
    let r = busybox_rootfs();
    // Masked files that this kernel has read as empty inside (the set varies by kernel).
    let masked: Vec<&str> = [
        "/proc/kcore",
        "/proc/keys",
        "/proc/timer_list",
        "/proc/sched_debug",
    ]
    .into_iter()
    .filter(|p| std::path::Path::new(p).exists())
    .collect();
    assert!(
        !masked.is_empty(),
        "no maskable /proc file on this kernel to test with"
    );
    let script = format!(
        "echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo sys-writable || echo sys-ro; \
         if [ -e /proc/sysrq-trigger ]; then (echo h > /proc/sysrq-trigger) 2>/dev/null && echo sysrq-writable || echo sysrq-ro; fi; \
         for f in {}; do echo $f=$(wc -c < $f); done; \
         grep -E 'NoNewPrivs|CapBnd' /proc/self/status",
        masked.join(" ")
    );
    let o = run_in(r.path(), &["/bin/sh", "-c", &script]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("sys-ro\n"), "{out}");
    if std::path::Path::new("/proc/sysrq-trigger").exists() {
        assert!(out.contains("sysrq-ro\n"), "{out}");
    }
    for f in &masked {
        assert!(out.contains(&format!("{f}=0\n")), "{f} not masked: {out}");
    }
    assert!(out.contains("NoNewPrivs:\t1"), "{out}");
    // Docker's default: chown dac_override fowner fsetid kill setgid setuid setpcap
    // net_bind_service net_raw sys_chroot mknod audit_write setfcap.
    assert!(out.contains("CapBnd:\t00000000a80425fb"), "{out}");
}

#[test]
fn no_mounting_or_module_loading_inside() {
    if !need_root("no_mounting_or_module_loading_inside") {
        return;
    }
    let r = busybox_rootfs();
    let o = run_in(
        r.path(),
        &[
            "/bin/sh",
            "-c",
            "mkdir -p /tmp/m; mount -t tmpfs x /tmp/m 2>/dev/null && echo mounted || echo refused; hostname other 2>/dev/null && echo renamed || echo kept",
        ],
    );
    assert_eq!(stdout(&o), "refused\nkept\n", "{}", stderr(&o));
}

#[test]
fn old_root_is_gone_from_the_mount_table() {
    if !need_root("old_root_is_gone_from_the_mount_table") {
        return;
    }
    let r = busybox_rootfs();
    let o = run_in(r.path(), &["cat", "/proc/self/mountinfo"]);
    let out = stdout(&o);
    // Every mount is under the container's root; none is the host's root.
    for line in out.lines() {
        let mountpoint = line.split_whitespace().nth(4).unwrap();
        assert!(
            mountpoint == "/" || mountpoint.starts_with("/proc") || mountpoint.starts_with("/dev"),
            "unexpected mount {mountpoint} in {out}"
        );
    }
}
