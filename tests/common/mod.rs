//! Shared helpers for the end-to-end tests: the gocker binary, temporary directories,
//! a busybox root filesystem, the cgroups gocker owns on every mounted hierarchy, and
//! the requirements (root, a tool, a kernel feature) that a test cannot run without.
//!
//! A missing requirement fails the test, unless whoever runs the suite asked for that
//! skip by name in `GOCKER_SKIP` (a comma-separated list): `root`, `tool:NAME`,
//! `feature:NAME`, `vm`, or a test's own name. An asked-for skip prints `SKIPPED` and is
//! appended as one line to the file `GOCKER_SKIP_LOG` names, which `tests/all.sh` counts.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn gocker() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gocker"))
}

// The unit tests' TempDir, shared rather than copied.
pub use gocker::testutil::TempDir;

/// Whether `GOCKER_SKIP` names `what` or `test`.
fn skip_asked(what: &str, test: &str) -> bool {
    std::env::var("GOCKER_SKIP")
        .is_ok_and(|v| v.split(',').map(str::trim).any(|w| w == what || w == test))
}

/// Record a skip that was asked for: printed, and one line in `GOCKER_SKIP_LOG`.
pub fn record_skip(what: &str, test: &str, reason: &str) {
    eprintln!("SKIPPED {test} ({what}): {reason}");
    if let Some(log) = std::env::var_os("GOCKER_SKIP_LOG") {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap_or_else(|e| panic!("open GOCKER_SKIP_LOG {log:?}: {e}"));
        // One write per line, so lines from parallel tests do not interleave.
        f.write_all(format!("{test} ({what}): {reason}\n").as_bytes())
            .unwrap_or_else(|e| panic!("write GOCKER_SKIP_LOG {log:?}: {e}"));
    }
}

/// A requirement `what` of `test` is missing (`reason` says how): returns false (skip)
/// when `GOCKER_SKIP` asks for that skip, after recording it; else the test fails.
pub fn skip_or_fail(what: &str, test: &str, reason: &str) -> bool {
    if skip_asked(what, test) {
        record_skip(what, test, reason);
        return false;
    }
    panic!("{test}: {reason}; to skip it, set GOCKER_SKIP={what} (or GOCKER_SKIP={test})");
}

/// Runs `test` only when `present` (a kernel feature named `feature`): true to go on;
/// false after a skip asked for with `GOCKER_SKIP=feature:NAME`; otherwise it panics.
pub fn skip_unless(present: bool, feature: &str, test: &str, reason: &str) -> bool {
    present || skip_or_fail(&format!("feature:{feature}"), test, reason)
}

/// This process's effective uid.
pub fn euid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("the Uid line of /proc/self/status")
}

/// True when running as root; false only when `GOCKER_SKIP=root` (or the test's name)
/// asked to skip; otherwise the test fails: it must run.
pub fn need_root(test: &str) -> bool {
    euid() == 0 || skip_or_fail("root", test, "needs root (run the suite as root; CI does)")
}

/// Returns from the test unless it can run as root (see `need_root`).
#[allow(unused_macros)]
macro_rules! root_or_skip {
    ($name:expr) => {
        if !need_root($name) {
            return;
        }
    };
}
#[allow(unused_imports)]
pub(crate) use root_or_skip;

/// Arguments as the `OsString`s a `Command` or gocker's parser takes.
pub fn os(args: &[&str]) -> Vec<std::ffi::OsString> {
    args.iter().map(std::ffi::OsString::from).collect()
}

/// A program the tests need, found on PATH. Missing, it fails the test unless
/// `GOCKER_SKIP=tool:NAME` (or the test's name) asked to skip it; then None.
pub fn tool(name: &str, test: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        skip_or_fail(
            &format!("tool:{name}"),
            test,
            &format!("needs {name}, which is not on PATH (tests/all.sh installs it)"),
        );
    }
    found
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

