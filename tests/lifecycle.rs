//! End-to-end tests of issue 15 (containers that outlive the command): the default root's
//! writable places, the copy-on-write root over `--rootfs`, and the completions and man
//! page generated from the clap definitions. The container tests need root; in CI (which
//! is root) they must run, never skip.

mod common;

use common::*;

/// The default root (no `--rootfs`) behaves like a small distribution: `/tmp` and `/root`
/// exist, are writable and private to the container, and the host's `/etc` stays read-only.
/// What the default-root probe prints: /tmp listed, both written, their modes, and the
/// host's /etc and /usr refusing writes.
const DEFAULT_ROOT_PROBE: &str = "ls /tmp && echo listed; \
     echo t >/tmp/gocker-lifecycle && cat /tmp/gocker-lifecycle; \
     echo r >/root/f && cat /root/f; \
     stat -c '%a' /tmp /root; \
     echo e >/etc/gocker-lifecycle 2>/dev/null && echo etc-written || echo etc-read-only; \
     echo u >/usr/gocker-lifecycle 2>/dev/null && echo usr-written || echo usr-read-only";
const DEFAULT_ROOT_OUT: &str = "listed\nt\nr\n1777\n700\netc-read-only\nusr-read-only\n";

/// The default root (no `--rootfs`) behaves like a small distribution: `/tmp` and `/root`
/// exist, are writable and private to the container, and the host's `/etc` and `/usr`
/// stay read-only; the emitted script builds the same.
#[test]
fn the_default_root_has_a_private_tmp_and_a_writable_root_home() {
    if !need_root("the_default_root_has_a_private_tmp_and_a_writable_root_home") {
        return;
    }
    let before = HostSnapshot::take();
    let o = gocker()
        .args(["run", "/bin/sh", "-c", DEFAULT_ROOT_PROBE])
        .output()
        .expect("run gocker");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), DEFAULT_ROOT_OUT, "{}", stderr(&o));
    let t = TempDir::new("default-root");
    let script = t.path().join("c.sh");
    emit_to(&os(&["/bin/sh", "-c", DEFAULT_ROOT_PROBE]), &script);
    let o = std::process::Command::new("sh")
        .arg(&script)
        .output()
        .expect("run the script");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), DEFAULT_ROOT_OUT, "script: {}", stderr(&o));
    // Private: what the container wrote in its /tmp is not in the host's.
    for p in [
        "/tmp/gocker-lifecycle",
        "/etc/gocker-lifecycle",
        "/usr/gocker-lifecycle",
    ] {
        assert!(
            !std::path::Path::new(p).exists(),
            "{p} appeared on the host"
        );
    }
    before.assert_unchanged("the default root");
}
