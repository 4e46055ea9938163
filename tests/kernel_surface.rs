//! The kernel's surface, attacked from inside as root: the seccomp filter, the device
//! allow list and the private session keyring (issue 11). The attacks are one small C
//! program (tests/attack/surface.c) built static into each test's busybox root, so each
//! errno comes straight from the kernel. Every refusal that only seccomp makes is shown to
//! succeed with `--security-opt seccomp=unconfined`, so the filter is what stopped it.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const SECCOMP_OFF: &str = "--security-opt=seccomp=unconfined";
const DEVICES_OFF: &str = "--security-opt=devices=unconfined";

/// A busybox root with the attack program at /bin/surface; `None` (skipped) without gcc.
fn attack_root(test: &str) -> Option<(TempDir, PathBuf)> {
    if !need_root(test) {
        return None;
    }
    let gcc = tool("gcc", test)?;
    let r = busybox_rootfs();
    let bin = r.path().join("bin/surface");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/attack/surface.c");
    let out = Command::new(gcc)
        .args(["-static", "-O2", "-Wall", "-o"])
        .arg(&bin)
        .arg(&src)
        .output()
        .expect("run gcc");
    assert!(
        out.status.success(),
        "gcc -static surface.c: {}",
        stderr(&out)
    );
    Some((r, bin))
}

/// Run the attack program's `modes` in one container (one line each) and return each
/// mode's answer ("ok" or an errno name).
fn attack(root: &Path, opts: &[&str], modes: &[&str]) -> Vec<(String, String)> {
    let script = modes
        .iter()
        .map(|m| format!("/bin/surface {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut cmd = gocker();
    cmd.arg("run").args(opts).arg("--rootfs").arg(root);
    let o = cmd
        .args(["/bin/sh", "-c", &script])
        .output()
        .expect("run gocker");
    let out = stdout(&o);
    let answers = parse(&out);
    assert_eq!(
        answers.len(),
        modes.len(),
        "one answer per attack: {out}{}",
        stderr(&o)
    );
    answers
}

fn parse(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(m, a)| (m.to_string(), a.to_string()))
        .collect()
}

/// The same attack made on the host by the test itself (only harmless ones).
fn on_host(bin: &Path, mode: &str) -> String {
    let o = Command::new(bin).arg(mode).output().expect("run surface");
    parse(&stdout(&o)).pop().map(|(_, a)| a).unwrap_or_default()
}

fn answer<'a>(answers: &'a [(String, String)], mode: &str) -> &'a str {
    answers
        .iter()
        .find(|(m, _)| m == mode)
        .map(|(_, a)| a.as_str())
        .unwrap_or_else(|| panic!("no answer for {mode}: {answers:?}"))
}

