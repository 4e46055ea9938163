//! Unit tests of the probes, on fake trees.

use super::*;
use crate::testutil::TempDir;

#[test]
fn detects_each_mode() {
    assert_eq!(
        cgroup_mode(fake::v1(&["cpu", "memory"]).path()),
        Some(CgroupMode::V1)
    );
    assert_eq!(
        cgroup_mode(fake::hybrid(&["cpu"]).path()),
        Some(CgroupMode::Hybrid)
    );
    assert_eq!(cgroup_mode(fake::v2(&["cpu"]).path()), Some(CgroupMode::V2));
    assert_eq!(cgroup_mode(TempDir::new("none").path()), None);
    assert_eq!(CgroupMode::Hybrid.limits_version(), Version::V1);
}

#[test]
fn controllers_v1_and_v2() {
    let v1 = fake::hybrid(&["cpu", "pids", "blkio"]);
    let h = CgroupHost::probe(v1.path()).unwrap();
    assert_eq!(controller(v1.path(), h.mode, "io"), Availability::Available);
    assert_eq!(h.first_missing(&[Controller::Cpu, Controller::Pids]), None);
    let (c, lack) = h
        .first_missing(&[Controller::Cpu, Controller::Memory])
        .unwrap();
    let why = lack.why;
    assert_eq!(c, Controller::Memory);
    assert!(why.contains("memory"), "{why}");

    let v2 = fake::v2(&["cpu", "pids"]);
    let h = CgroupHost::probe(v2.path()).unwrap();
    assert_eq!(h.version(), Version::V2);
    assert_eq!(
        h.first_missing(&[Controller::Memory]).unwrap().0,
        Controller::Memory
    );
    assert_eq!(h.first_missing(&[Controller::Cpu]), None);
}

#[test]
fn namespaces_from_proc() {
    let t = TempDir::new("proc");
    fake::touch(&t.path().join("self/ns/pid"), "");
    fake::touch(&t.path().join("self/ns/user"), "");
    fake::touch(&t.path().join("sys/user/max_user_namespaces"), "0\n");
    fake::touch(&t.path().join("sys/user/max_pid_namespaces"), "1000\n");
    assert_eq!(namespace(t.path(), "pid"), Availability::Available);
    assert!(
        matches!(namespace(t.path(), "user"), Availability::Missing(l) if l.why.contains("is 0") && l.fix.contains("sysctl"))
    );
    assert!(matches!(
        namespace(t.path(), "time"),
        Availability::Missing(_)
    ));
}

#[test]
fn host_view_dirs_and_links() {
    let t = TempDir::new("fs");
    std::fs::create_dir(t.path().join("usr")).unwrap();
    std::os::unix::fs::symlink("usr/bin", t.path().join("bin")).unwrap();
    let dirs = host_view_dirs(t.path());
    assert_eq!(
        dirs,
        [
            HostDir::Dir("/usr".into()),
            HostDir::Link("/bin".into(), "usr/bin".into())
        ]
    );
}

#[test]
fn tools_on_a_given_path() {
    let t = TempDir::new("path");
    let exe = t.path().join("unshare");
    fake::touch(&exe, "#!/bin/sh\n");
    std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = Some(OsString::from(t.path()));
    assert_eq!(tool(path.as_ref(), "unshare"), Some(exe));
    assert_eq!(tool(path.as_ref(), "pivot_root"), None);
}

fn spec(cpus: Option<&str>, memory: Option<&str>, pids: Option<&str>) -> ContainerSpec {
    let args = crate::frontend::cli::RunArgs {
        hostname: "gocker".into(),
        command: vec!["true".into()],
        cpus: cpus.map(str::to_owned),
        memory: memory.map(str::to_owned),
        pids_limit: pids.map(str::to_owned),
        ..Default::default()
    };
    args.to_spec(&HostFacts::known(2, 1 << 30, vec![], vec![]))
        .unwrap()
}

const LESSON_NS: [&str; 5] = ["mnt", "uts", "ipc", "pid", "net"];

/// Roots on fake trees; `bin` is the only directory on PATH.
fn roots(proc: &TempDir, cgroup: &TempDir, bin: &TempDir) -> Roots {
    Roots {
        proc: proc.path().into(),
        cgroup: cgroup.path().into(),
        path: Some(bin.path().into()),
        fs: bin.path().join("no-such-fs"),
    }
}

