//! End-to-end tests of detached containers (issue 15): `run -d [--name] [--rm] [-i]`,
//! `ps [-a] [-q] [--format json]`, `inspect`, `logs [-f] [--tail]`, `exec`, `stop [-t]`,
//! `rm [-f]`; unknown ids; names unique under a race; concurrent commands on one
//! container; a kill storm against the store; the rootfs directory byte-identical after
//! containers wrote into their roots; and zero leftovers after `rm` (no state directory,
//! cgroup, mount or process). They need root, and run for real (CI is root).
//!
//! Each test has a private `--root` store and removes every container in it when it
//! ends, even on failure.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

/// A private store and a busybox rootfs; every container in the store is `rm -f`ed and
/// both directories removed when dropped.
struct Fixture {
    store: TempDir,
    rootfs: TempDir,
}

impl Fixture {
    fn new(tag: &str) -> Fixture {
        Fixture {
            store: TempDir::new(&format!("detached-{tag}")),
            rootfs: busybox_rootfs(),
        }
    }

    fn root(&self) -> &Path {
        self.store.path()
    }

    fn rootfs(&self) -> &str {
        self.rootfs.path().to_str().expect("a UTF-8 temp path")
    }

    /// `gocker --root STORE ARGS`.
    fn g(&self, args: &[&str]) -> Output {
        gocker()
            .arg("--root")
            .arg(self.root())
            .args(args)
            .output()
            .expect("run gocker")
    }

    /// `gocker --root STORE ARGS`, which must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let o = self.g(args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "gocker {args:?}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        stdout(&o)
    }

    /// `run -d OPTS --rootfs ROOTFS CMD...`: the id it printed.
    fn run_d(&self, opts: &[&str], cmd: &[&str]) -> String {
        let mut args = vec!["run", "-d"];
        args.extend_from_slice(opts);
        args.extend_from_slice(&["--rootfs", self.rootfs()]);
        args.extend_from_slice(cmd);
        let out = self.ok(&args);
        let id = out.trim().to_string();
        assert!(
            id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "run -d printed {out:?}, not a 64-digit id"
        );
        id
    }

    /// The record as saved (state.json), or None once removed.
    fn record(&self, id: &str) -> Option<serde_json::Value> {
        let text = std::fs::read(self.root().join(id).join("state.json")).ok()?;
        Some(serde_json::from_slice(&text).expect("state.json is JSON"))
    }

    fn inspect(&self, what: &str) -> serde_json::Value {
        let v: serde_json::Value =
            serde_json::from_str(&self.ok(&["inspect", what])).expect("inspect prints JSON");
        v[0].clone()
    }

    fn ids(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.root())
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|n| n.len() == 64 && !n.contains('#'))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        for id in self.ids() {
            let _ = self.g(&["rm", "-f", &id]);
        }
    }
}

/// What a container leaves on the host while it exists, to check it is all gone after
/// `rm`: its state directory, cgroups, mounts naming it, its init and its monitor.
struct Traces {
    id: String,
    pids: Vec<i32>,
}

impl Traces {
    fn of(f: &Fixture, id: &str) -> Traces {
        let r = f.record(id).expect("a record");
        let pids = [&r["pid"], &r["monitor_pid"]]
            .iter()
            .filter_map(|v| v.as_i64())
            .map(|p| p as i32)
            .filter(|&p| p > 0)
            .collect();
        Traces {
            id: id.to_string(),
            pids,
        }
    }