#[test]
fn seccomp_is_on_by_default_and_off_when_unconfined() {
    if !need_root("seccomp_is_on_by_default_and_off_when_unconfined") {
        return;
    }
    let r = busybox_rootfs();
    let o = run_in(r.path(), &["grep", "^Seccomp:", "/proc/self/status"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "Seccomp:\t2\n");
    let o = gocker()
        .args(["run", SECCOMP_OFF, "--rootfs"])
        .arg(r.path())
        .args(["grep", "^Seccomp:", "/proc/self/status"])
        .output()
        .unwrap();
    assert_eq!(stdout(&o), "Seccomp:\t0\n", "{}", stderr(&o));
}

/// Refused by the filter alone: as root without CAP_SYS_ADMIN these work unconfined
/// (when they work on this host at all).
const ONLY_SECCOMP: [&str; 8] = [
    "keyring-read",
    "perf",
    "userfaultfd",
    "unshare-user",
    "clone-newuser",
    "personality",
    "session-id",
    "session-write",
];

/// Refused by the filter, and by the kernel's capability checks too (no CAP_SYS_BOOT,
/// CAP_SYS_MODULE, CAP_SYS_ADMIN, CAP_BPF in the container).
const ALSO_BY_CAPS: [&str; 4] = ["kexec", "init-module", "mount", "bpf"];

#[test]
fn blocked_system_calls_fail_with_eperm_and_work_unconfined() {
    let Some((r, bin)) = attack_root("blocked_system_calls_fail_with_eperm_and_work_unconfined")
    else {
        return;
    };
    let mut modes: Vec<&str> = ONLY_SECCOMP.to_vec();
    modes.extend(ALSO_BY_CAPS);
    modes.extend(["request-key", "clone3", "clone-plain"]);
    let confined = attack(r.path(), &[], &modes);
    for m in ONLY_SECCOMP
        .iter()
        .chain(&ALSO_BY_CAPS)
        .chain(&["request-key"])
    {
        assert_eq!(answer(&confined, m), "EPERM", "{m}: {confined:?}");
    }
    // ENOSYS, as Docker answers clone3, so that glibc falls back to a checked clone.
    assert_eq!(answer(&confined, "clone3"), "ENOSYS");
    assert_eq!(answer(&confined, "clone-plain"), "ok", "fork still works");

    let unconfined = attack(r.path(), &[SECCOMP_OFF], &modes);
    for m in ONLY_SECCOMP {
        // perf_event_open and userfaultfd depend on host sysctls: what the host's root
        // gets, the container's gets once the filter is off.
        let expected = match m {
            "perf" | "userfaultfd" => on_host(&bin, m),
            _ => "ok".into(),
        };
        let got = answer(&unconfined, m);
        if m == "session-id" {
            assert!(got.parse::<u64>().is_ok(), "{m}: {got}");
        } else {
            assert_eq!(got, expected, "{m} unconfined: {unconfined:?}");
        }
    }
    assert_eq!(answer(&unconfined, "clone3"), "ok", "{unconfined:?}");
    for m in ALSO_BY_CAPS {
        // EPERM from the capability checks, or ENOSYS from a kernel without the call
        // (kexec here): either way not the filter's EPERM seen above.
        let got = answer(&unconfined, m);
        assert!(["EPERM", "ENOSYS"].contains(&got), "{m}: {got}");
    }
}

#[test]
fn unshare_of_new_namespaces_fails() {
    if !need_root("unshare_of_new_namespaces_fails") {
        return;
    }
    let r = busybox_rootfs();
    let script = "unshare -U true 2>/dev/null; echo user=$?; unshare -m true 2>/dev/null; echo mount=$?; \
                  unshare -n true 2>/dev/null; echo net=$?";
    let o = run_in(r.path(), &["/bin/sh", "-c", script]);
    assert_eq!(stdout(&o), "user=1\nmount=1\nnet=1\n", "{}", stderr(&o));
    // Only the user namespace needs no capability: the filter alone stopped it.
    let o = gocker()
        .args(["run", SECCOMP_OFF, "--rootfs"])
        .arg(r.path())
        .args(["/bin/sh", "-c", script])
        .output()
        .unwrap();
    assert_eq!(stdout(&o), "user=0\nmount=1\nnet=1\n", "{}", stderr(&o));
}

#[test]
fn host_keys_are_neither_visible_nor_writable() {
    let Some((r, bin)) = attack_root("host_keys_are_neither_visible_nor_writable") else {
        return;
    };
    let key = format!("gocker-attack-{}", std::process::id());
    let write = format!("keyring-write {key}");
    let got = attack(r.path(), &[], &["keyring-read", &write, "session-id"]);
    assert_eq!(
        got.iter().map(|(_, a)| a.as_str()).collect::<Vec<_>>(),
        ["EPERM", "EPERM", "EPERM"],
        "{got:?}"
    );
    // The host's user keyring is unchanged.
    let o = Command::new(&bin)
        .args(["user-has", &key])
        .output()
        .unwrap();
    assert_eq!(stdout(&o), "user-has ENOKEY\n");

    // Without the filter, the container's session keyring is a fresh one, not ours, and
    // what it writes there does not reach ours.
    let host_session = on_host(&bin, "session-id");
    let got = attack(r.path(), &[SECCOMP_OFF], &["session-id", "session-write"]);
    let inside = answer(&got, "session-id");
    assert!(inside.parse::<u64>().is_ok(), "{got:?}");
    assert_ne!(inside, host_session, "a session keyring of its own");
    assert_eq!(answer(&got, "session-write"), "ok");
    let o = Command::new(&bin)
        .args(["session-has", "gocker-session"])
        .output()
        .unwrap();
    assert_eq!(stdout(&o), "session-has ENOKEY\n");
}

/// Device nodes made on the host inside the root, as an image could bring them.
fn planted_nodes(root: &Path) {
    let dir = root.join("attack-dev");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, kind, major, minor) in [("kmsg", "c", "1", "11"), ("loop0", "b", "7", "0")] {
        let o = Command::new("mknod")
            .arg(dir.join(name))
            .args([kind, major, minor])
            .output()
            .expect("run mknod");
        assert!(o.status.success(), "mknod {name}: {}", stderr(&o));
    }
}