/// `gocker emit-script ARGS` into `file`; the test fails if gocker refuses.
pub fn emit_to(args: &[std::ffi::OsString], file: &Path) {
    let out = gocker()
        .arg("emit-script")
        .args(args)
        .output()
        .expect("run gocker emit-script");
    assert!(
        out.status.success(),
        "emit-script {args:?} failed: {}",
        stderr(&out)
    );
    std::fs::write(file, &out.stdout).expect("write script");
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

/// One mounted cgroup hierarchy, from /proc/self/mountinfo.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    pub mount: PathBuf,
    pub v2: bool,
    /// v1: the controllers in its super options (`cpu`, `memory`, `name=systemd`, …);
    /// v2: those in its root's cgroup.controllers.
    pub controllers: Vec<String>,
}

/// Every cgroup hierarchy mounted on this host, v1 and v2, wherever it is mounted.
pub fn cgroup_hierarchies() -> Vec<Hierarchy> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").expect("read mountinfo");
    let mut v = Vec::new();
    for line in text.lines() {
        // "id parent dev root mountpoint opts [optional...] - fstype source superopts"
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let mount = left.split_whitespace().nth(4).unwrap_or("");
        let mut r = right.split_whitespace();
        let (fstype, superopts) = (r.next().unwrap_or(""), r.nth(1).unwrap_or(""));
        // mountinfo escapes space, tab, newline and backslash as octal.
        let mount = PathBuf::from(
            mount
                .replace("\\040", " ")
                .replace("\\011", "\t")
                .replace("\\012", "\n")
                .replace("\\134", "\\"),
        );
        match fstype {
            "cgroup" => v.push(Hierarchy {
                controllers: superopts
                    .split(',')
                    .filter(|o| !matches!(*o, "rw" | "ro") && !o.starts_with("release_agent"))
                    .map(String::from)
                    .collect(),
                mount,
                v2: false,
            }),
            "cgroup2" => v.push(Hierarchy {
                controllers: std::fs::read_to_string(mount.join("cgroup.controllers"))
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(String::from)
                    .collect(),
                mount,
                v2: true,
            }),
            _ => {}
        }
    }
    v
}

/// Every container cgroup directory (`gocker/<id>`) on every mounted cgroup hierarchy.
/// Panics when no cgroup hierarchy is mounted at all: "none left" would check nothing.
pub fn cgroup_dirs() -> BTreeSet<PathBuf> {
    let hierarchies = cgroup_hierarchies();
    assert!(
        !hierarchies.is_empty(),
        "no cgroup hierarchy is mounted: cannot look for gocker's cgroups"
    );
    let mut set = BTreeSet::new();
    for h in hierarchies {
        if let Ok(rd) = std::fs::read_dir(h.mount.join("gocker")) {
            for e in rd.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    set.insert(e.path());
                }
            }
        }
    }
    set
}

/// The cgroup directories a gocker (or script) process with `pid` owns, on any hierarchy.
pub fn cgroups_of(pid: u32) -> Vec<PathBuf> {
    let id = pid.to_string();
    cgroup_dirs()
        .into_iter()
        .filter(|p| p.file_name().and_then(|n| n.to_str()) == Some(id.as_str()))
        .collect()
}

/// The hierarchy that holds `controller` for gocker on this host: its v1 hierarchy if one
/// is mounted (gocker uses v1 then), else the v2 one that offers it.
pub fn hierarchy_of(controller: &str) -> Option<Hierarchy> {
    let all = cgroup_hierarchies();
    all.iter()
        .find(|h| !h.v2 && h.controllers.iter().any(|c| c == controller))
        .or_else(|| {
            all.iter()
                .find(|h| h.v2 && h.controllers.iter().any(|c| c == controller))
        })
        .cloned()
}

