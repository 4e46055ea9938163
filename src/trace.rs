//! `gocker run --trace`: one line per step of lesson 18 on stderr, as it happens: its
//! number and name, the system call with its arguments, evidence where there is some (the
//! mount namespace before and after, the new root's device, the cgroup joined), and the
//! lesson's Go code it stands for. The emitted script prints the same steps in the same
//! order under `GOCKER_TRACE=1` (`trace` in templates/script.sh, from `STEPS`).
//!
//! Off, which is the default, a step costs one relaxed atomic load: nothing is formatted
//! and no system call is made. The flag is set before clone, so the child, a copy of this
//! process, traces too.

use crate::runtime::newroot::Op;
use crate::spec::{ContainerSpec, Root};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

static ON: AtomicBool = AtomicBool::new(false);

/// Trace from now on (`--trace`).
pub fn enable() {
    ON.store(true, Ordering::Relaxed);
}

/// The steps, in the order both backends take them: (name, lesson 18's Go code).
pub const STEPS: [(&str, &str); 8] = [
    (
        "namespaces",
        "RunCommand: exec.Command(\"/proc/self/exe\", \"init\") with Cloneflags",
    ),
    (
        "private",
        "none: / is shared under systemd, and pivot_root refuses it",
    ),
    (
        "root",
        "pivotRoot: syscall.Mount(root, root, \"bind\", MS_BIND|MS_REC)",
    ),
    ("proc", "syscall.Mount(\"proc\", \"/proc\", \"proc\", ...)"),
    (
        "pivot_root",
        "syscall.PivotRoot, syscall.Unmount(pivotDir, syscall.MNT_DETACH)",
    ),
    ("hostname", "syscall.Sethostname"),
    ("cgroup", "Apply"),
    ("exec", "exec.LookPath, syscall.Exec"),
];

/// Step `n` (of `STEPS`, from 1) has happened; `what` says how, called only when tracing.
#[inline]
pub fn step(n: usize, what: impl FnOnce() -> String) {
    if ON.load(Ordering::Relaxed) {
        write(n, &what());
    }
}

/// `step`, for a step that may not apply (`what` gives None).
#[inline]
pub fn step_if(n: usize, what: impl FnOnce() -> Option<String>) {
    if ON.load(Ordering::Relaxed)
        && let Some(w) = what()
    {
        write(n, &w);
    }
}

/// One line, in one write(2), so that lines of the parent and the child never mix.
#[cold]
fn write(n: usize, what: &str) {
    let (name, lesson) = STEPS[n - 1];
    let line = format!("gocker trace: {n} {name}: {what} [lesson 18: {lesson}]\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// This process's mount namespace (`mnt:[INODE]`): a new one after clone.
pub fn mnt_ns() -> String {
    std::fs::read_link("/proc/self/ns/mnt")
        .map(|p| p.display().to_string())
        .unwrap_or_else(|e| format!("? ({e})"))
}

/// Step 2, in the child: propagation made private, in its new mount namespace.
pub fn private() -> String {
    format!(
        "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL) in {}",
        mnt_ns()
    )
}

/// Step 1, before clone: the flags, and the namespace they leave.
pub fn clone_call(spec: &ContainerSpec) -> String {
    let flags: Vec<&str> = spec
        .namespaces
        .iter()
        .map(|n| n.clone_flag_name())
        .collect();
    format!("clone3({}) from {}", flags.join("|"), mnt_ns())
}

/// Step 3: the new root made a mount point.
pub fn root_call(spec: &ContainerSpec, root: &Path) -> String {
    match spec.root {
        Root::Dir(_) => format!(
            "mount({0}, {0}, NULL, MS_BIND|MS_REC, NULL)",
            root.display()
        ),
        Root::HostView => format!("mount(\"tmpfs\", {}, \"tmpfs\", ...)", root.display()),
    }
}

/// Step 4, after each step of the mount plan (`newroot::apply`): only /proc is the lesson's.
pub(crate) fn mounted(op: &Op) {
    step_if(4, || {
        matches!(op, Op::NewFs { target, fstype: "proc", .. } if *target == Path::new("/proc"))
            .then(|| "mount(\"proc\", \"/proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC)".into())
    });
}

/// Step 5, after pivot_root: the device of the new /, the rootfs's.
pub fn pivoted() -> String {
    let dev =
        std::fs::metadata("/").map_or_else(|e| format!("? ({e})"), |m| format!("{:#x}", m.dev()));
    format!("pivot_root(\".\", \".\"), umount2(\".\", MNT_DETACH): / is now device {dev}")
}

/// Step 7: the cgroups this process is in, if gocker made any (`/proc/self/cgroup`).
pub fn cgroup_joined() -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let ours: Vec<&str> = text.lines().filter(|l| l.contains("/gocker/")).collect();
    (!ours.is_empty()).then(|| format!("in {}", ours.join(", ")))
}
