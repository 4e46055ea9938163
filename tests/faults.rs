//! Faults: the container or gocker dies, is signalled, or cannot start; each is
//! reported, and nothing is left on the host.

mod common;

use common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Start `gocker run ARGS` and wait until the container's PID 1 has a child (the
/// scripts below start `sleep` once their traps are set).
fn start_ready(root: &std::path::Path, args: &[&str]) -> (std::process::Child, u32) {
    let child = gocker()
        .args(["run", "--rootfs"])
        .arg(root)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let cpid = wait_until_busy(child.id());
    (child, cpid)
}

#[test]
fn sigint_and_sigterm_are_forwarded_and_cleanup_done() {
    if !need_root("sigint_and_sigterm_are_forwarded_and_cleanup_done") {
        return;
    }
    let r = busybox_rootfs();
    for (sig, name) in [("-INT", "INT"), ("-TERM", "TERM"), ("-HUP", "HUP")] {
        let script = format!("trap 'echo caught {name}; exit 7' {name}; sleep 30 & wait");
        let (child, _) = start_ready(r.path(), &["-m", "64", "/bin/sh", "-c", &script]);
        let gpid = child.id();
        Command::new("kill")
            .args([sig, &gpid.to_string()])
            .status()
            .unwrap();
        let o = child.wait_with_output().unwrap();
        assert_eq!(stdout(&o), format!("caught {name}\n"));
        assert_eq!(o.status.code(), Some(7), "{name}");
        assert!(cgroups_of(gpid).is_empty(), "{name}: cgroup left");
    }
}

#[test]
fn a_signal_pid_1_does_not_handle_is_ignored_as_for_any_init() {
    if !need_root("a_signal_pid_1_does_not_handle_is_ignored_as_for_any_init") {
        return;
    }
    // PID 1 of a namespace gets only the signals it has handlers for (pid_namespaces(7)),
    // as under Docker without --init: SIGTERM to a bare `sleep` does nothing, and a
    // SIGKILL to gocker still ends everything.
    let r = busybox_rootfs();
    let (mut child, cpid) = start_sleeping(r.path(), &[], "30");
    let gpid = child.id();
    Command::new("kill")
        .args(["-TERM", &gpid.to_string()])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "sleep as PID 1 ignores SIGTERM"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    wait_for("container gone", || {
        (!std::path::Path::new(&format!("/proc/{cpid}")).exists()).then_some(())
    });
}

#[test]
fn oom_kill_is_reported() {
    if !need_root("oom_kill_is_reported") || !oom_is_certain("oom_kill_is_reported") {
        return;
    }
    let r = busybox_rootfs();
    let child = gocker()
        .args(["run", "-m", "16", "--rootfs"])
        .arg(r.path())
        .args(["/bin/sh", "-c", "exec tail /dev/zero"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let gpid = child.id();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(137));
    let err = stderr(&o);
    assert!(err.contains("memory limit (16 MiB)"), "{err}");
    assert!(cgroups_of(gpid).is_empty());
}

#[test]
fn read_only_rootfs() {
    if !need_root("read_only_rootfs") {
        return;
    }
    let r = busybox_rootfs();
    let ro = TempDir::new("ro");
    // A read-only view of the rootfs, made in a private mount namespace of its own so
    // the host's table is untouched even if this test fails half-way.
    let script = format!(
        "mount --bind {src} {ro} && mount -o remount,bind,ro {ro} && \
         {g} run --rootfs {ro} /bin/sh -c 'echo ok; touch /x 2>/dev/null || echo ro'; echo rc=$?; \
         {g} run --rootfs-rw --rootfs {ro} -w /new/dir true; echo rc=$?; \
         {g} run --rootfs {ro} -w /new/dir true; echo rc=$?",
        src = r.path().display(),
        ro = ro.path().display(),
        g = env!("CARGO_BIN_EXE_gocker"),
    );
    let o = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .output()
        .unwrap();
    let out = stdout(&o);
    // The copy-on-write root takes the ro's writes in its own layer: the first and last
    // work; written into directly (--rootfs-rw), a missing mount point cannot be made.
    assert_eq!(out, "ok\nrc=0\nrc=125\nrc=0\n", "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("/new") && err.contains("read-only"), "{err}");
}

#[test]
fn rootfs_on_an_unbindable_mount() {
    if !need_root("rootfs_on_an_unbindable_mount") {
        return;
    }
    // An unbindable mount refuses to be bind-mounted (EINVAL), the one way a rootfs could
    // not be bound onto itself. gocker makes / recursively private first, which makes
    // the child's copy of that mount bindable again, so the container starts; the host's
    // mount stays unbindable. (Should bind still fail, the error says why in one line.)
    let r = busybox_rootfs();
    let t = TempDir::new("unbindable");
    let script = format!(
        "mount -t tmpfs tmpfs {t} && cp -a {src}/. {t}/ && mount --make-unbindable {t} && \
         {g} run --rootfs {t} true; echo rc=$?; grep -c ' {t} .*unbindable' /proc/self/mountinfo",
        t = t.path().display(),
        src = r.path().display(),
        g = env!("CARGO_BIN_EXE_gocker"),
    );
    let o = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .output()
        .unwrap();
    assert_eq!(stdout(&o), "rc=0\n1\n", "{}", stderr(&o));
}
