//! Unit tests of the report, on fake hosts.

use super::*;
use crate::host::fake;
use crate::testutil::TempDir;

const LESSON_NS: [&str; 5] = ["mnt", "uts", "ipc", "pid", "net"];
const ALL_NS: [&str; 8] = ["mnt", "uts", "ipc", "pid", "net", "user", "cgroup", "time"];

struct Host {
    proc: TempDir,
    cgroup: TempDir,
    bin: TempDir,
}

impl Host {
    fn new(proc: TempDir, cgroup: TempDir, tools: &[&str]) -> Host {
        Host {
            proc,
            cgroup,
            bin: fake::tools(tools),
        }
    }

    fn report(&self) -> Report {
        Report::probe(&Roots {
            proc: self.proc.path().into(),
            cgroup: self.cgroup.path().into(),
            path: Some(self.bin.path().into()),
            fs: self.bin.path().join("no-such-fs"),
        })
    }
}

fn all_tools() -> Vec<&'static str> {
    SCRIPT_TOOLS.iter().map(|t| t.name).collect()
}

fn root_proc() -> TempDir {
    fake::proc(0, fake::ALL_CAPS, &ALL_NS, &[])
}

fn controller<'a>(r: &'a Report, name: &str) -> &'a Availability {
    &r.cgroups
        .controllers
        .iter()
        .find(|c| c.name == name)
        .unwrap()
        .availability
}

/// The JSON output, parsed by an independent parser.
fn parsed(r: &Report) -> serde_json::Value {
    serde_json::from_str(&json(r)).expect("check --json prints valid JSON")
}

#[test]
fn v1_host_with_every_controller() {
    let h = Host::new(
        root_proc(),
        fake::v1(&[
            "cpu", "memory", "pids", "cpuset", "blkio", "devices", "net_cls", "net_prio", "hugetlb",
        ]),
        &all_tools(),
    );
    let r = h.report();
    assert_eq!(r.cgroups.mode, Some(CgroupMode::V1));
    assert!(
        r.cgroups
            .controllers
            .iter()
            .all(|c| c.availability.is_available())
    );
    assert_eq!(r.exit_code(), 0);
    assert_eq!(r.run_meaning(), "yes (limits: --cpus, -m, --pids-limit)");
    let out = text(&r, false);
    assert!(
        out.starts_with("gocker run can work on this host, with all its limits"),
        "{out}"
    );
    assert!(out.contains("v1: one hierarchy per controller"), "{out}");
    let j = parsed(&r);
    assert_eq!(j["cgroups"]["mode"], "v1");
    assert_eq!(j["cgroups"]["controllers"]["io"]["available"], true);
    assert_eq!(j["kernel"]["release"], "6.1.0-test");
}

#[test]
fn seccomp_and_device_cgroup_are_reported_with_their_opt_outs() {
    let h = Host::new(
        root_proc(),
        fake::v1(&["cpu", "memory", "pids", "devices"]),
        &all_tools(),
    );
    let r = h.report();
    assert!(r.surface.seccomp.is_available() && r.surface.devices.is_available());
    let out = text(&r, false);
    assert!(out.contains("seccomp       available"), "{out}");
    assert!(out.contains("device cgroup available"), "{out}");
    let j = parsed(&r);
    assert_eq!(j["kernel"]["seccomp"]["available"], true);
    assert_eq!(j["kernel"]["device_cgroup"]["available"], true);

    // No devices hierarchy, no seccomp: run works only with both opt-outs.
    let p = root_proc();
    std::fs::remove_file(p.path().join("sys/kernel/seccomp/actions_avail")).unwrap();
    let h = Host::new(p, fake::v1(&["cpu", "memory", "pids"]), &all_tools());
    let r = h.report();
    assert_eq!(r.exit_code(), 0, "run works, with the opt-outs");
    assert_eq!(
        r.run_meaning(),
        "yes (limits: --cpus, -m, --pids-limit); only with --security-opt seccomp=unconfined --security-opt devices=unconfined"
    );
    let out = text(&r, false);
    assert!(out.contains("seccomp       missing"), "{out}");
    assert!(
        out.contains("device cgroup missing: devices controller"),
        "{out}"
    );
    assert!(
        out.contains("or run with --security-opt devices=unconfined"),
        "{out}"
    );
    let j = parsed(&r);
    assert_eq!(j["kernel"]["seccomp"]["available"], false);
    assert_eq!(
        j["kernel"]["device_cgroup"]["opt_out"],
        "--security-opt devices=unconfined"
    );
}