    fn assert_gone(&self, f: &Fixture) {
        let id = &self.id;
        for &p in &self.pids {
            // First: the monitor may still be at work (--rm, or seeing an rm -f).
            wait_for(&format!("process {p} of {id} to go"), || {
                let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok();
                (stat.is_none()).then_some(())
            });
        }
        assert!(
            !f.root().join(id).exists(),
            "the state directory of {id} is left"
        );
        let left: Vec<_> = std::fs::read_dir(f.root())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(id.as_str()))
            .collect();
        assert!(left.is_empty(), "left in the store: {left:?}");
        let names: Vec<_> = std::fs::read_dir(f.root().join("#names"))
            .map(|rd| {
                rd.flatten()
                    .filter(|e| {
                        std::fs::read_link(e.path()).is_ok_and(|t| t.as_os_str() == id.as_str())
                    })
                    .map(|e| e.file_name())
                    .collect()
            })
            .unwrap_or_default();
        assert!(names.is_empty(), "names left for {id}: {names:?}");
        let cgroups: Vec<PathBuf> = cgroup_dirs()
            .into_iter()
            .filter(|p| p.to_string_lossy().contains(id.as_str()))
            .collect();
        assert!(cgroups.is_empty(), "cgroups left: {cgroups:?}");
        let mounts: Vec<String> = mountinfo()
            .into_iter()
            .filter(|l| l.contains(id.as_str()))
            .collect();
        assert!(mounts.is_empty(), "mounts left: {mounts:?}");
    }
}

/// Every file under `dir` with its type, mode, owner and contents (a symlink by its target).
fn tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    use std::os::unix::fs::MetadataExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let what = if m.file_type().is_symlink() {
                format!("link {:?}", std::fs::read_link(&p).unwrap())
            } else if m.is_dir() {
                stack.push(p.clone());
                "dir".to_string()
            } else if m.is_file() {
                let bytes = std::fs::read(&p).unwrap();
                format!("file {} {:x}", bytes.len(), fnv(&bytes))
            } else {
                format!("other {}", m.rdev())
            };
            let key = p.strip_prefix(dir).unwrap().to_path_buf();
            out.insert(
                key,
                format!("{what} {:o} {}:{}", m.mode(), m.uid(), m.gid()),
            );
        }
    }
    out
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn wait_status(f: &Fixture, id: &str, want: &str) -> serde_json::Value {
    wait_for(&format!("{id} to be {want}"), || {
        let v = f.inspect(id);
        (v["State"]["Status"] == want).then_some(v)
    })
}

