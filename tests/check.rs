//! End-to-end tests of `gocker check`: the real report on this machine, checked against
//! what the machine itself shows (`/proc/self/mounts`, the cgroup tree, `/proc/self/ns`,
//! `command -v`). Every expectation is derived from the machine, so the tests hold on a
//! hybrid host, a cgroup-v2 CI machine, as root or not. None needs root: `check` reports
//! the lack of it.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn check(args: &[&str]) -> (Output, String) {
    let out = gocker()
        .arg("check")
        .args(args)
        .output()
        .expect("run gocker check");
    let text = stdout(&out);
    (out, text)
}

fn check_json() -> (i32, Value) {
    let (out, text) = check(&["--json"]);
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("check --json is not JSON ({e}):\n{text}"));
    (out.status.code().expect("exit status"), v)
}

const CG: &str = "/sys/fs/cgroup";

/// The cgroup mode as the mount table shows it.
fn mode_from_mounts() -> Option<&'static str> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
    let mut v2_at_root = false;
    let mut v2_unified = false;
    let mut v1 = false;
    for l in mounts.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        match (f[1], f[2]) {
            (CG, "cgroup2") => v2_at_root = true,
            (p, "cgroup2") if p == format!("{CG}/unified") => v2_unified = true,
            (p, "cgroup") if p.starts_with(CG) => v1 = true,
            _ => {}
        }
    }
    match (v2_at_root, v2_unified, v1) {
        (true, _, _) => Some("v2"),
        (false, true, true) => Some("hybrid"),
        (false, false, true) => Some("v1"),
        _ => None,
    }
}

/// The path the shell finds for `name` on this test's PATH (which gocker inherits).
fn command_v(name: &str) -> Option<String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .ok()?;
    let path = stdout(&out).trim().to_owned();
    (out.status.success() && path.starts_with('/')).then_some(path)
}

#[test]
fn json_cgroups_match_this_machine() {
    let (_, v) = check_json();
    let cg = &v["cgroups"];
    let mode = mode_from_mounts();
    assert_eq!(
        cg["mode"].as_str(),
        mode,
        "mode vs /proc/self/mounts: {cg:#}"
    );
    for c in ["cpu", "memory", "pids"] {
        let reported = &cg["controllers"][c];
        let available = reported["available"].as_bool().unwrap();
        match mode {
            Some("v1" | "hybrid") => {
                let hierarchy = Path::new(CG).join(c).join("cgroup.procs").is_file();
                assert_eq!(available, hierarchy, "{c}: {reported}");
            }
            Some("v2") => {
                let offered = std::fs::read_to_string(format!("{CG}/cgroup.controllers"))
                    .unwrap()
                    .split_whitespace()
                    .any(|w| w == c);
                // Offered controllers are available unless v2's no-internal-process
                // rule stands in the way, and then the report says so.
                if available {
                    assert!(
                        offered,
                        "{c} reported available but not offered: {reported}"
                    );
                } else if offered {
                    let why = reported["why"].as_str().unwrap();
                    assert!(why.contains("no-internal-process"), "{c}: {reported}");
                }
            }
            _ => assert!(!available, "{c} without a cgroup filesystem: {reported}"),
        }
        assert!(reported["used_by_gocker"].as_bool().unwrap());
    }
}

