//! Fake host trees for tests of the probes (and of `check`).
use crate::testutil::TempDir;
use std::path::Path;

pub fn touch(p: &Path, content: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

/// A v1 host with the given controller hierarchies.
pub fn v1(controllers: &[&str]) -> TempDir {
    let t = TempDir::new("v1");
    for c in controllers {
        touch(&t.path().join(c).join("cgroup.procs"), "");
    }
    t
}

/// A hybrid host: v1 hierarchies plus an empty cgroup2 at unified/.
pub fn hybrid(controllers: &[&str]) -> TempDir {
    let t = v1(controllers);
    touch(&t.path().join("unified/cgroup.controllers"), "");
    touch(&t.path().join("unified/cgroup.procs"), "");
    t
}

/// A v2 host whose root offers `controllers`.
pub fn v2(controllers: &[&str]) -> TempDir {
    let t = TempDir::new("v2");
    touch(
        &t.path().join("cgroup.controllers"),
        &(controllers.join(" ") + "\n"),
    );
    touch(&t.path().join("cgroup.subtree_control"), "");
    touch(&t.path().join("cgroup.procs"), "");
    t
}

/// A v2 tree that is a delegated, non-root cgroup (as inside a container): it has
/// `cgroup.type`, offers `offered`, has `enabled` in its subtree_control, and holds
/// `procs`.
pub fn v2_delegated(offered: &[&str], enabled: &[&str], procs: &str) -> TempDir {
    let t = v2(offered);
    touch(&t.path().join("cgroup.type"), "domain\n");
    touch(&t.path().join("cgroup.subtree_control"), &enabled.join(" "));
    touch(&t.path().join("cgroup.procs"), procs);
    t
}

/// A fake /proc: this process's status (euid, CapEff), the namespaces in `ns`, their
/// `max_*_namespaces` (0 for those in `forbidden`), the kernel release and mounts.
pub fn proc(euid: u32, cap_eff: u64, ns: &[&str], forbidden: &[&str]) -> TempDir {
    let t = TempDir::new("proc");
    let p = t.path();
    touch(
        &p.join("self/status"),
        &format!(
            "Name:\tgocker\nUid:\t{euid}\t{euid}\t{euid}\t{euid}\nCapInh:\t0000000000000000\nCapEff:\t{cap_eff:016x}\n"
        ),
    );
    for n in ns {
        touch(&p.join("self/ns").join(n), "");
        let max = if forbidden.contains(n) { "0" } else { "15000" };
        touch(&p.join(format!("sys/user/max_{n}_namespaces")), max);
    }
    touch(&p.join("sys/kernel/osrelease"), "6.1.0-test\n");
    touch(&p.join("self/mounts"), "");
    // A kernel with seccomp filters and the bpf system call.
    touch(
        &p.join("sys/kernel/seccomp/actions_avail"),
        "kill_process kill_thread trap errno user_notif trace log allow\n",
    );
    touch(&p.join("sys/kernel/unprivileged_bpf_disabled"), "2\n");
    t
}

/// root with every capability (CapEff of a 41-capability kernel).
pub const ALL_CAPS: u64 = 0x1ff_ffff_ffff;

/// Executables in a fresh directory, each printing "NAME from util-linux 2.99" for
/// --version.
pub fn tools(names: &[&str]) -> TempDir {
    let t = TempDir::new("bin");
    for n in names {
        let exe = t.path().join(n);
        touch(
            &exe,
            &format!(
                "#!/bin/sh\n[ \"$1\" = --version ] && echo '{n} from util-linux 2.99 (test)'\nexit 0\n"
            ),
        );
        std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
    t
}