/// The whole life: `run -d --name` prints the id and returns while the container runs;
/// `ps` lists it (by name, short id, "Up"); `logs` has its stdout and stderr; `exec`
/// runs inside it; `stop` ends it and the exit code is recorded (`ps -a`, `inspect`);
/// `rm` leaves nothing behind.
#[test]
fn a_detached_container_lives_until_stopped_and_rm_leaves_nothing() {
    root_or_skip!("a_detached_container_lives_until_stopped_and_rm_leaves_nothing");
    let f = Fixture::new("life");
    let started = Instant::now();
    let id = f.run_d(
        &["--name", "web", "-m", "64m", "--pids-limit", "20"],
        &[
            "sh",
            "-c",
            "trap 'echo bye; exit 3' TERM; echo hello; echo oops >&2; while :; do sleep 0.1; done",
        ],
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "run -d did not return at once"
    );
    let traces = Traces::of(&f, &id);
    let ps = f.ok(&["ps"]);
    let line = ps
        .lines()
        .find(|l| l.contains("web"))
        .unwrap_or_else(|| panic!("web not in ps:\n{ps}"));
    assert!(line.starts_with(&id[..12]), "{line}");
    assert!(line.contains("Up "), "{line}");
    assert!(
        line.contains("mem=64MiB") && line.contains("pids=20"),
        "{line}"
    );
    wait_for("the container's output in its log", || {
        let l = f.ok(&["logs", "web"]);
        (l == "hello\noops\n").then_some(())
    });
    assert_eq!(f.ok(&["logs", "--tail", "1", &id[..8]]), "oops\n");
    assert_eq!(
        f.ok(&["exec", "web", "cat", "/proc/1/cmdline"])
            .split('\0')
            .next(),
        Some("sh")
    );
    let o = f.g(&[
        "exec",
        "-e",
        "A=1",
        "-w",
        "/tmp",
        "web",
        "sh",
        "-c",
        "echo $A $PWD; exit 4",
    ]);
    assert_eq!(
        o.status.code(),
        Some(4),
        "exec returns the command's status"
    );
    assert_eq!(stdout(&o), "1 /tmp\n");
    let v = f.inspect("web");
    assert_eq!(v["Id"], id.as_str());
    assert_eq!(v["Name"], "web");
    assert_eq!(v["State"]["Running"], true);
    assert_eq!(v["HostConfig"]["Memory"], 64 << 20);
    assert_eq!(v["HostConfig"]["PidsLimit"], 20);
    assert!(v["State"]["Pid"].as_i64().unwrap() > 0);
    // The monitor is in a session of its own with no terminal (so no hang-up reaches
    // it), and the child of no gocker command (run -d is gone).
    let stat_of = |pid: &str| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let rest = stat[stat.rfind(')').unwrap() + 2..].to_string();
        rest.split(' ').map(String::from).collect::<Vec<String>>()
    };
    let monitor = f.record(&id).unwrap()["monitor_pid"].as_i64().unwrap();
    let (m, me) = (stat_of(&monitor.to_string()), stat_of("self"));
    assert_ne!(m[3], me[3], "the monitor has a session of its own");
    assert_eq!(m[4], "0", "the monitor has no controlling terminal");
    let parent = std::fs::read(format!("/proc/{}/cmdline", m[1])).unwrap_or_default();
    assert!(
        !String::from_utf8_lossy(&parent).contains("run\0-d"),
        "the monitor's parent is {parent:?}"
    );

    // The monitor ignores hang-ups and ^C; the container's processes do not (an
    // ignored signal would stay ignored across their execve).
    let plain = f.run_d(&[], &["sleep", "60"]);
    let init = f.inspect(&plain)["State"]["Pid"].as_i64().unwrap();
    let ignored = |pid: &str| {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status.lines().find(|l| l.starts_with("SigIgn:")).unwrap();
        u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
    };
    // The same as a foreground run's init (the caller's ignored signals pass on through
    // any exec): nothing more.
    let mut fg = gocker()
        .args(["run", "--rootfs", f.rootfs(), "sleep", "1"])
        .spawn()
        .unwrap();
    let fg_init = wait_for("the foreground init", || {
        children(fg.id()).first().copied().filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c == "sleep\n")
        })
    });
    let (detached, foreground) = (ignored(&init.to_string()), ignored(&fg_init.to_string()));
    // Waited for, not killed: a killed gocker's cgroup would stay until the next run.
    assert!(fg.wait().unwrap().success());
    assert_eq!(
        detached, foreground,
        "ignored signals: detached {detached:#x}, foreground {foreground:#x}"
    );
    assert_eq!(
        detached & 0b111,
        0,
        "HUP, INT or QUIT ignored: {detached:#x}"
    );
    f.ok(&["rm", "-f", &plain]);
    assert_eq!(f.ok(&["stop", "web"]), "web\n");
    // stop returns once the exit is recorded.
    let v = f.inspect(&id);
    assert_eq!(v["State"]["Status"], "exited");
    assert_eq!(v["State"]["ExitCode"], 3, "{v}");
    assert!(v["State"]["FinishedAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(f.ok(&["logs", "web"]), "hello\noops\nbye\n");
    assert!(
        !f.ok(&["ps"]).contains("web"),
        "ps without -a lists only running ones"
    );
    let all = f.ok(&["ps", "-a"]);
    assert!(all.contains("Exited (3) "), "{all}");
    // The stopped container's cgroup went with its processes.
    assert!(
        !cgroup_dirs()
            .iter()
            .any(|p| p.to_string_lossy().contains(&id)),
        "a stopped container keeps no cgroup"
    );
    assert_eq!(f.ok(&["rm", "web"]), "web\n");
    traces.assert_gone(&f);
    assert_eq!(f.ok(&["ps", "-a", "-q"]), "");
}

/// The copy-on-write root: what containers write lands in their own layer (kept, for a
/// stopped one, in its state directory: `export`/`commit` read it), never in the rootfs
/// directory, which stays byte-identical; `rm` removes the layer.
#[test]
fn containers_write_into_their_layers_and_the_rootfs_stays_byte_identical() {
    root_or_skip!("containers_write_into_their_layers_and_the_rootfs_stays_byte_identical");
    let f = Fixture::new("layer");
    let before = tree(f.rootfs.path());
    let script = "echo new >/etc/new-file; echo changed >>/etc/passwd; rm /bin/ls; mkdir -p /var/x; chmod 700 /tmp";
    let a = f.run_d(&[], &["sh", "-c", script]);
    let b = f.run_d(
        &["--name", "second"],
        &["sh", "-c", "cat /etc/new-file 2>&1; echo b >/b"],
    );
    wait_status(&f, &a, "exited");
    wait_status(&f, &b, "exited");
    assert_eq!(f.inspect(&a)["State"]["ExitCode"], 0);
    // Two containers on one image never see each other's writes.
    assert!(
        f.ok(&["logs", &b]).contains("No such file"),
        "{}",
        f.ok(&["logs", &b])
    );
    let layer = PathBuf::from(f.inspect(&a)["Layer"].as_str().expect("a layer"));
    assert!(layer.starts_with(f.root().join(&a)), "{}", layer.display());
    assert_eq!(
        std::fs::read_to_string(layer.join("upper/etc/new-file")).unwrap(),
        "new\n"
    );
    assert!(layer.join("upper/etc/passwd").exists());
    assert_eq!(
        tree(f.rootfs.path()),
        before,
        "the rootfs directory changed"
    );
    let traces = [Traces::of(&f, &a), Traces::of(&f, &b)];
    f.ok(&["rm", &a, "second"]);
    for t in &traces {
        t.assert_gone(&f);
    }
    assert!(!layer.exists());
    assert_eq!(tree(f.rootfs.path()), before);
}

/// The exit status is recorded as Docker shows it: the code, or 128+N for signal N.
#[test]
fn exit_codes_are_recorded_and_rm_removes_with_rm() {
    root_or_skip!("exit_codes_are_recorded_and_rm_removes_with_rm");
    let f = Fixture::new("codes");
    let seven = f.run_d(&[], &["sh", "-c", "exit 7"]);
    // The init of a pid namespace ignores signals from inside it: killed from outside.
    let killed = f.run_d(&[], &["sleep", "30"]);
    f.ok(&["kill", &killed, "KILL"]);
    let missing = f.run_d(&[], &["/no/such/command"]);
    assert_eq!(wait_status(&f, &seven, "exited")["State"]["ExitCode"], 7);
    assert_eq!(wait_status(&f, &killed, "exited")["State"]["ExitCode"], 137);
    assert_eq!(
        wait_status(&f, &missing, "exited")["State"]["ExitCode"],
        127
    );
    assert!(f.ok(&["logs", &missing]).contains("/no/such/command"));
    let all = f.ok(&["ps", "-a"]);
    assert!(
        all.contains("Exited (7)") && all.contains("Exited (137)"),
        "{all}"
    );
    // --rm: gone once it exited, with its name free again.
    let gone = f.run_d(&["--rm", "--name", "tmp"], &["sh", "-c", "exit 0"]);
    let traces = Traces::of(&f, &gone);
    wait_for("the --rm container to be removed", || {
        (!f.root().join(&gone).exists()).then_some(())
    });
    traces.assert_gone(&f);
    f.run_d(&["--name", "tmp"], &["true"]);
}

/// Names are unique even when several `run -d --name` race; an id prefix finds a
/// container; an ambiguous or unknown one is one line and 125 for every command.
#[test]
fn names_are_unique_and_unknown_ids_are_one_line_and_125() {
    root_or_skip!("names_are_unique_and_unknown_ids_are_one_line_and_125");
    let f = Fixture::new("names");
    let rootfs = f.rootfs().to_string();
    let racers: Vec<_> = (0..6)
        .map(|_| {
            gocker()
                .arg("--root")
                .arg(f.root())
                .args([
                    "run", "-d", "--name", "only", "--rootfs", &rootfs, "sleep", "30",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<Output> = racers
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let won: Vec<&Output> = outs.iter().filter(|o| o.status.success()).collect();
    assert_eq!(won.len(), 1, "exactly one gets the name: {outs:?}");
    for o in outs.iter().filter(|o| !o.status.success()) {
        assert_eq!(o.status.code(), Some(125));
        let e = stderr(o);
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(e.contains("already in use"), "{e}");
    }
    assert_eq!(f.ids().len(), 1, "the losers left nothing in the store");
    let id = stdout(won[0]).trim().to_string();
    assert_eq!(f.inspect("only")["Id"], id.as_str());
    assert_eq!(f.inspect(&id[..5])["Name"], "only");
    for args in [
        &["inspect", "nosuch"][..],
        &["logs", "nosuch"],
        &["stop", "nosuch"],
        &["rm", "nosuch"],
        &["rm", "-f", "nosuch"],
        &["exec", "nosuch", "true"],
        &["ps", "nosuch"],
    ] {
        let o = f.g(args);
        assert_eq!(o.status.code(), Some(125), "{args:?}");
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 1, "{args:?}: {e}");
        assert!(
            e.contains("nosuch") && e.contains("does not exist"),
            "{args:?}: {e}"
        );
    }
    for bad in ["-x", "a/b", "..", "x"] {
        let o = f.g(&["run", "-d", "--name", bad, "--rootfs", &rootfs, "true"]);
        assert_eq!(o.status.code(), Some(125), "{bad}: {}", stderr(&o));
    }
    f.ok(&["rm", "-f", "only"]);
}

/// `rm` refuses a running container (one line, 125) and `rm -f` kills and removes it;
/// `stop -t 0` kills at once; `ps --format json` and `-q`.
#[test]
fn rm_refuses_a_running_container_without_force() {
    root_or_skip!("rm_refuses_a_running_container_without_force");
    let f = Fixture::new("rmf");
    let id = f.run_d(&["--name", "busy"], &["sleep", "60"]);
    let traces = Traces::of(&f, &id);
    let o = f.g(&["rm", "busy"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("rm -f"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(&f.ok(&["ps", "--format", "json"])).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["Id"], id.as_str());
    assert_eq!(v[0]["State"], "running");
    assert_eq!(f.ok(&["ps", "-q"]), format!("{}\n", &id[..12]));
    f.ok(&["rm", "-f", "busy"]);
    traces.assert_gone(&f);

    let id = f.run_d(&[], &["sleep", "60"]);
    let t0 = Instant::now();
    f.ok(&["stop", "-t", "0", &id]);
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert_eq!(f.inspect(&id)["State"]["ExitCode"], 137);
}

/// `logs -f` prints what the container writes as it writes it and returns once it exits.
#[test]
fn logs_follow_until_the_container_exits() {
    root_or_skip!("logs_follow_until_the_container_exits");
    let f = Fixture::new("follow");
    let id = f.run_d(
        &[],
        &[
            "sh",
            "-c",
            "for i in 1 2 3; do echo line$i; sleep 0.3; done",
        ],
    );
    let t0 = Instant::now();
    let out = f.ok(&["logs", "-f", &id]);
    assert_eq!(out, "line1\nline2\nline3\n");
    assert!(
        t0.elapsed() >= Duration::from_millis(400),
        "returned before the end"
    );
    assert_eq!(f.inspect(&id)["State"]["Status"], "exited");
}

/// Without -i the container's stdin is /dev/null (cat ends at once); with -i it is a
/// pipe the monitor holds open, so a reader waits. -t is refused with a clear line.
#[test]
fn stdin_is_null_or_held_open_with_i() {
    root_or_skip!("stdin_is_null_or_held_open_with_i");
    let f = Fixture::new("stdin");
    let a = f.run_d(&[], &["cat"]);
    assert_eq!(wait_status(&f, &a, "exited")["State"]["ExitCode"], 0);
    let b = f.run_d(&["-i"], &["cat"]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(f.inspect(&b)["State"]["Status"], "running");
    f.ok(&["rm", "-f", &b]);
    let o = f.g(&["run", "-d", "-t", "--rootfs", f.rootfs(), "sh"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("-t"), "{}", stderr(&o));
    assert!(f.ids().len() == 1, "a refused run -d leaves nothing");
}

/// Many commands on one container at once (exec, ps, inspect, logs, stop, rm -f): each
/// ends, the store stays readable throughout, and nothing is left after.
#[test]
fn concurrent_commands_on_one_container() {
    root_or_skip!("concurrent_commands_on_one_container");
    let f = Fixture::new("concurrent");
    let id = f.run_d(
        &["--name", "cc"],
        &["sh", "-c", "while :; do sleep 0.1; done"],
    );
    let traces = Traces::of(&f, &id);
    let cmds: [&[&str]; 8] = [
        &["exec", "cc", "true"],
        &["ps", "-a"],
        &["inspect", "cc"],
        &["logs", "cc"],
        &["stop", "-t", "1", "cc"],
        &["ps", "--format", "json"],
        &["rm", "-f", "cc"],
        &["inspect", &id],
    ];
    let children: Vec<_> = cmds
        .iter()
        .map(|args| {
            gocker()
                .arg("--root")
                .arg(f.root())
                .args(*args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (args, c) in cmds.iter().zip(children) {
        let o = c.wait_with_output().unwrap();
        // Success, or 125 because the container was stopped or removed first.
        assert!(
            matches!(o.status.code(), Some(0) | Some(125) | Some(137)),
            "{args:?}: {o:?}"
        );
        if o.status.code() == Some(125) {
            assert_eq!(stderr(&o).lines().count(), 1, "{args:?}: {}", stderr(&o));
        }
    }
    // rm -f ran: whatever the order, the container is gone.
    let o = f.g(&["inspect", "cc"]);
    assert_eq!(o.status.code(), Some(125));
    traces.assert_gone(&f);
}

/// SIGKILL `run -d`, its monitor, `stop`, `rm` and `ps` at random moments: every later
/// command still reads the store, and `rm -f` of what is left removes everything,
/// leaving nothing.
#[test]
fn a_kill_storm_never_corrupts_the_store() {
    root_or_skip!("a_kill_storm_never_corrupts_the_store");
    let f = Fixture::new("storm");
    let rootfs = f.rootfs().to_string();
    let mut seed: u64 = std::process::id() as u64 ^ 0x9e37_79b9_7f4a_7c15;
    let mut rand = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let before_cgroups = cgroup_dirs();
    for round in 0..24 {
        let name = format!("s{}", round % 4);
        let kind = rand(5);
        let args: Vec<String> = match kind {
            0 | 4 => [
                "run", "-d", "--name", &name, "--rootfs", &rootfs, "sleep", "30",
            ]
            .map(String::from)
            .to_vec(),
            1 => ["stop", "-t", "0", &name].map(String::from).to_vec(),
            2 => ["rm", "-f", &name].map(String::from).to_vec(),
            _ => ["ps", "-a"].map(String::from).to_vec(),
        };
        let mut c = gocker()
            .arg("--root")
            .arg(f.root())
            .args(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(rand(30_000)));
        if kind == 4 {
            // The monitor itself, at a random moment of its work: run -d's child.
            for m in children(c.id()) {
                let _ = std::process::Command::new("kill")
                    .args(["-9", &m.to_string()])
                    .status();
            }
        }
        let _ = c.kill();
        let _ = c.wait();
    }
    // A killed `run -d`'s monitor goes on (it was detached at the fork): wait until
    // every gocker process on this store is a monitor whose container has started.
    let store = f.root().to_string_lossy().into_owned();
    wait_for("the monitors of killed run -d to finish starting", || {
        let started: Vec<i64> = f
            .ids()
            .iter()
            .filter_map(|id| f.record(id))
            .filter(|r| r["pid"].as_i64() > Some(0))
            .filter_map(|r| r["monitor_pid"].as_i64())
            .collect();
        let busy = std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i64>() else {
                return false;
            };
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            String::from_utf8_lossy(&cmd).contains(&store) && !started.contains(&pid)
        });
        (!busy).then_some(())
    });
    // Whatever was killed where: every command still works on what is there.
    let ps = f.g(&["ps", "-a", "--format", "json"]);
    assert_eq!(ps.status.code(), Some(0), "{}", stderr(&ps));
    let listed: serde_json::Value = serde_json::from_slice(&ps.stdout).expect("ps prints JSON");
    for c in listed.as_array().unwrap() {
        let id = c["Id"].as_str().unwrap();
        assert_eq!(f.g(&["inspect", id]).status.code(), Some(0));
    }
    let ids = f.ids();
    let traces: Vec<Traces> = ids
        .iter()
        .filter(|id| f.record(id).is_some())
        .map(|id| Traces::of(&f, id))
        .collect();
    for id in &ids {
        let o = f.g(&["rm", "-f", id]);
        assert_eq!(o.status.code(), Some(0), "rm -f {id}: {}", stderr(&o));
    }
    for t in &traces {
        t.assert_gone(&f);
    }
    let o = f.g(&["ps", "-a", "-q"]);
    assert_eq!(stdout(&o), "", "{}", stderr(&o));
    let left: Vec<_> = std::fs::read_dir(f.root())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("#names"))
        .collect();
    assert!(left.is_empty(), "left in the store: {left:?}");
    let new: Vec<_> = cgroup_dirs().difference(&before_cgroups).cloned().collect();
    assert!(new.is_empty(), "cgroups left: {new:?}");
    // And the names are free again.
    f.run_d(&["--name", "s0"], &["true"]);
}

/// A monitor SIGKILLed under a running container: the exit is never recorded, but `ps`
/// says so, and `stop` and `rm` still work and leave nothing.
#[test]
fn a_killed_monitor_leaves_a_container_stop_and_rm_can_handle() {
    root_or_skip!("a_killed_monitor_leaves_a_container_stop_and_rm_can_handle");
    let f = Fixture::new("monitor");
    let id = f.run_d(&["--name", "orphan"], &["sleep", "60"]);
    let traces = Traces::of(&f, &id);
    let monitor = f.record(&id).unwrap()["monitor_pid"].as_i64().unwrap() as i32;
    let o = std::process::Command::new("kill")
        .args(["-9", &monitor.to_string()])
        .output()
        .unwrap();
    assert!(o.status.success());
    wait_for("the monitor to die", || {
        (!Path::new(&format!("/proc/{monitor}")).exists()).then_some(())
    });
    assert_eq!(f.inspect("orphan")["State"]["Status"], "running");
    let t0 = Instant::now();
    f.ok(&["stop", "-t", "0", "orphan"]);
    assert!(t0.elapsed() < Duration::from_secs(5));
    let all = f.ok(&["ps", "-a"]);
    assert!(all.contains("Exited (unknown)"), "{all}");
    f.ok(&["rm", "orphan"]);
    traces.assert_gone(&f);
}