fn refusal(r: Result<Option<CgroupHost>>) -> String {
    let e = r.expect_err("should be refused");
    assert_eq!(crate::error::exit_code_of(&e), 125, "{e:#}");
    crate::error::one_line(&e)
}

#[test]
fn privileges_from_status() {
    let root = fake::proc(0, fake::ALL_CAPS, &[], &[]);
    let p = privileges(root.path());
    assert_eq!(p.euid, Some(0));
    assert!(p.is_root() && p.sufficient());
    assert_eq!(p.lack(root.path()), None);

    // root inside a container that took CAP_SYS_ADMIN away.
    let boxed = fake::proc(0, fake::ALL_CAPS & !(1 << 21), &[], &[]);
    let p = privileges(boxed.path());
    assert_eq!(p.missing_caps(), ["CAP_SYS_ADMIN"]);
    assert!(
        p.lack(boxed.path())
            .unwrap()
            .why
            .starts_with("euid 0 lacks CAP_SYS_ADMIN")
    );

    // A user holding the capabilities can; one without cannot.
    let caps = RUN_CAPS.iter().fold(0, |m, c| m | 1 << c.bit);
    assert!(privileges(fake::proc(1000, caps, &[], &[]).path()).sufficient());
    let user = fake::proc(1000, 0, &[], &[]);
    let lack = privileges(user.path()).lack(user.path()).unwrap();
    assert_eq!(
        lack.why,
        "euid 1000 is not root and lacks CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SETPCAP"
    );
    assert!(lack.fix.contains("sudo"));

    let none = TempDir::new("noproc");
    assert!(
        privileges(none.path())
            .lack(none.path())
            .unwrap()
            .why
            .contains("cannot read")
    );
}

#[test]
fn capget_agrees_with_proc_status() {
    let fast = privileges_fast(Path::new("/proc"));
    let slow = privileges(Path::new("/proc"));
    assert_eq!(fast, slow);
    assert!(fast.cap_eff.is_some());
}

#[test]
fn kernel_release_from_proc() {
    let p = fake::proc(0, 0, &[], &[]);
    assert_eq!(kernel_release(p.path()).as_deref(), Some("6.1.0-test"));
    assert_eq!(kernel_release(TempDir::new("empty").path()), None);
}

#[test]
fn namespace_hints_name_the_kernel_option_or_sysctl() {
    let p = fake::proc(0, 0, &["mnt", "net"], &["net"]);
    assert!(namespace(p.path(), "mnt").is_available());
    let net = namespace(p.path(), "net");
    assert!(net.lack().unwrap().fix.contains("user.max_net_namespaces"));
    let time = namespace(p.path(), "time");
    assert!(
        time.lack().unwrap().fix.contains("CONFIG_TIME_NS"),
        "{time:?}"
    );
}

#[test]
fn v2_root_cgroup_offers_or_not() {
    let t = fake::v2(&["cpu", "memory", "pids"]);
    assert!(controller(t.path(), CgroupMode::V2, "memory").is_available());
    let io = controller(t.path(), CgroupMode::V2, "io");
    let lack = io.lack().unwrap();
    assert!(lack.why.contains("not offered in"), "{lack:?}");
    assert!(lack.fix.contains("CONFIG_BLK_CGROUP"), "{lack:?}");
    // The true root may hold processes and still enable controllers.
    fake::touch(&t.path().join(PROCS), "1\n2\n");
    assert!(controller(t.path(), CgroupMode::V2, "pids").is_available());
}

#[test]
fn v2_delegated_without_and_with_controllers() {
    // Delegated, empty, offering memory: gocker can enable it itself.
    let ok = fake::v2_delegated(&["cpu", "memory", "pids"], &[], "");
    assert!(controller(ok.path(), CgroupMode::V2, "memory").is_available());
    // Not delegated: the fix names the delegating side.
    let not = fake::v2_delegated(&["cpu"], &[], "");
    let lack = controller(not.path(), CgroupMode::V2, "memory");
    assert!(
        lack.lack().unwrap().fix.contains("Delegate=yes"),
        "{lack:?}"
    );
    // Delegated but holding processes: the no-internal-process rule.
    let busy = fake::v2_delegated(&["cpu", "memory"], &["cpu"], "1\n");
    assert!(controller(busy.path(), CgroupMode::V2, "cpu").is_available());
    let lack = controller(busy.path(), CgroupMode::V2, "memory");
    assert!(
        lack.lack().unwrap().why.contains("no-internal-process"),
        "{lack:?}"
    );
}

