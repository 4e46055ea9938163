//! Attacks on `gocker run`, as an image nobody has read and a caller in an unknown state
//! would make them: symlinks in the rootfs that point at the host, descriptors and
//! inheritable capabilities held by the caller, submounts under a read-only volume, terminal
//! tricks, misspelt options and kill storms. Each test attacks for real, as root, and then
//! checks that the host is exactly as it was.

mod common;

use common::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn ln(target: &str, link: &Path) {
    if let Ok(m) = std::fs::symlink_metadata(link) {
        if m.is_dir() {
            std::fs::remove_dir_all(link).unwrap();
        } else {
            std::fs::remove_file(link).unwrap();
        }
    }
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// A directory made in the host's `/` for the length of a test: the container must never
/// see it.
struct HostMarker(PathBuf);

impl HostMarker {
    fn new() -> HostMarker {
        let p = PathBuf::from(format!("/gocker-test-host-marker-{}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        HostMarker(p)
    }
}

impl Drop for HostMarker {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// A probe run in the container that would show an escape: `/..` must be `/` itself and
/// must not hold the host's marker, and it writes a file through every way out it knows
/// (the host snapshot then shows whether any landed).
const ESCAPE_PROBE: &str = "for d in /.. /../.. /proc/1/root/.. /dev /data /etcl; do (echo escaped > $d/gocker-escape-marker) 2>/dev/null; done; \
     [ / -ef /.. ] || echo DOTDOT-IS-ELSEWHERE; ls -a /.. /../.. | grep -c gocker-test-host-marker; exit 0";

#[test]
fn symlinks_in_the_rootfs_never_lead_outside() {
    if !need_root("symlinks_in_the_rootfs_never_lead_outside") {
        return;
    }
    let src = TempDir::new("vol-src");
    std::fs::write(src.path().join("in-volume"), "v").unwrap();
    let srcs = src.path().to_str().unwrap().to_string();
    let file_src = src.path().join("in-volume");
    let file_srcs = file_src.to_str().unwrap().to_string();
    // (case, what to do to a fresh busybox rootfs, gocker options, expected status or None
    // for "whatever, as long as the host is unchanged")
    type Setup = fn(&Path);
    let cases: Vec<(&str, Setup, Vec<String>, Option<i32>)> = vec![
        ("proc -> /", |r| ln("/", &r.join("proc")), vec![], Some(125)),
        ("dev -> /", |r| ln("/", &r.join("dev")), vec![], Some(125)),
        (
            "dev -> ../../../..",
            |r| ln("../../../..", &r.join("dev")),
            vec![],
            Some(125),
        ),
        (
            "dev -> /dev (the root 'has' the host's /dev/null)",
            |r| ln("/dev", &r.join("dev")),
            vec![],
            Some(125),
        ),
        (
            "dev/pts -> / with -t",
            |r| ln("/", &r.join("dev/pts")),
            vec!["-t".into()],
            Some(125),
        ),
        (
            "data -> / with -v SRC:/data",
            |r| ln("/", &r.join("data")),
            vec!["-v".into(), format!("{srcs}:/data")],
            Some(125),
        ),
        (
            "data -> ../../.. with -v SRC:/data",
            |r| ln("../../..", &r.join("data")),
            vec!["-v".into(), format!("{srcs}:/data")],
            Some(125),
        ),
        (
            "etcl -> /etc with -v SRC:/etcl/new",
            |r| ln("/etc", &r.join("etcl")),
            vec!["-v".into(), format!("{srcs}:/etcl/new")],
            Some(0),
        ),
        (
            "a file volume through fvol -> /etc/gocker-hostile-file",
            |r| ln("/etc/gocker-hostile-file", &r.join("fvol")),
            vec!["-v".into(), format!("{file_srcs}:/fvol")],
            Some(0),
        ),
        (
            "a file volume through fvol -> ../../../etc/gocker-hostile-file",
            |r| ln("../../../etc/gocker-hostile-file", &r.join("fvol")),
            vec!["-v".into(), format!("{file_srcs}:/fvol")],
            Some(0),
        ),
        (
            "workdir through wd -> /",
            |r| ln("/../../..", &r.join("wd")),
            vec!["-w".into(), "/wd/sub".into()],
            Some(0),
        ),
    ];
    let base = busybox_rootfs();
    let _marker = HostMarker::new();
    // Each case on the copy-on-write root and written into the rootfs itself (--rootfs-rw),
    // where what was made can be seen afterwards.
    let cases = cases
        .into_iter()
        .flat_map(|c| [(c.clone(), false), (c, true)]);
    for ((case, setup, opts, want), rw) in cases {
        let r = TempDir::new("hostile");
        let cp = Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", base.path().display()))
            .arg(r.path())
            .status()
            .unwrap();
        assert!(cp.success());
        setup(r.path());
        let before = HostSnapshot::take();
        let mut args: Vec<&str> = rw.then_some("--rootfs-rw").into_iter().collect();
        args.extend(opts.iter().map(String::as_str));
        args.extend(["/bin/sh", "-c", ESCAPE_PROBE]);
        let o = run_in(r.path(), &args);
        before.assert_unchanged(case);
        if let Some(code) = want {
            assert_eq!(
                o.status.code(),
                Some(code),
                "{case}: stdout {:?} stderr {:?}",
                stdout(&o),
                stderr(&o)
            );
        }
        if o.status.code() == Some(125) {
            let err = stderr(&o);
            assert_eq!(err.lines().count(), 1, "{case}: one line: {err:?}");
            assert!(err.starts_with("gocker: "), "{case}: {err:?}");
        } else {
            // It ran: the host's root was never in reach (no usr, etc and bin at /..).
            assert_eq!(
                stdout(&o),
                "0\n",
                "{case}: /.. showed the host: {}",
                stderr(&o)
            );
        }
        // Where a volume went through a symlink, it landed inside the rootfs.
        if !rw {
            continue;
        }
        if case.starts_with("etcl") {
            assert!(
                r.path().join("etc/new").is_dir(),
                "{case}: made inside the rootfs"
            );
        }
        if case.starts_with("a file volume") {
            assert!(r.path().join("etc/gocker-hostile-file").is_file(), "{case}");
        }
        if case.starts_with("workdir") {
            assert!(
                r.path().join("sub").is_dir(),
                "{case}: made inside the rootfs"
            );
        }
    }
}

#[test]
fn a_symlink_inside_the_image_works_as_under_docker() {
    if !need_root("a_symlink_inside_the_image_works_as_under_docker") {
        return;
    }
    let r = busybox_rootfs();
    let src = TempDir::new("vol-src");
    std::fs::write(src.path().join("hello"), "from-volume").unwrap();
    std::fs::create_dir_all(r.path().join("srv/data")).unwrap();
    ln("srv/data", &r.path().join("data"));
    let vol = format!("{}:/data:ro", src.path().display());
    let o = run_in(
        r.path(),
        &[
            "-v",
            &vol,
            "/bin/sh",
            "-c",
            "cat /srv/data/hello; cat /data/hello",
        ],
    );
    assert_eq!(stdout(&o), "from-volumefrom-volume", "{}", stderr(&o));
    assert!(o.status.success());
}

#[test]
fn only_stdin_stdout_and_stderr_reach_the_command() {
    if !need_root("only_stdin_stdout_and_stderr_reach_the_command") {
        return;
    }
    let r = busybox_rootfs();
    let secret = TempDir::new("secret");
    let secret_file = secret.path().join("shadow");
    std::fs::write(&secret_file, "host-secret-8c1f").unwrap();
    // The caller holds a secret file open on fd 3, the host's / on fd 9 and 12: the ways
    // out a leaked descriptor gives. bash opens them and execs gocker, which inherits all.
    let script = format!(
        "exec 3<{} 9</ 12</; exec \"$0\" run --rootfs \"$1\" /bin/sh -c 'ls /proc/self/fd; cat <&3; ls /proc/self/fd/9/ 2>&1; ls /proc/self/fd/12/etc 2>&1'",
        secret_file.display()
    );
    let o = Command::new("bash")
        .args(["-c", &script, env!("CARGO_BIN_EXE_gocker")])
        .arg(r.path())
        .output()
        .unwrap();
    let out = stdout(&o);
    // ls itself opens its directory (fd 3) while listing: 0 1 2 3 is the clean answer.
    assert!(out.starts_with("0\n1\n2\n3\n"), "{out:?} {}", stderr(&o));
    assert!(!out.contains("host-secret-8c1f"), "fd 3 leaked: {out}");
    assert!(!out.contains("\n4\n") && !out.contains("\n9\n"), "{out}");
    assert!(
        !out.contains("passwd"),
        "fd 12 leaked the host's /etc: {out}"
    );
}

fn cap_line(status: &str, name: &str) -> String {
    status
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} in {status}"))
        .to_string()
}

#[test]
fn inheritable_capabilities_of_the_caller_do_not_reach_the_container() {
    if !need_root("inheritable_capabilities_of_the_caller_do_not_reach_the_container") {
        return;
    }
    let Some(setpriv) = tool(
        "setpriv",
        "inheritable_capabilities_of_the_caller_do_not_reach_the_container",
    ) else {
        return;
    };
    let r = busybox_rootfs();
    // The caller holds CAP_SYS_ADMIN (and more) in its inheritable set: before the fix,
    // root in the container got them back at execve and could remount /proc/sys.
    let o = Command::new(setpriv)
        .args(["--inh-caps", "+sys_admin,+sys_module,+net_admin", "--"])
        .arg(env!("CARGO_BIN_EXE_gocker"))
        .args(["run", "--rootfs"])
        .arg(r.path())
        .args([
            "/bin/sh",
            "-c",
            "grep ^Cap /proc/self/status; mount -o remount,rw /proc/sys 2>/dev/null && echo REMOUNTED; echo 0 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo WROTE; true",
        ])
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    // Docker's default set, exactly: chown dac_override fowner fsetid kill setgid setuid
    // setpcap net_bind_service net_raw sys_chroot mknod audit_write setfcap.
    for (set, want) in [
        ("CapInh", "0000000000000000"),
        ("CapPrm", "00000000a80425fb"),
        ("CapEff", "00000000a80425fb"),
        ("CapBnd", "00000000a80425fb"),
        ("CapAmb", "0000000000000000"),
    ] {
        assert_eq!(cap_line(&out, set), format!("{set}:\t{want}"), "{out}");
    }
    assert!(
        !out.contains("REMOUNTED") && !out.contains("WROTE"),
        "{out}"
    );
}

#[test]
fn read_only_volumes_are_read_only_all_the_way_down() {
    if !need_root("read_only_volumes_are_read_only_all_the_way_down") {
        return;
    }
    let r = busybox_rootfs();
    let src = TempDir::new("ro-src");
    let sub = src.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    // A mount below the volume's source: a bind's remount,ro never reached it. It is made
    // in a mount namespace of the test's own (gocker runs in it), so that no other test
    // sees the host's mount table change.
    let vol = format!("{}:/v:ro", src.path().display());
    let o = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg("mount -t tmpfs gocker-test \"$1\" && shift && exec \"$@\"")
        .arg("sh")
        .arg(&sub)
        .arg(env!("CARGO_BIN_EXE_gocker"))
        .args(["run", "--rootfs"])
        .arg(r.path())
        .args([
            "-v",
            &vol,
            "/bin/sh",
            "-c",
            "touch /v/top 2>/dev/null && echo top-writable; touch /v/sub/below 2>/dev/null && echo sub-writable; grep ' /v' /proc/self/mountinfo | cut -d' ' -f5,6",
        ])
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!out.contains("writable"), "{out}");
    assert!(
        out.contains("/v ro,") && out.contains("/v/sub ro,"),
        "{out}"
    );
    assert!(!sub.join("below").exists() && !src.path().join("top").exists());
}

#[test]
fn the_terminal_comes_from_the_containers_own_devpts() {
    if !need_root("the_terminal_comes_from_the_containers_own_devpts") {
        return;
    }
    let r = busybox_rootfs();
    let o = run_in(
        r.path(),
        &[
            "-t",
            "/bin/sh",
            "-c",
            "tty; stat -c %t:%T /dev/pts/0; ls -1 /dev/pts | tr '\\n' ' '; echo; readlink /proc/self/fd/0; ps -o tty,comm | grep -c '^136,0 '",
        ],
    );
    let out = stdout(&o).replace('\r', "");
    let lines: Vec<&str> = out.lines().collect();
    assert!(o.status.success(), "{out} {}", stderr(&o));
    assert_eq!(lines.first(), Some(&"/dev/pts/0"), "tty names it: {out}");
    // Unix 98 pty slaves are major 136 (hex 88).
    assert_eq!(lines.get(1), Some(&"88:0"), "{out}");
    assert_eq!(
        lines.get(2),
        Some(&"0 ptmx "),
        "a devpts of its own, with one terminal: {out}"
    );
    assert_eq!(lines.get(3), Some(&"/dev/pts/0"), "{out}");
    // busybox ps names a terminal by its numbers: pts/0 of this instance is 136,0.
    assert!(
        lines
            .get(4)
            .is_some_and(|n| n.parse::<u32>().unwrap_or(0) >= 2),
        "ps shows sh and itself on the terminal: {out}"
    );
}

#[test]
fn piped_input_with_it_ends_at_eof() {
    if !need_root("piped_input_with_it_ends_at_eof") {
        return;
    }
    let r = busybox_rootfs();
    for (input, want) in [(&b"hi\n"[..], "hi"), (&b"no-newline"[..], "no-newline")] {
        let mut child = gocker()
            .args(["run", "-it", "--rootfs"])
            .arg(r.path())
            .args(["cat"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        let pid = child.id();
        let done = wait_for_exit(&mut child, 10);
        assert!(done, "echo … | gocker run -it cat hung (pid {pid})");
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert!(out.contains(want), "{out:?}");
        assert_eq!(child.wait().unwrap().code(), Some(0));
    }
}

/// Wait up to `secs` for `child` to exit; kill it and return false if it does not.
fn wait_for_exit(child: &mut std::process::Child, secs: u64) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(secs) {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

#[test]
fn a_reader_that_goes_away_never_makes_gocker_hang() {
    if !need_root("a_reader_that_goes_away_never_makes_gocker_hang") {
        return;
    }
    let r = busybox_rootfs();
    // Programs that never stop writing: one that dies of EIO, one that ignores it.
    for prog in [
        vec!["yes"],
        vec!["/bin/sh", "-c", "trap '' HUP; while :; do echo y; done"],
    ] {
        let mut child = gocker()
            .args(["run", "-t", "--rootfs"])
            .arg(r.path())
            .args(&prog)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let gpid = child.id();
        let mut out = child.stdout.take().unwrap();
        let mut first = [0u8; 2];
        out.read_exact(&mut first).unwrap();
        drop(out); // the reader goes away, as `| head -1` does
        assert!(
            wait_for_exit(&mut child, 10),
            "{prog:?}: gocker hung after its reader went away"
        );
        wait_for("the container's cgroup and processes to go", || {
            (children(gpid).is_empty() && cgroups_of(gpid).is_empty()).then_some(())
        });
    }
}

#[test]
fn an_unknown_option_before_the_command_is_refused() {
    let r = TempDir::new("unknown-opt");
    for sub in ["run", "emit-script"] {
        let o = gocker()
            .args([sub, "--rootfs"])
            .arg(r.path())
            .args(["--memroy", "64m", "sh"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(125), "{sub}: {}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("unknown option --memroy") && err.contains("--memory"),
            "{sub}: {err}"
        );
        assert!(stdout(&o).is_empty());
    }
}

#[test]
fn a_kill_storm_leaves_nothing_behind() {
    if !need_root("a_kill_storm_leaves_nothing_behind") {
        return;
    }
    let r = busybox_rootfs();
    let tmp = TempDir::new("storm-tmp");
    let staging = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("gocker-root."))
            .collect()
    };
    let before = HostSnapshot::take();
    let mut owners = Vec::new();
    // SIGKILL gockers at every moment of their start: some before clone, some while the
    // child builds its root (the staging directory exists), some while the command runs.
    for i in 0..40u64 {
        let mut cmd = gocker();
        cmd.env("TMPDIR", tmp.path()).arg("run");
        if i % 2 == 0 {
            cmd.args(["--rootfs"]).arg(r.path());
        }
        let mut child = cmd
            .args([
                "--cpus",
                "0.5",
                "-m",
                "32",
                "--pids-limit",
                "20",
                "sleep",
                "5",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        owners.push(child.id());
        std::thread::sleep(std::time::Duration::from_micros(300 * (i % 10)));
        let _ = child.kill();
        let _ = child.wait();
    }
    // Their containers die with them (PR_SET_PDEATHSIG), a moment later; what they left
    // (cgroups, staging directories) the next run sweeps. A cgroup with a process still in
    // it cannot be removed, so first wait for the last container to be gone.
    wait_for("the killed gockers' containers to exit", || {
        owners
            .iter()
            .flat_map(|&p| cgroups_of(p))
            .all(|cg| {
                std::fs::read_to_string(cg.join("cgroup.procs")).is_ok_and(|s| s.trim().is_empty())
            })
            .then_some(())
    });
    let o = gocker()
        .env("TMPDIR", tmp.path())
        .args(["run", "true"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let left_cgroups: Vec<_> = owners.iter().flat_map(|&p| cgroups_of(p)).collect();
    assert!(left_cgroups.is_empty(), "cgroups left: {left_cgroups:?}");
    assert!(
        staging(tmp.path()).is_empty(),
        "staging directories left: {:?}",
        staging(tmp.path())
    );
    before.assert_unchanged("kill storm");
}

#[test]
fn a_sweep_never_takes_a_staging_directory_in_use() {
    if !need_root("a_sweep_never_takes_a_staging_directory_in_use") {
        return;
    }
    let tmp = TempDir::new("inuse-tmp");
    // A live owner (this test's own process) with an empty staging directory, and a dead
    // one: the next run must remove only the second.
    let live = tmp
        .path()
        .join(format!("gocker-root.{}.aaaaaa", std::process::id()));
    let dead = tmp.path().join("gocker-root.2147483646.bbbbbb");
    std::fs::create_dir(&live).unwrap();
    std::fs::create_dir(&dead).unwrap();
    let o = gocker()
        .env("TMPDIR", tmp.path())
        .args(["run", "true"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(live.exists(), "the directory of a live owner was swept");
    assert!(!dead.exists(), "the directory of a dead owner was left");
}
