//! The kernel surface beyond namespaces: seccomp and the device allow list.

use super::*;

/// The opt-outs named in the hints below.
pub const SECCOMP_OPT_OUT: &str = "--security-opt seccomp=unconfined";
pub const DEVICES_OPT_OUT: &str = "--security-opt devices=unconfined";

/// Can this kernel apply a seccomp filter that answers with an errno? From
/// `/proc/sys/kernel/seccomp/actions_avail` (Linux 4.14; CONFIG_SECCOMP_FILTER).
pub fn seccomp(proc: &Path) -> Availability {
    let file = proc.join("sys/kernel/seccomp/actions_avail");
    match std::fs::read_to_string(&file) {
        Ok(s) if s.split_whitespace().any(|a| a == "errno") => Availability::Available,
        Ok(s) => Availability::missing(
            format!("{} offers only {}", file.display(), s.trim()),
            format!(
                "use a kernel whose seccomp has the errno action, or run with {SECCOMP_OPT_OUT}"
            ),
        ),
        Err(_) => Availability::missing(
            format!("no {}: the kernel lacks seccomp filters", file.display()),
            format!("use a kernel with CONFIG_SECCOMP_FILTER=y, or run with {SECCOMP_OPT_OUT}"),
        ),
    }
}

/// The same question for `run`, in one system call rather than a file read:
/// PR_GET_SECCOMP fails with EINVAL on a kernel without seccomp.
pub(crate) fn seccomp_now() -> Availability {
    match crate::sys::seccomp_mode() {
        Ok(_) => Availability::Available,
        Err(e) => Availability::missing(
            format!("prctl(PR_GET_SECCOMP): {}", crate::error::os_reason(&e)),
            format!("use a kernel with CONFIG_SECCOMP_FILTER=y, or run with {SECCOMP_OPT_OUT}"),
        ),
    }
}

/// Can the container's cgroup limit its devices? v1 (and hybrid): the `devices`
/// hierarchy. v2: a BPF_PROG_TYPE_CGROUP_DEVICE program, which needs the bpf system call
/// (CONFIG_BPF_SYSCALL, whose sysctl `unprivileged_bpf_disabled` shows it) and
/// CONFIG_CGROUP_BPF; the runtime loads the program before anything is created, so a
/// kernel without the latter is refused there.
pub fn device_cgroup(proc: &Path, root: &Path, mode: CgroupMode) -> Availability {
    match mode {
        CgroupMode::V1 | CgroupMode::Hybrid => match v1_controller(root, mode, "devices") {
            Availability::Missing(l) => Availability::missing(
                format!("devices controller: {}", l.why),
                format!("{}; or run with {DEVICES_OPT_OUT}", l.fix),
            ),
            a => a,
        },
        CgroupMode::V2 => {
            let bpf = proc.join("sys/kernel/unprivileged_bpf_disabled");
            if bpf.exists() {
                Availability::Available
            } else {
                Availability::missing(
                    format!("no {}: the kernel has no bpf system call", bpf.display()),
                    format!(
                        "use a kernel with CONFIG_BPF_SYSCALL=y and CONFIG_CGROUP_BPF=y, or run with {DEVICES_OPT_OUT}"
                    ),
                )
            }
        }
    }
}