/// The limit files of every hierarchy's root and its `gocker` parent, with their values:
/// what a container must never change on the host.
pub fn host_cgroup_limits() -> Vec<(PathBuf, String)> {
    const FILES: &[&str] = &[
        "cpu.max",
        "cpu.cfs_quota_us",
        "cpu.cfs_period_us",
        "cpu.shares",
        "cpu.weight",
        "memory.max",
        "memory.high",
        "memory.swap.max",
        "memory.limit_in_bytes",
        "memory.memsw.limit_in_bytes",
        "memory.soft_limit_in_bytes",
        "pids.max",
    ];
    let mut v = Vec::new();
    for h in cgroup_hierarchies() {
        for dir in [h.mount.clone(), h.mount.join("gocker")] {
            for f in FILES {
                if let Ok(s) = std::fs::read_to_string(dir.join(f)) {
                    v.push((dir.join(f), s.trim().to_string()));
                }
            }
        }
    }
    v.sort();
    v
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

/// Whether the kernel accounts swap per cgroup, so that gocker's swap limit is written:
/// v1's memory.memsw.* files, v2's memory.swap.max (in any cgroup below the root).
pub fn swap_accounted() -> bool {
    let Some(h) = hierarchy_of("memory") else {
        return false;
    };
    if !h.v2 {
        return h.mount.join("memory.memsw.limit_in_bytes").exists();
    }
    std::fs::read_dir(&h.mount).is_ok_and(|rd| {
        rd.flatten()
            .any(|e| e.path().join("memory.swap.max").exists())
    })
}

/// An OOM test holds when the host has no swap, or gocker can forbid the container swap;
/// on a host with swap and no swap accounting the container could page out instead of
/// being killed: then the test fails unless `GOCKER_SKIP=feature:swap-accounting`.
pub fn oom_is_certain(test: &str) -> bool {
    let swaps = std::fs::read_to_string("/proc/swaps").unwrap_or_default();
    let swap_on = swaps.lines().count() > 1;
    skip_unless(
        !swap_on || swap_accounted(),
        "swap-accounting",
        test,
        "this host has swap but its kernel does not account swap per cgroup \
         (swapaccount=0?), so -m cannot forbid the container swap",
    )
}

/// What an escape would change on the host: the entries (name, type, size) of `/`, `/etc`,
/// `/dev`, and the mount table; taken before an attack and compared after it.
#[derive(Debug, PartialEq)]
pub struct HostSnapshot {
    dirs: std::collections::BTreeMap<PathBuf, Vec<(String, String, u64)>>,
    mounts: Vec<String>,
}

fn file_kind(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_symlink() {
        "link"
    } else if t.is_dir() {
        "dir"
    } else if t.is_char_device() {
        "char"
    } else if t.is_block_device() {
        "block"
    } else if t.is_file() {
        "file"
    } else {
        "other"
    }
}

impl HostSnapshot {
    pub fn take() -> HostSnapshot {
        let mut dirs = std::collections::BTreeMap::new();
        for d in [Path::new("/"), Path::new("/etc"), Path::new("/dev")] {
            let mut v: Vec<(String, String, u64)> = std::fs::read_dir(d)
                .unwrap_or_else(|e| panic!("read {}: {e}", d.display()))
                .flatten()
                .filter(|e| {
                    // Pseudo-terminals and the kernel's own come and go with other tests.
                    let n = e.file_name();
                    !(d == Path::new("/dev") && n == "pts")
                })
                .map(|e| {
                    let m = e.metadata().ok();
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        m.as_ref()
                            .map_or("gone", |m| file_kind(m.file_type()))
                            .to_string(),
                        m.filter(|m| m.is_file()).map_or(0, |m| m.len()),
                    )
                })
                .collect();
            v.sort();
            dirs.insert(d.to_path_buf(), v);
        }
        HostSnapshot {
            dirs,
            mounts: mountinfo(),
        }
    }

    /// Panics, naming `case` and what changed, unless the host is as it was.
    pub fn assert_unchanged(&self, case: &str) {
        let now = HostSnapshot::take();
        for (d, before) in &self.dirs {
            let after = &now.dirs[d];
            let added: Vec<_> = after.iter().filter(|e| !before.contains(e)).collect();
            let removed: Vec<_> = before.iter().filter(|e| !after.contains(e)).collect();
            assert!(
                added.is_empty() && removed.is_empty(),
                "{case}: the host's {} changed: added {added:?}, removed {removed:?}",
                d.display()
            );
        }
        assert_eq!(
            self.mounts, now.mounts,
            "{case}: the host's mount table changed"
        );
    }
}
