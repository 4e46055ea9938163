//! `gocker run --trace`: one line per step of lesson 18 on stderr, as it happens: its
//! number and name, the system call with its arguments, evidence where there is some (the
//! mount namespace before and after, the new root's device, the cgroup joined), and the
//! lesson's Go code it stands for. The emitted script prints the same steps in the same
//! order under `GOCKER_TRACE=1` (`trace` in templates/script.sh, from `STEPS`).
//!
//! `--lang zh` gives the same lines with their words in Chinese (`STEPS_ZH`, `words`): the
//! system calls, their arguments, the numbers and the evidence stay as they are, and the
//! script rendered with `--lang zh` prints the same Chinese words.
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
static ZH: AtomicBool = AtomicBool::new(false);

/// Trace from now on (`--trace`).
pub fn enable() {
    ON.store(true, Ordering::Relaxed);
}

/// The trace's words in `lang` from now on (`run --trace --lang zh`).
pub fn set_lang(lang: crate::script::Lang) {
    ZH.store(lang == crate::script::Lang::Zh, Ordering::Relaxed);
}

/// `en` or `zh`, in the trace's language.
fn words<'a>(en: &'a str, zh: &'a str) -> &'a str {
    if ZH.load(Ordering::Relaxed) { zh } else { en }
}

/// The steps in `lang`: `STEPS`, or `STEPS_ZH`.
pub fn steps(lang: crate::script::Lang) -> &'static [(&'static str, &'static str); 8] {
    match lang {
        crate::script::Lang::En => &STEPS,
        crate::script::Lang::Zh => &STEPS_ZH,
    }
}

/// How a traced line frames the lesson's Go code: `[lesson 18: CODE]`, in `lang`.
pub fn lesson_label(lang: crate::script::Lang) -> &'static str {
    match lang {
        crate::script::Lang::En => "lesson 18: ",
        crate::script::Lang::Zh => "第 18 课：",
    }
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

/// `STEPS` for learners who read Chinese: the same steps, the Go code's names as they are.
pub const STEPS_ZH: [(&str, &str); 8] = [
    (
        "命名空间",
        "RunCommand：带 Cloneflags 的 exec.Command(\"/proc/self/exe\", \"init\")",
    ),
    (
        "私有挂载",
        "课里没有：systemd 下 / 是共享挂载，pivot_root 会拒绝它",
    ),
    (
        "新的根",
        "pivotRoot：syscall.Mount(root, root, \"bind\", MS_BIND|MS_REC)",
    ),
    ("proc", "syscall.Mount(\"proc\", \"/proc\", \"proc\", ...)"),
    (
        "pivot_root",
        "syscall.PivotRoot，syscall.Unmount(pivotDir, syscall.MNT_DETACH)",
    ),
    ("主机名", "syscall.Sethostname"),
    ("cgroup", "Apply"),
    ("exec", "exec.LookPath，syscall.Exec"),
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
    let lang = if ZH.load(Ordering::Relaxed) {
        crate::script::Lang::Zh
    } else {
        crate::script::Lang::En
    };
    let (name, lesson) = steps(lang)[n - 1];
    let label = lesson_label(lang);
    let line = format!("gocker trace: {n} {name}: {what} [{label}{lesson}]\n");
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
        "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL){}{}{}",
        words(" in ", "，在 "),
        mnt_ns(),
        words("", " 中")
    )
}

/// Step 1, before clone: the flags, and the namespace they leave.
pub fn clone_call(spec: &ContainerSpec) -> String {
    let flags: Vec<&str> = spec
        .namespaces
        .iter()
        .map(|n| n.clone_flag_name())
        .collect();
    format!(
        "clone3({}){}{}",
        flags.join("|"),
        words(" from ", "，离开 "),
        mnt_ns()
    )
}

/// Step 3: the new root made a mount point.
pub fn root_call(spec: &ContainerSpec, root: &Path) -> String {
    match &spec.root {
        Root::Dir(_) => format!(
            "mount({0}, {0}, NULL, MS_BIND|MS_REC, NULL)",
            root.display()
        ),
        Root::Overlay(lower) => format!(
            "mount(\"overlay\", {}, \"overlay\", 0, \"lowerdir={},upperdir=…,workdir=…\")",
            root.display(),
            lower.display()
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
    format!(
        "pivot_root(\".\", \".\"), umount2(\".\", MNT_DETACH): {}{dev}",
        words("/ is now device ", "/ 现在是设备 ")
    )
}

/// Step 7: the cgroups this process is in, if gocker made any (`/proc/self/cgroup`).
pub fn cgroup_joined() -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let ours: Vec<&str> = text.lines().filter(|l| l.contains("/gocker/")).collect();
    (!ours.is_empty()).then(|| {
        format!(
            "{}{}{}",
            words("in ", "已在 "),
            ours.join(", "),
            words("", " 中")
        )
    })
}
