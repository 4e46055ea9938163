//! Shared helpers for the end-to-end tests: the gocker binary, temporary directories,
//! a busybox root filesystem, and the root requirement.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn gocker() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gocker"))
}

// The unit tests' TempDir, shared rather than copied.
#[path = "../../src/testutil.rs"]
mod testutil;
pub use testutil::TempDir;

/// True when running as root. In CI (CI=true) a test that needs root must not skip:
/// this panics there instead of returning false.
pub fn need_root(test: &str) -> bool {
    // SAFETY-free check: /proc/self/status Uid line, effective uid is the second field.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("");
    if euid == "0" {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test} needs root, and CI must run it: run the suite as root");
    }
    eprintln!("SKIPPED {test}: needs root (run the suite as root; CI does)");
    false
}

/// A busybox root filesystem made by `gocker rootfs busybox`, removed when dropped.
pub fn busybox_rootfs() -> TempDir {
    let t = TempDir::new("rootfs");
    let out = gocker()
        .args(["rootfs", "busybox"])
        .arg(t.path())
        .output()
        .expect("run gocker rootfs");
    assert!(
        out.status.success(),
        "gocker rootfs busybox failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    t
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Run `gocker run --rootfs ROOT ARGS...` and return its output.
pub fn run_in(root: &Path, args: &[&str]) -> Output {
    gocker()
        .arg("run")
        .arg("--rootfs")
        .arg(root)
        .args(args)
        .output()
        .expect("run gocker")
}

/// The host's mount table, for before/after comparisons.
pub fn mountinfo() -> Vec<String> {
    let s = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut v: Vec<String> = s
        .lines()
        // Mount ids change; compare what is mounted where.
        .map(|l| {
            l.split_whitespace()
                .skip(3)
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    v.sort();
    v
}

/// Every container cgroup directory gocker could have left on this host.
pub fn gocker_cgroups() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for parent in [
        "/sys/fs/cgroup/gocker",
        "/sys/fs/cgroup/cpu/gocker",
        "/sys/fs/cgroup/memory/gocker",
        "/sys/fs/cgroup/pids/gocker",
        "/sys/fs/cgroup/unified/gocker",
    ] {
        if let Ok(rd) = std::fs::read_dir(parent) {
            for e in rd.flatten() {
                if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    v.push(e.path());
                }
            }
        }
    }
    v.sort();
    v
}

/// The cgroup directories a gocker (or script) process with `pid` would own.
pub fn cgroups_of(pid: u32) -> Vec<PathBuf> {
    gocker_cgroups()
        .into_iter()
        .filter(|p| p.file_name().and_then(|n| n.to_str()) == Some(&pid.to_string()))
        .collect()
}

/// Poll `f` every 20 ms until it gives a value; panics after 10 s naming `what`.
pub fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = std::time::Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The children of process `pid` (the container's PID 1 is gocker's only child).
pub fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// A program the tests need: found on PATH, or skipped with a message; in CI (CI set)
/// a missing program is a failure, never a skip.
pub fn tool(name: &str, test: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("{test} needs {name}, and CI must run it: install it");
        }
        eprintln!("SKIPPED (part of) {test}: {name} not found");
    }
    found
}

/// Wait until the container of gocker process `gocker_pid` has a PID 1 that has started
/// a child of its own (the tests' scripts set their traps, then start `sleep`); returns
/// that PID 1 as the host sees it.
pub fn wait_until_busy(gocker_pid: u32) -> u32 {
    let pid1 = wait_for("the container's PID 1", || {
        children(gocker_pid).first().copied()
    });
    wait_for("its first child", || children(pid1).first().copied());
    pid1
}

/// Start `gocker run --rootfs ROOT [OPTS...] sleep SECONDS` and wait until the container's
/// PID 1 has exec'd `sleep` (its comm is no longer gocker's); returns gocker and that PID 1.
pub fn start_sleeping(root: &Path, opts: &[&str], seconds: &str) -> (std::process::Child, u32) {
    let child = gocker()
        .arg("run")
        .args(opts)
        .arg("--rootfs")
        .arg(root)
        .args(["sleep", seconds])
        .spawn()
        .expect("spawn gocker");
    let gpid = child.id();
    let pid1 = wait_for("the container's PID 1", || children(gpid).first().copied());
    wait_for("exec of sleep", || {
        let comm = std::fs::read_to_string(format!("/proc/{pid1}/comm")).unwrap_or_default();
        (comm.trim() == "sleep").then_some(())
    });
    (child, pid1)
}