#[test]
fn v2_gocker_parent_with_processes_is_reported() {
    let t = fake::v2(&["cpu", "memory"]);
    fake::touch(&t.path().join("gocker/cgroup.procs"), "4242\n");
    fake::touch(&t.path().join("gocker/cgroup.subtree_control"), "");
    let lack = controller(t.path(), CgroupMode::V2, "cpu");
    let lack = lack.lack().unwrap();
    assert!(lack.why.contains("gocker holds processes"), "{lack:?}");
    assert!(lack.fix.contains("move them out"), "{lack:?}");
    // Empty again: fine.
    fake::touch(&t.path().join("gocker/cgroup.procs"), "");
    assert!(controller(t.path(), CgroupMode::V2, "cpu").is_available());
}

#[test]
fn v1_missing_comounted_and_bound_to_v2() {
    let t = fake::hybrid(&["cpu,cpuacct", "memory"]);
    fake::touch(&t.path().join("unified/cgroup.controllers"), "pids\n");
    let cpu = controller(t.path(), CgroupMode::Hybrid, "cpu");
    assert!(
        cpu.lack()
            .unwrap()
            .fix
            .starts_with("link it: ln -s cpu,cpuacct"),
        "{cpu:?}"
    );
    let pids = controller(t.path(), CgroupMode::Hybrid, "pids");
    assert!(
        pids.lack().unwrap().why.contains("limits use v1"),
        "{pids:?}"
    );
    let io = controller(t.path(), CgroupMode::Hybrid, "io");
    let lack = io.lack().unwrap();
    assert!(lack.why.contains("blkio"), "{lack:?}");
    assert!(lack.fix.contains("mount -t cgroup -o blkio"), "{lack:?}");
}

#[test]
fn cgroup_mounts_from_the_mount_table() {
    let p = fake::proc(0, 0, &[], &[]);
    fake::touch(
        &p.path().join("self/mounts"),
        "proc /proc proc rw 0 0\n\
         cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,relatime 0 0\n\
         cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,relatime,cpu,cpuacct 0 0\n\
         cgroup /sys/fs/cgroup/systemd cgroup rw,xattr,name=systemd 0 0\n",
    );
    let m = cgroup_mounts(p.path());
    assert_eq!(m.len(), 3);
    assert_eq!(m[0].fstype, "cgroup2");
    assert!(m[0].controllers.is_empty());
    assert_eq!(m[1].controllers, ["cpu", "cpuacct"]);
    assert_eq!(m[2].path, Path::new("/sys/fs/cgroup/systemd"));
}

#[test]
fn script_tools_list_is_complete_and_unique() {
    for name in ["unshare", "mount", "mknod", "pivot_root", "setpriv", "sh"] {
        assert!(script_tool(name).is_some_and(|t| t.required), "{name}");
    }
    // After pivot_root the script runs busybox's hostname applet, not the host's.
    assert!(script_tool("hostname").is_none());
    // setsid runs only without -t (templates/script.sh).
    let setsid = script_tool("setsid").unwrap();
    assert!(setsid.needed(false, false, false, false));
    assert!(!setsid.needed(false, false, true, false));
    assert!(!setsid.needed(true, true, true, true));
    let mut names: Vec<_> = SCRIPT_TOOLS.iter().map(|t| t.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), SCRIPT_TOOLS.len());
}

#[test]
fn tools_off_path_are_found_in_sbin_and_versions_read() {
    let bin = fake::tools(&[]);
    let fs = fake::tools(&["pivot_root"]);
    let sbin = fs.path().join("usr/sbin");
    std::fs::create_dir_all(&sbin).unwrap();
    std::fs::rename(fs.path().join("pivot_root"), sbin.join("pivot_root")).unwrap();
    let roots = Roots {
        proc: "/nonexistent".into(),
        cgroup: "/nonexistent".into(),
        path: Some(bin.path().into()),
        fs: fs.path().into(),
    };
    let found = find_tool(&roots, "pivot_root").unwrap();
    assert_eq!(found.path, sbin.join("pivot_root"));
    assert!(!found.on_path);
    assert_eq!(find_tool(&roots, "unshare"), None);
    assert_eq!(
        tool_version(&found.path).as_deref(),
        Some("pivot_root from util-linux 2.99")
    );
}