#[test]
fn hybrid_host_without_pids_runs_without_pids_limit() {
    let h = Host::new(
        root_proc(),
        fake::hybrid(&["cpu", "memory", "devices"]),
        &all_tools(),
    );
    let r = h.report();
    assert_eq!(r.cgroups.mode, Some(CgroupMode::Hybrid));
    assert!(!controller(&r, "pids").is_available());
    assert_eq!(r.exit_code(), 0, "limits are optional");
    assert_eq!(
        r.run_meaning(),
        "yes, but without --pids-limit (no pids controller)"
    );
    assert_eq!(
        r.summary(),
        "gocker run can work on this host, but without --pids-limit"
    );
    let out = text(&r, false);
    assert!(out.contains("hybrid: limits use v1"), "{out}");
    assert!(out.contains("offers no controllers"), "{out}");
    // The missing item has its hint on the next line.
    let lines: Vec<&str> = out.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.trim_start().starts_with("pids "))
        .unwrap();
    assert!(
        lines[i].contains("missing: no v1 hierarchy mounted at"),
        "{}",
        lines[i]
    );
    assert!(
        lines[i + 1].trim_start().starts_with("hint: mount it:"),
        "{}",
        lines[i + 1]
    );
    let j = parsed(&r);
    assert_eq!(j["cgroups"]["mode"], "hybrid");
    assert_eq!(j["cgroups"]["limits_version"], "v1");
    assert_eq!(j["run"]["limits_unavailable"][0]["controller"], "pids");
    assert!(j["cgroups"]["controllers"]["pids"]["hint"].is_string());
}

#[test]
fn v2_host_with_controllers_delegated() {
    let cg = fake::v2_delegated(
        &["cpuset", "cpu", "io", "memory", "pids", "hugetlb"],
        &[],
        "",
    );
    let h = Host::new(root_proc(), cg, &all_tools());
    let r = h.report();
    assert_eq!(r.cgroups.mode, Some(CgroupMode::V2));
    // v2 has no net_cls or net_prio: reported missing, and no reason `run` lacks a limit.
    for name in ["net_cls", "net_prio"] {
        assert!(!controller(&r, name).is_available(), "{name}");
    }
    assert!(r.limits().1.is_empty());
    assert!(
        r.cgroups
            .controllers
            .iter()
            .filter(|c| !c.name.starts_with("net_"))
            .all(|c| c.availability.is_available())
    );
    assert_eq!(
        parsed(&r)["run"]["limits"],
        serde_json::json!(["--cpus", "-m", "--pids-limit"])
    );
    assert!(text(&r, false).contains("v2: one unified hierarchy"));
}

#[test]
fn v2_host_without_delegation() {
    let cg = fake::v2_delegated(&["cpu"], &[], "");
    let h = Host::new(root_proc(), cg, &all_tools());
    let r = h.report();
    assert!(controller(&r, "cpu").is_available());
    let mem = controller(&r, "memory").lack().unwrap();
    assert!(mem.why.contains("not offered in"), "{mem:?}");
    assert!(mem.fix.contains("Delegate=yes"), "{mem:?}");
    assert_eq!(r.exit_code(), 0);
    assert_eq!(
        r.run_meaning(),
        "yes, but without -m (no memory controller), --pids-limit (no pids controller)"
    );
}

#[test]
fn host_with_tools_missing() {
    let h = Host::new(root_proc(), fake::v2(&["cpu"]), &["sh", "unshare", "mount"]);
    let r = h.report();
    assert_eq!(
        r.script_missing(),
        [
            "readlink",
            "setsid",
            "setpriv",
            "busybox",
            "pivot_root",
            "mknod",
            "mktemp",
            "rmdir"
        ]
    );
    // Scripts are emit-script's business: run still works.
    assert_eq!(r.exit_code(), 0);
    assert!(r.script_meaning().contains(
        "(missing: readlink, setsid, setpriv, busybox, pivot_root, mknod, mktemp, rmdir)"
    ));
    let unshare = r.tools.iter().find(|t| t.tool.name == "unshare").unwrap();
    assert_eq!(
        unshare.version.as_deref(),
        Some("unshare from util-linux 2.99")
    );
    let out = text(&r, false);
    assert!(
        out.contains("hint: install it: apt-get install util-linux"),
        "{out}"
    );
    assert!(out.contains("ip            missing (optional)"), "{out}");
    let j = parsed(&r);
    assert_eq!(j["tools"]["pivot_root"]["available"], false);
    assert_eq!(j["tools"]["pivot_root"]["package"], "util-linux");
    assert_eq!(
        j["tools"]["unshare"]["path"],
        h.bin.path().join("unshare").to_str().unwrap()
    );
    assert_eq!(j["emit_script"]["missing"][4], "pivot_root");
}