#[test]
fn json_namespaces_privileges_and_kernel_match_this_machine() {
    let (code, v) = check_json();
    for ns in ["mnt", "uts", "ipc", "pid", "net", "user", "cgroup", "time"] {
        let exists = std::fs::symlink_metadata(format!("/proc/self/ns/{ns}")).is_ok();
        let max = std::fs::read_to_string(format!("/proc/sys/user/max_{ns}_namespaces"))
            .map(|s| s.trim() != "0")
            .unwrap_or(true);
        assert_eq!(
            v["namespaces"][ns]["available"].as_bool(),
            Some(exists && max),
            "{ns}: {}",
            v["namespaces"][ns]
        );
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(v["kernel"]["release"].as_str(), Some(release.trim()));
    let root = euid() == 0;
    assert_eq!(v["privileges"]["root"].as_bool(), Some(root));
    assert_eq!(v["privileges"]["euid"].as_u64(), Some(euid().into()));
    // Exit 0 exactly when run can work: privileges and the lesson's five namespaces.
    let lesson_ok = ["mnt", "uts", "ipc", "pid", "net"]
        .iter()
        .all(|ns| v["namespaces"][ns]["available"] == true);
    let can_run = v["privileges"]["sufficient"] == true && lesson_ok;
    assert_eq!(code, if can_run { 0 } else { 1 }, "{v:#}");
    assert_eq!(v["exit_code"].as_i64(), Some(code.into()));
    assert_eq!(v["ok"].as_bool(), Some(can_run));
    if root {
        // This machine, and CI (root on a host with the lesson's namespaces).
        assert_eq!(code, 0, "as root here, run should work: {}", v["summary"]);
    }
}

#[test]
fn json_tools_match_command_v() {
    let (_, v) = check_json();
    let tools = v["tools"].as_object().unwrap();
    for name in ["unshare", "mount", "mknod", "pivot_root", "setpriv", "sh"] {
        let t = &tools[name];
        if let Some(path) = command_v(name) {
            assert_eq!(t["available"], true, "{name}: {t}");
            assert_eq!(t["path"].as_str(), Some(path.as_str()), "{name}: {t}");
            assert_eq!(t["on_path"], true, "{name}: {t}");
        } else {
            // Not on PATH: at most found in an sbin directory, and then said so.
            assert_eq!(t["on_path"], false, "{name}: {t}");
        }
        assert!(
            t["package"].is_string() && t["why"].is_string(),
            "{name}: {t}"
        );
    }
    // The full script runs busybox's hostname applet after pivot_root, never the host's;
    // setsid is the host's, and says it is needed only without -t.
    assert!(tools.get("hostname").is_none(), "{tools:?}");
    let why = tools["setsid"]["why"].as_str().unwrap();
    assert!(why.contains("without -t"), "{why}");
    let needs: Vec<&str> = v["emit_script"]["needs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    for name in ["unshare", "mount", "mknod", "pivot_root", "setpriv", "sh"] {
        assert!(needs.contains(&name), "emit-script needs {name}: {needs:?}");
    }
}

#[test]
fn text_report_has_the_groups_and_no_colour_in_a_pipe() {
    let (out, text) = check(&[]);
    let (code, v) = check_json();
    assert_eq!(out.status.code(), Some(code), "{text}");
    for heading in [
        "Privileges",
        "Kernel",
        "Namespaces",
        "Control groups",
        "Script tools",
        "What this means",
    ] {
        assert!(
            text.lines().any(|l| l == heading),
            "no heading {heading}:\n{text}"
        );
    }
    assert!(!text.contains('\x1b'), "colour in a pipe:\n{text}");
    assert_eq!(text.lines().next(), v["summary"].as_str(), "{text}");
    for c in ["cpu", "memory", "pids", "cpuset", "io"] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(&format!("{c} "))),
            "no row for controller {c}:\n{text}"
        );
    }
    if let Some(mode) = mode_from_mounts() {
        assert!(text.contains(&format!("  mode          {mode}")), "{text}");
    }
    assert!(text.contains("  run           "), "{text}");
    assert!(
        text.contains("  emit-script   scripts for this host need: "),
        "{text}"
    );
}

#[test]
fn check_without_root_reports_the_lack_of_it() {
    let test = "check_without_root_reports_the_lack_of_it";
    // As root, drop to nobody with setpriv (util-linux); as a user, run as is.
    let _copy;
    let mut cmd = if euid() == 0 {
        let Some(setpriv) = tool("setpriv", test) else {
            return;
        };
        // nobody may not reach the build directory (under a private home): run a copy
        // of the (static) binary from a directory everyone can read.
        let dir = TempDir::new("nobody");
        let bin = dir.path().join("gocker");
        std::fs::copy(env!("CARGO_BIN_EXE_gocker"), &bin).expect("copy gocker");
        _copy = dir;
        let mut c = Command::new(setpriv);
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ]);
        c.arg(bin);
        c
    } else {
        gocker()
    };
    let out = cmd.args(["check"]).output().expect("run gocker check");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    let first = text.lines().next().unwrap_or("");
    assert!(
        first.starts_with("gocker run cannot work on this host: missing root privileges"),
        "{text}"
    );
    assert!(text.contains("hint: run as root"), "{text}");
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}
