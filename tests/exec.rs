//! `gocker exec`, end to end (as root): a container started in the background with
//! `gocker run`, recorded in a state store of the test's own (as `create` records one),
//! then joined. Each test compares what the exec'd process sees with what the host sees
//! of the container's init, so that a process left outside any namespace, the cgroup, or
//! the init's confinement fails it.

mod common;

use common::*;
use gocker::frontend::cli::{Cli, Command as CliCommand, RunArgs};
use gocker::host::{HostFacts, Roots};
use gocker::state::{Record, Store};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// A background `gocker run --hostname exec-test --rootfs R sh -c INIT` whose init ends
/// in `sleep`, recorded as container `id` in a store under a temporary root.
struct Container {
    rootfs: TempDir,
    state: TempDir,
    gocker: std::process::Child,
    init: u32,
    id: String,
    cgroup_dirs: Vec<PathBuf>,
}

const INIT: &str = "echo from-init > /tmp/from-init; exec sleep 120";

impl Container {
    fn start(opts: &[&str]) -> Container {
        let rootfs = busybox_rootfs();
        std::fs::create_dir_all(rootfs.path().join("tmp")).unwrap();
        let mut args: Vec<OsString> = os(&["run", "--hostname", "exec-test"]);
        args.extend(os(opts));
        args.push("--rootfs".into());
        args.push(rootfs.path().into());
        args.extend(os(&["sh", "-c", INIT]));
        // The spec the command line gives, as `gocker run` builds it.
        let run: RunArgs = {
            use clap::Parser;
            let mut full = vec![OsString::from("gocker")];
            full.extend(args.iter().cloned());
            match Cli::try_parse_from(full).expect("the run command line") {
                Cli {
                    command: CliCommand::Run(cmd),
                    ..
                } => cmd.run,
                other => panic!("not a run command line: {other:?}"),
            }
        };
        let gocker = gocker()
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn gocker run");
        let gpid = gocker.id();
        let init = wait_for("the container's PID 1", || children(gpid).first().copied());
        wait_for("exec of sleep", || {
            let comm = std::fs::read_to_string(format!("/proc/{init}/comm")).unwrap_or_default();
            (comm.trim() == "sleep").then_some(())
        });
        let roots = Roots::system();
        let mut spec = run
            .to_spec(&HostFacts::probe(&roots))
            .expect("the same spec");
        spec.id = gpid.to_string();
        let cgroup_dirs = cgroups_of(gpid);
        assert!(!cgroup_dirs.is_empty(), "no cgroup for gocker {gpid}");
        let state = TempDir::new("state");
        let id = format!("exec-{gpid}");
        let (start, _) = gocker::state::proc_start(init as i32).expect("the init's start time");
        let store = Store::open(state.path()).unwrap();
        let entry = store.create(&id).unwrap();
        entry
            .save(&Record {
                id: id.clone(),
                name: Some(format!("named-{gpid}")),
                bundle: None,
                pid: init as i32,
                pid_start_time: start,
                created: "2026-01-01T00:00:00Z".into(),
                cgroup_dirs: cgroup_dirs.clone(),
                cgroup_version: if cgroup_dirs[0].join("cgroup.controllers").exists() {
                    "v2".into()
                } else {
                    "v1".into()
                },
                status_hint: "running".into(),
                annotations: Default::default(),
                spec,
                layer: None,
                exit_code: None,
                started: None,
                finished: None,
                auto_remove: false,
                monitor_pid: 0,
                monitor_start_time: 0,
                log: None,
            })
            .unwrap();
        drop(entry);
        Container {
            rootfs,
            state,
            gocker,
            init,
            id,
            cgroup_dirs,
        }
    }

    /// `gocker exec ARGS` on this container's store (ARGS name the container themselves).
    fn exec_cmd(&self) -> Command {
        let mut c = gocker();
        c.arg("--root").arg(self.state.path()).arg("exec");
        c
    }

