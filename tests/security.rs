//! Security baseline (as runc and crun have it): host filesystem unreachable, kernel
//! knobs in /proc read-only or masked, no_new_privs, Docker's capability set.

mod common;

use common::*;
use std::path::Path;

/// The /proc entries gocker makes read-only, and those it masks: each only where this
/// kernel has it (the container's /proc is the same kernel's).
const READ_ONLY: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];
const MASKED: [&str; 5] = [
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/sched_debug",
];

fn on_this_kernel(paths: &[&'static str]) -> Vec<&'static str> {
    paths
        .iter()
        .copied()
        .filter(|p| Path::new(p).exists())
        .collect()
}

/// A regular file in `path` (itself if it is one): the first that find(1) gives.
fn first_file(path: &str) -> String {
    let o = std::process::Command::new("find")
        .args([path, "-type", "f"])
        .output()
        .expect("run find");
    let f = stdout(&o).lines().next().map(String::from);
    f.unwrap_or_else(|| panic!("no file in {path} to open for writing"))
}

#[test]
fn proc_is_read_only_or_masked_where_docker_does_it() {
    if !need_root("proc_is_read_only_or_masked_where_docker_does_it") {
        return;
    }
    let r = busybox_rootfs();
    let masked = on_this_kernel(&MASKED);
    assert!(
        !masked.is_empty(),
        "no maskable /proc file on this kernel to test with"
    );
    // Writes that root in the container COULD make if these were writable, none of which
    // changes the host: the hostname sysctl belongs to the container's own UTS namespace
    // and needs no capability, only uid 0 (its own value is written back). For the rest,
    // one file of each is opened for appending and closed unwritten: on a read-only
    // mount that open fails with EROFS; root (with CAP_DAC_OVERRIDE) could open it else.
    let probes: Vec<(&str, String)> = on_this_kernel(&READ_ONLY)
        .into_iter()
        .map(|p| (p, first_file(p)))
        .collect();
    let opens: String = probes
        .iter()
        .map(|(_, f)| format!("(exec 3>>{f}) 2>&1 && echo opened {f}; "))
        .collect();
    let script = format!(
        "h=$(cat /proc/sys/kernel/hostname); (echo \"$h\" > /proc/sys/kernel/hostname) 2>&1 && echo hostname-written; \
         {opens}\
         for f in {}; do echo $f=$(wc -c < $f); done; \
         grep -E 'NoNewPrivs|CapBnd' /proc/self/status",
        masked.join(" ")
    );
    let o = run_in(r.path(), &["/bin/sh", "-c", &script]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        !out.contains("hostname-written"),
        "/proc/sys writable: {out}"
    );
    let erofs = |path: &str| {
        out.lines()
            .any(|l| l.contains(path) && l.contains("Read-only file system"))
    };
    assert!(erofs("/proc/sys/kernel/hostname"), "{out}");
    for (p, f) in &probes {
        assert!(
            erofs(f),
            "{p} is not read-only ({f} opened for writing): {out}"
        );
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
    // On the copy-on-write root (an overlay of the rootfs) and on the rootfs itself.
    for rw in [false, true] {
        let args: &[&str] = if rw {
            &["--rootfs-rw", "cat", "/proc/self/mountinfo"]
        } else {
            &["cat", "/proc/self/mountinfo"]
        };
        mount_table_is_the_containers_own(&r, rw, run_in(r.path(), args));
    }
}

fn mount_table_is_the_containers_own(r: &TempDir, rw: bool, o: std::process::Output) {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    // Exactly these, in this order: the rootfs at /, a fresh /proc, its read-only and
    // masked entries (those this kernel has). The busybox rootfs has its own /dev, so no
    // /dev is mounted; nothing of the host's table is left.
    let mut want = vec!["/", "/proc"];
    want.extend(on_this_kernel(&READ_ONLY));
    want.extend(on_this_kernel(&MASKED));
    let got: Vec<&str> = out
        .lines()
        .map(|l| l.split_whitespace().nth(4).unwrap_or("?"))
        .collect();
    assert_eq!(got, want, "{out}");
    let root = out.lines().next().unwrap();
    let name = r.path().file_name().unwrap().to_str().unwrap();
    if rw {
        assert!(
            root.split_whitespace().nth(3).unwrap().ends_with(name),
            "/ is not the rootfs: {root}"
        );
    } else {
        assert!(
            root.contains(" - overlay overlay "),
            "/ is not the overlay: {root}"
        );
    }
    for l in out.lines().filter(|l| {
        let m = l.split_whitespace().nth(4).unwrap();
        READ_ONLY.contains(&m)
    }) {
        let opts = l.split_whitespace().nth(5).unwrap();
        assert!(opts.split(',').any(|o| o == "ro"), "not read-only: {l}");
    }
}