#[test]
fn unprivileged_user_cannot_run_and_exit_is_1() {
    let h = Host::new(fake::proc(1000, 0, &ALL_NS, &[]), fake::v2(&["cpu"]), &[]);
    let r = h.report();
    assert_eq!(r.exit_code(), EXIT_CANNOT_RUN);
    let out = text(&r, false);
    let first = out.lines().next().unwrap();
    assert_eq!(
        first,
        "gocker run cannot work on this host: missing root privileges (CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SETPCAP)"
    );
    assert!(out.contains("hint: run as root: sudo"), "{out}");
    let j = parsed(&r);
    assert_eq!(j["ok"], false);
    assert_eq!(j["exit_code"], 1);
    assert_eq!(j["privileges"]["euid"], 1000);
    assert_eq!(j["privileges"]["capabilities"]["CAP_SYS_ADMIN"], false);
}

#[test]
fn a_missing_lesson_namespace_stops_run_but_an_extra_one_does_not() {
    let no_time = Host::new(
        fake::proc(0, fake::ALL_CAPS, &LESSON_NS, &[]),
        fake::v2(&[]),
        &[],
    );
    let r = no_time.report();
    assert_eq!(r.exit_code(), 0);
    assert!(text(&r, false).contains("hint: use a kernel built with CONFIG_TIME_NS"));

    let no_pid = Host::new(
        fake::proc(0, fake::ALL_CAPS, &ALL_NS, &["pid"]),
        fake::v2(&[]),
        &[],
    );
    let r = no_pid.report();
    assert_eq!(r.exit_code(), EXIT_CANNOT_RUN);
    assert_eq!(
        r.summary(),
        "gocker run cannot work on this host: missing the pid namespace"
    );
    assert_eq!(parsed(&r)["namespaces"]["pid"]["available"], false);
}

#[test]
fn no_cgroup_filesystem() {
    let h = Host::new(root_proc(), TempDir::new("nocg"), &[]);
    let r = h.report();
    assert_eq!(r.cgroups.mode, None);
    assert_eq!(r.exit_code(), 0);
    assert!(
        r.run_meaning()
            .starts_with("yes, but without limits (no cgroup filesystem at")
    );
    assert_eq!(parsed(&r)["cgroups"]["mode"], serde_json::Value::Null);
}

#[test]
fn colour_only_when_asked() {
    let h = Host::new(fake::proc(1000, 0, &ALL_NS, &[]), fake::v2(&["cpu"]), &[]);
    let r = h.report();
    assert!(!text(&r, false).contains('\x1b'));
    let coloured = text(&r, true);
    assert!(
        coloured.starts_with("\x1b[31mgocker run cannot work"),
        "{coloured}"
    );
    assert!(coloured.contains("\x1b[32mavailable\x1b[0m"));
    // The JSON never has colour.
    assert!(!json(&r).contains('\x1b'));
}

#[test]
fn json_strings_are_escaped() {
    let h = Host::new(root_proc(), fake::v2(&["cpu"]), &all_tools());
    let mut r = h.report();
    let hostile = "quote \" backslash \\ newline \n tab \t bell \u{7} é";
    r.kernel = Some(hostile.into());
    let out = json(&r);
    assert!(
        out.contains(r#""quote \" backslash \\ newline \n tab \t bell \u0007 é""#),
        "{out}"
    );
    assert_eq!(parsed(&r)["kernel"]["release"], hostile);
}

#[test]
fn mount_rows_share_a_parent() {
    let m = |fstype: &str, path: &str| CgroupMount {
        fstype: fstype.into(),
        path: path.into(),
        controllers: vec![],
    };
    let rows = mount_rows(&[
        m("cgroup", "/sys/fs/cgroup/cpu"),
        m("cgroup", "/sys/fs/cgroup/memory"),
        m("cgroup2", "/sys/fs/cgroup/unified"),
    ]);
    assert_eq!(
        rows,
        [
            ("v1 mounts", "/sys/fs/cgroup/{cpu, memory}".to_owned()),
            ("cgroup2 at", "/sys/fs/cgroup/unified".to_owned())
        ]
    );
}