    fn exec(&self, opts: &[&str], cmd: &[&str]) -> Output {
        self.exec_cmd()
            .args(opts)
            .arg(&self.id)
            .args(cmd)
            .stdin(Stdio::null())
            .output()
            .expect("run gocker exec")
    }

    /// What the host sees of the init: /proc/INIT/FILE.
    fn init_proc(&self, file: &str) -> String {
        std::fs::read_to_string(format!("/proc/{}/{file}", self.init)).unwrap()
    }

    /// The pids in the container's cgroups (every hierarchy).
    fn cgroup_members(&self) -> Vec<Vec<u32>> {
        self.cgroup_dirs
            .iter()
            .map(|d| {
                let mut v: Vec<u32> = std::fs::read_to_string(d.join("cgroup.procs"))
                    .unwrap()
                    .split_whitespace()
                    .map(|p| p.parse().unwrap())
                    .collect();
                v.sort();
                v
            })
            .collect()
    }

    /// Kill the init; gocker run then removes the cgroup and exits.
    fn stop(mut self) -> u32 {
        let _ = Command::new("kill")
            .args(["-9", &self.init.to_string()])
            .status();
        let _ = self.gocker.wait();
        self.gocker.id()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-9", &self.init.to_string()])
            .status();
        let _ = self.gocker.wait();
    }
}