#[test]
fn devices_outside_the_list_can_be_neither_made_nor_opened() {
    let Some((r, _bin)) = attack_root("devices_outside_the_list_can_be_neither_made_nor_opened")
    else {
        return;
    };
    planted_nodes(r.path());
    let marker = format!("gocker-kmsg-attack-{}", std::process::id());
    let modes = [
        "mknod /tmp/kmsg c 1 11",
        "mknod /tmp/loop0 b 7 0",
        "mknod /tmp/fuse c 10 229",
        "open /attack-dev/kmsg",
        "open /attack-dev/loop0",
        "mknod /tmp/null c 1 3",
        "open /tmp/null",
        "open /dev/null",
    ];
    // Then the shell's own attempt to write a line into the host's kernel log.
    let script = modes
        .iter()
        .map(|m| format!("/bin/surface {m}"))
        .chain([format!(
            "(echo {marker} > /attack-dev/kmsg) 2>/dev/null && echo write ok || echo write refused"
        )])
        .collect::<Vec<_>>()
        .join("; ");
    let o = run_in(r.path(), &["/bin/sh", "-c", &script]);
    let got = parse(&stdout(&o));
    let answers: Vec<&str> = got.iter().map(|(_, a)| a.as_str()).collect();
    assert_eq!(
        answers,
        [
            "EPERM", "EPERM", "EPERM", "EPERM", "EPERM", "ok", "ok", "ok", "refused"
        ],
        "{got:?} {}",
        stderr(&o)
    );
    if Command::new("dmesg").arg("--version").output().is_ok() {
        let log = Command::new("dmesg").output().unwrap();
        assert!(
            !stdout(&log).contains(&marker),
            "the host's kernel log was written"
        );
    }
    // The kernel's device cgroup alone refused them: unconfined, CAP_MKNOD makes them.
    let o = gocker()
        .args(["run", DEVICES_OFF, "--rootfs"])
        .arg(r.path())
        .args([
            "/bin/sh",
            "-c",
            "/bin/surface mknod /tmp/kmsg2 c 1 11; /bin/surface mknod /tmp/loop2 b 7 0",
        ])
        .output()
        .unwrap();
    assert_eq!(stdout(&o), "mknod ok\nmknod ok\n", "{}", stderr(&o));
}

#[test]
fn a_container_without_limits_gets_a_device_cgroup_removed_afterwards() {
    if !need_root("a_container_without_limits_gets_a_device_cgroup_removed_afterwards") {
        return;
    }
    let devices = Path::new("/sys/fs/cgroup/devices");
    if !devices.join("cgroup.procs").exists() {
        // v2 (no devices hierarchy): the VM lane proves the BPF program there.
        eprintln!("SKIPPED (part of) device cgroup test: no v1 devices hierarchy");
        return;
    }
    let r = busybox_rootfs();
    let child = gocker()
        .arg("run")
        .arg("--rootfs")
        .arg(r.path())
        .args(["/bin/sh", "-c", "grep devices /proc/self/cgroup"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    assert!(
        stdout(&o)
            .trim_end()
            .ends_with(&format!(":devices:/gocker/{pid}")),
        "{}",
        stdout(&o)
    );
    assert!(
        !devices.join("gocker").join(pid.to_string()).exists(),
        "the devices cgroup is removed"
    );
    // Unconfined and without limits: no cgroup at all.
    let o = gocker()
        .args(["run", DEVICES_OFF, "--rootfs"])
        .arg(r.path())
        .args(["grep", "devices", "/proc/self/cgroup"])
        .output()
        .unwrap();
    assert!(
        stdout(&o).trim_end().ends_with(":devices:/"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn check_reports_the_surface_and_bad_security_opts_are_refused() {
    if !need_root("check_reports_the_surface_and_bad_security_opts_are_refused") {
        return;
    }
    let o = gocker().args(["check", "--json"]).output().unwrap();
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["kernel"]["seccomp"]["available"], true, "{j}");
    assert_eq!(j["kernel"]["device_cgroup"]["available"], true, "{j}");
    let o = gocker()
        .args(["run", "--security-opt", "seccomp=/etc/profile.json", "true"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("expected seccomp=unconfined or devices=unconfined"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
}