#[test]
fn a_tool_that_fails_or_hangs_has_no_version() {
    let t = TempDir::new("bad");
    let fails = t.path().join("fails");
    fake::touch(&fails, "#!/bin/sh\necho oops\nexit 1\n");
    let hangs = t.path().join("hangs");
    fake::touch(&hangs, "#!/bin/sh\nexec sleep 30\n");
    for exe in [&fails, &hangs] {
        std::fs::set_permissions(exe, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    assert_eq!(tool_version(&fails), None);
    let start = Instant::now();
    assert_eq!(tool_version(&hangs), None);
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn needs_from_the_spec() {
    let s = spec(Some("1"), None, Some("10"));
    let run = Needs::run(&s);
    assert!(run.privileges && run.tools.is_empty());
    assert_eq!(
        run.controllers,
        [Controller::Cpu, Controller::Pids, Controller::Devices]
    );
    assert!(run.seccomp);
    assert_eq!(run.namespaces, Namespace::LESSON);
    let script = Needs::script(&s);
    assert!(!script.privileges);
    let names: Vec<&str> = script.tools.iter().map(|t| t.name).collect();
    assert!(names.contains(&"pivot_root") && !names.contains(&"ip"));
    assert_eq!(script.controllers, [Controller::Cpu, Controller::Pids]);
    assert!(!script.seccomp);
}

#[test]
fn refuse_nothing_when_the_host_has_everything() {
    let p = fake::proc(0, fake::ALL_CAPS, &LESSON_NS, &[]);
    let cg = fake::v2(&["cpu", "memory", "pids"]);
    let bin = fake::tools(&SCRIPT_TOOLS.map(|t| t.name));
    let r = roots(&p, &cg, &bin);
    let s = spec(Some("1"), Some("64"), Some("10"));
    let host = refuse_unsupported(&Needs::run(&s), &r).unwrap().unwrap();
    assert_eq!(host.mode, CgroupMode::V2);
    assert!(
        refuse_unsupported(&Needs::script(&s), &r)
            .unwrap()
            .is_some()
    );
    // No limits: a cgroup all the same, for the device list; unless unconfined.
    let none = spec(None, None, None);
    assert!(
        refuse_unsupported(&Needs::run(&none), &r)
            .unwrap()
            .is_some()
    );
    assert_eq!(
        refuse_unsupported(&Needs::run(&devices_unconfined(none)), &r).unwrap(),
        None
    );
}

fn devices_unconfined(mut s: ContainerSpec) -> ContainerSpec {
    s.confinement.devices = false;
    s
}

#[test]
fn refuse_a_host_without_device_cgroup_or_seccomp_unless_unconfined() {
    let bin = fake::tools(&[]);
    // v1 without the devices hierarchy.
    let p = fake::proc(0, fake::ALL_CAPS, &LESSON_NS, &[]);
    let cg = fake::v1(&["cpu", "memory", "pids"]);
    let r = roots(&p, &cg, &bin);
    let s = spec(None, None, None);
    let msg = refusal(refuse_unsupported(&Needs::run(&s), &r));
    assert!(msg.contains("devices controller"), "{msg}");
    assert!(
        msg.ends_with(&format!("or run with {DEVICES_OPT_OUT}")),
        "{msg}"
    );
    assert_eq!(
        refuse_unsupported(&Needs::run(&devices_unconfined(s.clone())), &r).unwrap(),
        None
    );
    // v2 on a kernel without the bpf system call.
    std::fs::remove_file(p.path().join("sys/kernel/unprivileged_bpf_disabled")).unwrap();
    let cg = fake::v2(&["cpu", "memory", "pids"]);
    let r = roots(&p, &cg, &bin);
    let msg = refusal(refuse_unsupported(&Needs::run(&s), &r));
    assert!(msg.contains("no bpf system call"), "{msg}");
    assert!(msg.contains(DEVICES_OPT_OUT), "{msg}");
    assert!(!device_cgroup(&p.path().join("x"), cg.path(), CgroupMode::V2).is_available());
    // check's seccomp probe, from the same fake /proc.
    assert!(seccomp(p.path()).is_available());
    std::fs::remove_file(p.path().join("sys/kernel/seccomp/actions_avail")).unwrap();
    let lack = seccomp(p.path());
    assert!(
        lack.lack().unwrap().fix.contains(SECCOMP_OPT_OUT),
        "{lack:?}"
    );
}

#[test]
fn refuse_a_missing_controller_only_when_asked_for() {
    let p = fake::proc(0, fake::ALL_CAPS, &LESSON_NS, &[]);
    let bin = fake::tools(&[]);
    for cg in [
        fake::v1(&["cpu", "memory", "devices"]),
        fake::hybrid(&["cpu", "memory", "devices"]),
        fake::v2(&["cpu", "memory"]),
    ] {
        let r = roots(&p, &cg, &bin);
        let msg = refusal(refuse_unsupported(
            &Needs::run(&spec(None, None, Some("5"))),
            &r,
        ));
        assert!(
            msg.starts_with("--pids-limit needs the pids cgroup controller"),
            "{msg}"
        );
        assert!(msg.contains("or run without --pids-limit"), "{msg}");
        // Options that need nothing missing still work.
        let ok = refuse_unsupported(&Needs::run(&spec(Some("1"), Some("64"), None)), &r);
        assert!(ok.unwrap().is_some());
    }
    let empty = TempDir::new("nocgroup");
    let r = roots(&p, &empty, &bin);
    let msg = refusal(refuse_unsupported(
        &Needs::run(&spec(None, Some("64"), None)),
        &r,
    ));
    assert!(msg.starts_with("no cgroup filesystem at"), "{msg}");
    assert!(
        refuse_unsupported(&Needs::run(&devices_unconfined(spec(None, None, None))), &r).is_ok()
    );
}

#[test]
fn refuse_missing_privileges_namespace_and_tool() {
    let cg = fake::v2(&[]);
    let all_but_pivot_root: Vec<&str> = SCRIPT_TOOLS
        .iter()
        .map(|t| t.name)
        .filter(|n| *n != "pivot_root")
        .collect();
    let bin = fake::tools(&all_but_pivot_root);
    let s = spec(None, None, None);

    let user = fake::proc(1000, 0, &LESSON_NS, &[]);
    let msg = refusal(refuse_unsupported(
        &Needs::run(&s),
        &roots(&user, &cg, &bin),
    ));
    assert!(msg.starts_with("gocker run needs root"), "{msg}");
    assert!(msg.contains("sudo"), "{msg}");
    // The script is run later, by root: emit-script does not need privileges.
    let msg = refusal(refuse_unsupported(
        &Needs::script(&s),
        &roots(&user, &cg, &bin),
    ));
    assert!(msg.contains("needs pivot_root"), "{msg}");
    assert!(msg.contains("apt-get install util-linux"), "{msg}");

    // busybox's setpriv lacks --bounding-set: found, but not usable.
    let with_busybox = fake::tools(&SCRIPT_TOOLS.map(|t| t.name));
    let bb = with_busybox.path().join("busybox");
    fake::touch(&bb, "#!/bin/sh\n");
    std::fs::set_permissions(&bb, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::remove_file(with_busybox.path().join("setpriv")).unwrap();
    std::os::unix::fs::symlink("busybox", with_busybox.path().join("setpriv")).unwrap();
    let msg = refusal(refuse_unsupported(
        &Needs::script(&s),
        &roots(&user, &cg, &with_busybox),
    ));
    assert!(
        msg.contains("needs setpriv") && msg.contains("busybox"),
        "{msg}"
    );

    let no_pid = fake::proc(0, fake::ALL_CAPS, &["mnt", "uts", "ipc", "net"], &[]);
    let msg = refusal(refuse_unsupported(
        &Needs::run(&s),
        &roots(&no_pid, &cg, &bin),
    ));
    assert!(
        msg.contains("needs the pid namespace (CLONE_NEWPID)"),
        "{msg}"
    );
    assert!(msg.contains("CONFIG_PID_NS"), "{msg}");

    let no_net = fake::proc(0, fake::ALL_CAPS, &LESSON_NS, &["net"]);
    let msg = refusal(refuse_unsupported(
        &Needs::script(&s),
        &roots(&no_net, &cg, &bin),
    ));
    assert!(
        msg.contains("gocker emit-script needs the net namespace"),
        "{msg}"
    );
    assert!(msg.contains("sysctl -w user.max_net_namespaces="), "{msg}");
}