fn status_field(status: &str, name: &str) -> String {
    status
        .lines()
        .find(|l| l.starts_with(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in {status}"))
        .split_once(':')
        .unwrap()
        .1
        .trim()
        .to_string()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exec failed ({:?}): {}",
        o.status,
        stderr(o)
    );
    stdout(o)
}

#[test]
fn exec_joins_every_namespace_of_the_container() {
    root_or_skip!("exec_joins_every_namespace_of_the_container");
    let c = Container::start(&[]);
    let names = ["mnt", "uts", "ipc", "pid", "net", "cgroup", "user"];
    let script = names
        .iter()
        .map(|n| format!("readlink /proc/self/ns/{n}"))
        .collect::<Vec<_>>()
        .join("; ");
    let out = ok(&c.exec(&[], &["sh", "-c", &script]));
    let inside: Vec<&str> = out.lines().collect();
    for (n, got) in names.iter().zip(&inside) {
        let want = std::fs::read_link(format!("/proc/{}/ns/{n}", c.init)).unwrap();
        assert_eq!(*got, want.to_str().unwrap(), "{n} namespace");
    }
    assert_eq!(inside.len(), names.len(), "{out}");
    // The lesson's five are the container's own, not the host's: the comparison above
    // would pass trivially for a container that had none.
    for n in ["mnt", "uts", "ipc", "pid", "net"] {
        assert_ne!(
            std::fs::read_link(format!("/proc/self/ns/{n}")).unwrap(),
            std::fs::read_link(format!("/proc/{}/ns/{n}", c.init)).unwrap(),
            "{n}"
        );
    }
}

#[test]
fn exec_sees_the_container_pid_1_hostname_and_files() {
    root_or_skip!("exec_sees_the_container_pid_1_hostname_and_files");
    let c = Container::start(&[]);
    let out = ok(&c.exec(
        &[],
        &[
            "sh",
            "-c",
            "echo $$; cat /proc/1/comm; hostname; cat /tmp/from-init; cat /proc/1/cmdline | tr '\\0' ' '",
        ],
    ));
    let lines: Vec<&str> = out.lines().collect();
    let pid: u32 = lines[0].parse().unwrap();
    assert!(
        pid < 10,
        "the exec'd shell should have a small pid inside: {out}"
    );
    assert_eq!(lines[1], "sleep", "{out}");
    assert_eq!(lines[2], "exec-test", "{out}");
    assert_eq!(lines[3], "from-init", "{out}");
    assert_eq!(lines[4].trim(), "sleep 120", "{out}");
}

#[test]
fn exec_runs_inside_the_cgroup_with_the_init_confinement() {
    root_or_skip!("exec_runs_inside_the_cgroup_with_the_init_confinement");
    let c = Container::start(&[]);
    let out = ok(&c.exec(
        &[],
        &[
            "sh",
            "-c",
            "cat /proc/self/cgroup; echo ---; cat /proc/self/status",
        ],
    ));
    let (cgroup, status) = out.split_once("---\n").unwrap();
    let mut inside: Vec<&str> = cgroup.lines().collect();
    let host = c.init_proc("cgroup");
    let mut want: Vec<&str> = host.lines().collect();
    inside.sort();
    want.sort();
    assert_eq!(inside, want, "the exec'd process's cgroups");
    assert!(
        want.iter().any(|l| l.contains("/gocker/")),
        "the init is in no gocker cgroup: {host}"
    );
    let init_status = c.init_proc("status");
    assert_eq!(status_field(status, "Seccomp"), "2", "{status}");
    for f in [
        "CapBnd",
        "CapEff",
        "CapPrm",
        "CapInh",
        "CapAmb",
        "NoNewPrivs",
        "Seccomp",
    ] {
        assert_eq!(
            status_field(status, f),
            status_field(&init_status, f),
            "{f} differs from the init's"
        );
    }
    // And those are not the caller's (full) set: the cut happened.
    assert_ne!(
        status_field(status, "CapBnd"),
        status_field(
            &std::fs::read_to_string("/proc/self/status").unwrap(),
            "CapBnd"
        )
    );
}

#[test]
fn exec_passes_the_exit_status_back() {
    root_or_skip!("exec_passes_the_exit_status_back");
    let c = Container::start(&[]);
    assert_eq!(c.exec(&[], &["sh", "-c", "exit 3"]).status.code(), Some(3));
    assert_eq!(
        c.exec(&[], &["sh", "-c", "kill -9 $$"]).status.code(),
        Some(128 + 9)
    );
    let o = c.exec(&[], &["no-such-command"]);
    assert_eq!(o.status.code(), Some(127), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert_eq!(c.exec(&[], &["/etc"]).status.code(), Some(126));
}

#[test]
fn no_caller_descriptor_reaches_the_exec_process() {
    root_or_skip!("no_caller_descriptor_reaches_the_exec_process");
    let c = Container::start(&[]);
    let secret = TempDir::new("secret");
    let secret_file = secret.path().join("shadow");
    std::fs::write(&secret_file, "host-secret-5e2a").unwrap();
    let script = format!(
        "exec 3<{} 9</ ; exec \"$0\" --root \"$2\" exec \"$1\" /bin/sh -c 'ls /proc/self/fd; cat <&3; ls /proc/self/fd/9/ 2>&1'",
        secret_file.display()
    );
    let o = Command::new("bash")
        .args(["-c", &script, env!("CARGO_BIN_EXE_gocker")])
        .arg(&c.id)
        .arg(c.state.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let out = stdout(&o);
    // ls opens its directory (fd 3) while listing: 0 1 2 3 is the clean answer; fd 3
    // and 9 (the host's /) are not there to read.
    assert_eq!(
        out,
        "0\n1\n2\n3\nls: /proc/self/fd/9/: No such file or directory\n",
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("3: Bad file descriptor"),
        "{}",
        stderr(&o)
    );
    assert!(!out.contains("host-secret-5e2a"));
}

#[test]
fn env_and_workdir_options_are_honoured() {
    root_or_skip!("env_and_workdir_options_are_honoured");
    let c = Container::start(&[]);
    let out = ok(&c
        .exec_cmd()
        .env("FROM_CALLER", "copied")
        .args([
            "-e",
            "FOO=bar baz",
            "-e",
            "FROM_CALLER",
            "-e",
            "HOSTNAME=over",
            "-w",
            "/etc",
        ])
        .arg(&c.id)
        .args([
            "sh",
            "-c",
            "echo \"$FOO\"; echo $FROM_CALLER; echo $HOSTNAME; echo $PATH; pwd",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap());
    assert_eq!(
        out,
        format!(
            "bar baz\ncopied\nover\n{}\n/etc\n",
            gocker::spec::DEFAULT_PATH
        )
    );
    // Without -w: the container's working directory (/).
    assert_eq!(ok(&c.exec(&[], &["pwd"])), "/\n");
    // A missing one is an error, never created.
    let o = c.exec(&["-w", "/nonexistent"], &["pwd"]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(!c.rootfs.path().join("nonexistent").exists());
}

#[test]
fn the_container_is_found_by_name_and_by_id_prefix() {
    root_or_skip!("the_container_is_found_by_name_and_by_id_prefix");
    let c = Container::start(&[]);
    let name = format!("named-{}", c.gocker.id());
    let by_name = c.exec_cmd().args([&name, "hostname"]).output().unwrap();
    assert_eq!(ok(&by_name), "exec-test\n");
    let prefix = &c.id[..c.id.len() - 1];
    assert_eq!(
        ok(&c.exec_cmd().args([prefix, "hostname"]).output().unwrap()),
        "exec-test\n"
    );
    let o = c
        .exec_cmd()
        .args(["no-such-container", "true"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
}

#[test]
fn a_vanished_container_is_refused_in_one_line() {
    root_or_skip!("a_vanished_container_is_refused_in_one_line");
    let c = Container::start(&[]);
    let state = TempDir::new("kept-state");
    // The store outlives the container, as after a crash.
    let id = c.id.clone();
    let src = c.state.path().join(&id);
    std::fs::create_dir_all(state.path().join(&id)).unwrap();
    std::fs::copy(
        src.join("state.json"),
        state.path().join(&id).join("state.json"),
    )
    .unwrap();
    let gpid = c.stop();
    let o = gocker()
        .arg("--root")
        .arg(state.path())
        .args(["exec", &id, "true"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not running"), "{err}");
    assert!(
        cgroups_of(gpid).is_empty(),
        "the container's cgroup is left"
    );
}

#[test]
fn a_reused_pid_is_not_joined() {
    root_or_skip!("a_reused_pid_is_not_joined");
    let c = Container::start(&[]);
    // The record names the init's pid with another start time: a process that got the
    // pid later must never be joined.
    let store = Store::open(c.state.path()).unwrap();
    let entry = store.open_entry(&c.id).unwrap();
    let mut r = entry.load().unwrap();
    r.pid_start_time += 1;
    entry.save(&r).unwrap();
    drop(entry);
    let o = c.exec(&[], &["true"]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(stderr(&o).contains("not running"), "{}", stderr(&o));
}

#[test]
fn detach_writes_the_pid_file_and_leaves_the_process_in_the_container() {
    root_or_skip!("detach_writes_the_pid_file_and_leaves_the_process_in_the_container");
    let c = Container::start(&[]);
    let dir = TempDir::new("pidfile");
    let pid_file = dir.path().join("exec.pid");
    let started = std::time::Instant::now();
    // The detached process keeps our stdio (an engine's pipes): not a pipe we wait on.
    let err_file = dir.path().join("stderr");
    let st = c
        .exec_cmd()
        .arg("--detach")
        .arg("--pid-file")
        .arg(&pid_file)
        .args([&c.id, "sleep", "30"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err_file).unwrap())
        .status()
        .unwrap();
    let err = std::fs::read_to_string(&err_file).unwrap();
    std::fs::remove_file(&err_file).unwrap();
    assert!(st.success(), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(err.is_empty(), "{err}");
    let text = std::fs::read_to_string(&pid_file).unwrap();
    assert!(text.bytes().all(|b| b.is_ascii_digit()), "{text:?}");
    let pid: u32 = text.parse().unwrap();
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_eq!(comm.trim(), "sleep");
    for n in ["pid", "mnt", "net"] {
        assert_eq!(
            std::fs::read_link(format!("/proc/{pid}/ns/{n}")).unwrap(),
            std::fs::read_link(format!("/proc/{}/ns/{n}", c.init)).unwrap()
        );
    }
    assert!(
        c.cgroup_members().iter().all(|m| m.contains(&pid)),
        "{:?}",
        c.cgroup_members()
    );
    // No temporary pid file beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
}

#[test]
fn nothing_is_left_behind_after_exec() {
    root_or_skip!("nothing_is_left_behind_after_exec");
    let c = Container::start(&[]);
    let before = c.cgroup_members();
    ok(&c.exec(&[], &["sh", "-c", "sleep 0.1 & wait"]));
    assert_eq!(
        c.cgroup_members(),
        before,
        "processes left in the container's cgroup"
    );
    assert_eq!(before.iter().map(Vec::len).max(), Some(1), "{before:?}");
    // No child of ours left either (the middle process is reaped by gocker).
    assert!(
        children(std::process::id())
            .iter()
            .all(|&p| p == c.gocker.id())
    );
}

#[test]
fn exec_is_counted_by_the_container_pids_limit() {
    root_or_skip!("exec_is_counted_by_the_container_pids_limit");
    let c = Container::start(&["--pids-limit", "3"]);
    // The init is one; an exec'd shell and one child fit, a third process does not.
    let o = c.exec(
        &[],
        &[
            "sh",
            "-c",
            "sleep 5 & a=$!; sleep 5 & b=$!; kill $a $b 2>/dev/null; wait; echo done",
        ],
    );
    let pids_hit = stderr(&o).contains("fork") || stderr(&o).contains("resource");
    assert!(
        pids_hit,
        "the limit did not hold for exec: {} {}",
        stdout(&o),
        stderr(&o)
    );
}

#[test]
fn a_terminal_comes_from_the_container_devpts() {
    root_or_skip!("a_terminal_comes_from_the_container_devpts");
    let c = Container::start(&["-t"]);
    let o = c.exec(&["-t"], &["tty"]);
    let out = ok(&o);
    assert!(out.trim().starts_with("/dev/pts/"), "{out:?}");
    // Without -t: no terminal at all.
    let o = c.exec(&[], &["tty"]);
    assert_eq!(stdout(&o).trim(), "not a tty");
}

#[test]
fn process_json_is_the_oci_way_in() {
    root_or_skip!("process_json_is_the_oci_way_in");
    let c = Container::start(&[]);
    let dir = TempDir::new("process");
    let p = dir.path().join("process.json");
    std::fs::write(
        &p,
        r#"{"terminal": false, "user": {"uid": 0, "gid": 0},
            "args": ["sh", "-c", "echo $ONLY; pwd; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status"],
            "env": ["PATH=/bin", "ONLY=this"], "cwd": "/tmp",
            "capabilities": {"bounding": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_KILL", "CAP_CHOWN"],
                             "permitted": ["CAP_KILL", "CAP_CHOWN"]},
            "noNewPrivileges": true}"#,
    )
    .unwrap();
    let o = c
        .exec_cmd()
        .arg("--process")
        .arg(&p)
        .arg(&c.id)
        .output()
        .unwrap();
    let out = ok(&o);
    // CAP_CHOWN is 0, CAP_KILL is 5.
    assert_eq!(
        out,
        "this\n/tmp\nCapEff:\t0000000000000021\nNoNewPrivs:\t1\n"
    );
}

/// process.json's five capability sets are the process's alone: another user keeps its
/// ambient set across execve (as runc exec gives it), and a set outside the kernel's
/// rules is refused before anything runs.
#[test]
fn process_json_capability_sets_reach_another_user_through_ambient() {
    root_or_skip!("process_json_capability_sets_reach_another_user_through_ambient");
    let c = Container::start(&[]);
    let dir = TempDir::new("process");
    let p = dir.path().join("process.json");
    let sets = r#"["CAP_KILL", "CAP_CHOWN"]"#;
    std::fs::write(
        &p,
        format!(
            r#"{{"user": {{"uid": 1000, "gid": 1000}}, "cwd": "/",
                "args": ["grep", "-E", "^Cap(Inh|Prm|Eff|Bnd|Amb)", "/proc/self/status"],
                "env": ["PATH=/bin"],
                "capabilities": {{"bounding": {sets}, "effective": {sets}, "permitted": {sets},
                                  "inheritable": {sets}, "ambient": {sets}}}}}"#
        ),
    )
    .unwrap();
    let o = c
        .exec_cmd()
        .arg("--process")
        .arg(&p)
        .arg(&c.id)
        .output()
        .unwrap();
    // CAP_CHOWN is 0, CAP_KILL is 5.
    assert_eq!(
        ok(&o),
        "CapInh:\t0000000000000021\nCapPrm:\t0000000000000021\nCapEff:\t0000000000000021\n\
         CapBnd:\t0000000000000021\nCapAmb:\t0000000000000021\n"
    );
    std::fs::write(
        &p,
        r#"{"args": ["true"], "capabilities": {"bounding": ["CAP_KILL"], "permitted": ["CAP_KILL"],
            "ambient": ["CAP_KILL"]}}"#,
    )
    .unwrap();
    let o = c
        .exec_cmd()
        .arg("--process")
        .arg(&p)
        .arg(&c.id)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("process.capabilities.ambient: CAP_KILL"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_input_is_refused_before_anything_runs() {
    root_or_skip!("bad_input_is_refused_before_anything_runs");
    let c = Container::start(&[]);
    for (args, says) in [
        (vec!["-e", "=x", &c.id, "true"], "KEY"),
        (vec!["-w", "rel", &c.id, "true"], "absolute"),
        (vec!["-u", "nobody", &c.id, "true"], "number"),
        (vec![&c.id], "no command"),
        (
            vec!["--console-socket", "/nonexistent", &c.id, "true"],
            "terminal",
        ),
    ] {
        let o = c.exec_cmd().args(&args).output().unwrap();
        assert_eq!(o.status.code(), Some(125), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    }
    // Nothing ran: the init is still alone in its cgroup.
    assert!(c.cgroup_members().iter().all(|m| m.len() == 1));
}

#[test]
fn a_user_other_than_root_runs_with_no_capabilities() {
    root_or_skip!("a_user_other_than_root_runs_with_no_capabilities");
    let c = Container::start(&[]);
    let out = ok(&c.exec(
        &["-u", "1000:1001"],
        &[
            "sh",
            "-c",
            "id -u; id -g; id -G; grep -E '^Cap(Eff|Prm)' /proc/self/status",
        ],
    ));
    assert_eq!(
        out,
        "1000\n1001\n1001\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n"
    );
    // Root, the default, keeps the container's set.
    let out = ok(&c.exec(&[], &["sh", "-c", "id -u; grep CapEff /proc/self/status"]));
    assert_eq!(
        out,
        format!(
            "0\nCapEff:\t{}\n",
            status_field(&c.init_proc("status"), "CapEff")
        )
    );
}

/// A bundle from `gocker spec` whose process is `sleep 120`, created and started in a
/// store of its own: the record is the one `create` writes, as podman's exec finds it.
struct Bundle {
    dir: TempDir,
    id: String,
}

impl Bundle {
    fn started() -> Bundle {
        let dir = TempDir::new("bundle");
        let rootfs = busybox_rootfs();
        let out = gocker()
            .args(["rootfs", "busybox"])
            .arg(dir.path().join("rootfs"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        drop(rootfs);
        let out = gocker()
            .arg("spec")
            .arg("-b")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let config = dir.path().join("config.json");
        let mut c: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
        c["process"]["args"] = serde_json::json!(["sleep", "120"]);
        c["process"]["terminal"] = serde_json::json!(false);
        std::fs::write(&config, serde_json::to_vec(&c).unwrap()).unwrap();
        let b = Bundle {
            id: format!("bundle-{}", std::process::id()),
            dir,
        };
        for sub in [&["create", "-b"][..], &["start"][..]] {
            let mut cmd = b.gocker();
            cmd.args(sub);
            if sub[0] == "create" {
                cmd.arg(b.dir.path());
            }
            // The init keeps create's stdio (an engine's pipes): a file, not a pipe we
            // would wait on until it exits.
            let err_file = b.dir.path().join("create.err");
            let st = cmd
                .arg(&b.id)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&err_file).unwrap())
                .status()
                .unwrap();
            let err = std::fs::read_to_string(&err_file).unwrap();
            assert!(st.success(), "{sub:?}: {err}");
        }
        b
    }

    fn gocker(&self) -> Command {
        let mut c = gocker();
        c.arg("--root").arg(self.dir.path().join("state"));
        c
    }

    fn init(&self) -> u32 {
        let o = self.gocker().args(["state", &self.id]).output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["pid"].as_u64().unwrap() as u32
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let _ = self.gocker().args(["delete", "--force", &self.id]).output();
    }
}

#[test]
fn exec_joins_a_container_that_create_and_start_made() {
    root_or_skip!("exec_joins_a_container_that_create_and_start_made");
    let b = Bundle::started();
    let init = b.init();
    let o = b
        .gocker()
        .args(["exec", &b.id, "sh", "-c"])
        .arg("echo $$; readlink /proc/self/ns/pid; readlink /proc/self/ns/mnt; grep -E '^(CapBnd|Seccomp|NoNewPrivs)' /proc/self/status")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let out = ok(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].parse::<u32>().unwrap() < 10, "{out}");
    for (i, n) in ["pid", "mnt"].iter().enumerate() {
        let want = std::fs::read_link(format!("/proc/{init}/ns/{n}")).unwrap();
        assert_eq!(lines[1 + i], want.to_str().unwrap(), "{n}");
    }
    let status = std::fs::read_to_string(format!("/proc/{init}/status")).unwrap();
    for (line, f) in lines[3..].iter().zip(["CapBnd", "NoNewPrivs", "Seccomp"]) {
        assert_eq!(
            line.split_once(':').unwrap().1.trim(),
            status_field(&status, f),
            "{f}"
        );
    }
    // After delete, the id is gone: one line, 125.
    let o = b
        .gocker()
        .args(["delete", "--force", &b.id])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let o = b.gocker().args(["exec", &b.id, "true"]).output().unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
}

/// Receive one descriptor and its message from a unix socket (SCM_RIGHTS).
fn recv_fd_and_name(sock: &std::os::unix::net::UnixStream) -> (std::os::fd::OwnedFd, Vec<u8>) {
    use std::os::fd::{AsRawFd, FromRawFd};
    let mut buf = [0u8; 64];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut cbuf = [0u8; 64];
    // SAFETY (test): msghdr is plain data; its buffers outlive the call (recvmsg(2)).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = cbuf.len() as _;
    // SAFETY (test): as above.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, 0) };
    assert!(n > 0, "recvmsg: {}", std::io::Error::last_os_error());
    // SAFETY (test): the kernel filled msg_control; a NULL header is checked.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        assert!(
            !c.is_null() && (*c).cmsg_type == libc::SCM_RIGHTS,
            "no descriptor"
        );
        let fd = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::c_int>());
        (
            std::os::fd::OwnedFd::from_raw_fd(fd),
            buf[..n as usize].to_vec(),
        )
    }
}

#[test]
fn podman_exec_gets_the_terminal_over_the_console_socket() {
    root_or_skip!("podman_exec_gets_the_terminal_over_the_console_socket");
    // The container has a devpts of its own (run -t), as an engine's always has.
    let c = Container::start(&["-t"]);
    let dir = TempDir::new("console");
    let sock_path = dir.path().join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock_path).unwrap();
    let process = dir.path().join("process.json");
    std::fs::write(
        &process,
        r#"{"terminal": true, "user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "tty; echo $TERM; exit 7"],
            "env": ["PATH=/bin", "TERM=xterm"], "cwd": "/"}"#,
    )
    .unwrap();
    let pid_file = dir.path().join("exec.pid");
    // As podman (conmon) calls runc.
    let mut exec = c
        .exec_cmd()
        .arg("--pid-file")
        .arg(&pid_file)
        .arg("--process")
        .arg(&process)
        .args(["--detach", "--tty", "--console-socket"])
        .arg(&sock_path)
        .arg(&c.id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (sock, _) = listener.accept().unwrap();
    let (master, name) = recv_fd_and_name(&sock);
    assert_eq!(name, b"/dev/ptmx");
    let st = exec.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(exec.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(st.success(), "{err}");
    assert!(err.is_empty(), "{err}");
    let pid: u32 = std::fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    let mut out = Vec::new();
    let mut f = std::fs::File::from(master);
    let mut buf = [0u8; 256];
    // Read until the process exits and the slave closes (EIO).
    while let Ok(n) = std::io::Read::read(&mut f, &mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    let out = String::from_utf8_lossy(&out);
    let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    assert!(lines[0].starts_with("/dev/pts/"), "{out:?}");
    assert_eq!(lines[1], "xterm", "{out:?}");
    // The process was left to us (gocker exec's parent), as to conmon: reap it.
    let mut status = 0;
    // SAFETY (test): waitpid with a valid out-pointer.
    let r = unsafe { libc::waitpid(pid as i32, &mut status, 0) };
    assert!(r == pid as i32 || r == -1, "waitpid {pid}: {r}");
}

#[test]
fn signals_to_gocker_exec_reach_the_process() {
    root_or_skip!("signals_to_gocker_exec_reach_the_process");
    let c = Container::start(&[]);
    let mut child = c
        .exec_cmd()
        .arg(&c.id)
        .args([
            "sh",
            "-c",
            "trap 'echo got-term; exit 5' TERM; echo ready; while :; do sleep 0.05; done",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 6];
    std::io::Read::read_exact(&mut out, &mut first).unwrap();
    assert_eq!(&first, b"ready\n");
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert_eq!(rest, "got-term\n");
    assert_eq!(status.code(), Some(5));
}

#[test]
fn piped_input_reaches_a_terminal_process_and_ends_it() {
    root_or_skip!("piped_input_reaches_a_terminal_process_and_ends_it");
    let c = Container::start(&["-t"]);
    let mut child = c
        .exec_cmd()
        .args([
            "-it",
            &c.id,
            "sh",
            "-c",
            "read x; echo got:$x; tty; cat; echo eof",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"hello\n").unwrap();
    drop(child.stdin.take());
    let o = child.wait_with_output().unwrap();
    let out = stdout(&o);
    assert!(o.status.success(), "{out} {}", stderr(&o));
    assert!(out.contains("got:hello"), "{out:?}");
    assert!(out.contains("/dev/pts/"), "{out:?}");
    assert!(out.trim_end().ends_with("eof"), "{out:?}");
}

#[test]
fn a_container_without_a_devpts_still_gets_a_terminal() {
    root_or_skip!("a_container_without_a_devpts_still_gets_a_terminal");
    // Started without -t: no devpts of its own, so the terminal is one of the host's.
    let c = Container::start(&[]);
    assert!(!c.init_proc("mountinfo").contains(" - devpts "));
    let out = ok(&c.exec(
        &["-t"],
        &["sh", "-c", "test -t 0 && test -t 1 && echo both-terminals"],
    ));
    assert_eq!(out.trim_end(), "both-terminals", "{out:?}");
}
