//! End-to-end tests of the OCI runtime commands (`create`, `start`, `state`, `kill`,
//! `delete`, `ps`, `pause`, `resume`) on real containers: the state transitions, what the
//! engines rely on (the pid file, stdio, no stray fd, nothing on stderr on success, the
//! console socket), concurrent commands on one id, refusals, and that a deleted container
//! leaves nothing on the host (state directory, cgroups, mounts). They need root.

mod common;

use common::*;
use serde_json::{Value, json};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A bundle (busybox rootfs and config.json) and a private state root, both removed on drop.
struct Oci {
    dir: TempDir,
    id: String,
}

impl Oci {
    fn new(script: &str, terminal: bool) -> Oci {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = TempDir::new("oci-cli");
        let out = gocker()
            .args(["rootfs", "busybox"])
            .arg(dir.path().join("bundle/rootfs"))
            .output()
            .expect("run gocker rootfs");
        assert!(out.status.success(), "rootfs: {}", stderr(&out));
        let o = Oci {
            dir,
            // Unique across tests and worktrees: its cgroup is ours alone.
            id: format!(
                "oci-cli-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ),
        };
        std::fs::write(
            o.bundle().join("config.json"),
            config(script, terminal).to_string(),
        )
        .unwrap();
        o
    }

    fn bundle(&self) -> PathBuf {
        self.dir.path().join("bundle")
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = gocker();
        c.arg("--root").arg(self.root()).args(args);
        c.stdin(Stdio::null());
        c
    }

    /// A command on this container (its id last), output captured.
    fn on(&self, args: &[&str]) -> Output {
        let mut c = self.cmd(args);
        c.arg(&self.id);
        c.output().expect("run gocker")
    }

    /// `create`, the container's stdout and stderr going to files in the temp dir.
    fn create(&self) -> Output {
        let out_file = std::fs::File::create(self.dir.path().join("out")).unwrap();
        let err_file = std::fs::File::create(self.dir.path().join("err")).unwrap();
        let mut c = self.cmd(&["create", "--pid-file"]);
        c.arg(self.dir.path().join("pid"))
            .arg("--bundle")
            .arg(self.bundle())
            .arg(&self.id)
            .stdout(out_file)
            .stderr(err_file);
        let out = c.output().expect("run gocker create");
        let err = std::fs::read_to_string(self.dir.path().join("err")).unwrap();
        assert!(out.status.success(), "create: {err}");
        assert_eq!(err, "", "create printed on stderr");
        out
    }

    fn container_stdout(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("out")).unwrap_or_default()
    }

    fn state(&self) -> Value {
        let out = self.on(&["state"]);
        assert!(out.status.success(), "state: {}", stderr(&out));
        assert_eq!(stderr(&out), "");
        serde_json::from_slice(&out.stdout).expect("state prints JSON")
    }

    fn status(&self) -> String {
        self.state()["status"].as_str().unwrap().to_string()
    }

    /// Run a command that must succeed silently on stderr (containerd parses both).
    fn ok(&self, args: &[&str]) -> String {
        let out = self.on(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{args:?} printed on stderr");
        stdout(&out)
    }

    fn wait_status(&self, want: &str) {
        wait_for(&format!("status {want}"), || {
            (self.status() == want).then_some(())
        });
    }
}

impl Drop for Oci {
    fn drop(&mut self) {
        let _ = self.on(&["delete", "--force"]);
    }
}

fn config(script: &str, terminal: bool) -> Value {
    json!({
        "ociVersion": "1.0.2",
        "root": {"path": "rootfs"},
        "hostname": "ocitest",
        "process": {
            "terminal": terminal,
            "args": ["sh", "-c", script],
            "env": ["PATH=/bin:/usr/bin"],
            "cwd": "/",
            "user": {"uid": 0, "gid": 0},
            "noNewPrivileges": true,
            "capabilities": {
                "bounding": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "effective": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
            }
        },
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}
        ],
        "linux": {
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                           {"type": "uts"}, {"type": "mount"}]
        }
    })
}

/// The gocker cgroups named after this container, on every hierarchy.
fn cgroups_named(id: &str) -> Vec<PathBuf> {
    cgroup_dirs()
        .into_iter()
        .filter(|d| d.file_name().is_some_and(|n| n == id))
        .collect()
}

fn mounts_under(dir: &Path) -> Vec<String> {
    let d = dir.display().to_string();
    mountinfo().into_iter().filter(|l| l.contains(&d)).collect()
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !matches!(
            s.rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next()),
            Some("Z")
        )
    })
}

#[test]
fn create_start_pause_resume_kill_delete() {
    let test = "create_start_pause_resume_kill_delete";
    if !need_root(test) {
        return;
    }
    let o = Oci::new(
        "echo started; hostname; ifconfig lo | grep -o UP; trap 'echo got-term; exit 7' TERM; while :; do sleep 0.05; done",
        false,
    );
    let out = o.create();
    assert_eq!(stdout(&out), "");
    let pid_text = std::fs::read_to_string(o.dir.path().join("pid")).unwrap();
    assert!(
        !pid_text.is_empty() && pid_text.bytes().all(|b| b.is_ascii_digit()),
        "pid file {pid_text:?}: bare digits"
    );
    let pid: i32 = pid_text.parse().unwrap();
    let st = o.state();
    assert_eq!(st["status"], "created");
    assert_eq!(st["pid"], pid);
    assert_eq!(st["id"], o.id.as_str());
    assert_eq!(
        st["bundle"],
        o.bundle().canonicalize().unwrap().display().to_string()
    );
    // Created: built, but the command has not run.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(o.container_stdout(), "");
    assert!(alive(pid));
    assert!(!cgroups_named(&o.id).is_empty(), "create made the cgroup");
    assert_eq!(o.ok(&["ps", "--format", "json"]).trim(), format!("[{pid}]"));

    assert_eq!(o.ok(&["start"]), "");
    wait_for("the command's output", || {
        o.container_stdout().contains("UP").then_some(())
    });
    assert_eq!(o.container_stdout(), "started\nocitest\nUP\n", "lo is up");
    assert_eq!(o.status(), "running");
    // Only stdio reaches the command: no state lock, no fifo, no fd of create's.
    let fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut fds = fds;
    fds.sort();
    assert_eq!(fds, ["0", "1", "2"], "the init's descriptors");
    let start_again = o.on(&["start"]);
    assert!(!start_again.status.success(), "a second start");

    assert_eq!(o.ok(&["pause"]), "");
    assert_eq!(o.status(), "paused");
    let frozen_out = o.container_stdout();
    assert_eq!(o.ok(&["resume"]), "");
    assert_eq!(o.status(), "running");
    assert_eq!(o.container_stdout(), frozen_out);

    // Running: delete without --force is refused, and changes nothing.
    let d = o.on(&["delete"]);
    assert!(!d.status.success());
    assert!(stderr(&d).contains("running"), "{}", stderr(&d));
    assert_eq!(o.status(), "running");

    let k = o.cmd(&["kill", &o.id, "TERM"]).output().unwrap();
    assert!(k.status.success(), "kill: {}", stderr(&k));
    assert_eq!(stderr(&k), "");
    o.wait_status("stopped");
    assert!(o.container_stdout().ends_with("got-term\n"));
    assert_eq!(o.state()["pid"], 0);
    let k = o.cmd(&["kill", &o.id, "9"]).output().unwrap();
    assert!(!k.status.success(), "kill of a stopped container");

    let dirs = cgroups_named(&o.id);
    assert_eq!(o.ok(&["delete"]), "");
    assert!(!o.root().join(&o.id).exists(), "state directory left");
    for d in dirs {
        assert!(!d.exists(), "cgroup {} left", d.display());
    }
    assert_eq!(mounts_under(&o.bundle()), Vec::<String>::new());
    let s = o.on(&["state"]);
    assert!(!s.status.success());
    assert!(stderr(&s).contains("does not exist"), "{}", stderr(&s));
}

#[test]
fn delete_force_kills_and_cleans_and_ignores_unknown_ids() {
    let test = "delete_force_kills_and_cleans_and_ignores_unknown_ids";
    if !need_root(test) {
        return;
    }
    let o = Oci::new("while :; do sleep 1; done", false);
    // Unknown: --force succeeds silently, a plain delete says it does not exist.
    assert_eq!(o.ok(&["delete", "--force"]), "");
    let d = o.on(&["delete"]);
    assert!(stderr(&d).contains("does not exist"), "{}", stderr(&d));
    o.create();
    let pid: i32 = std::fs::read_to_string(o.dir.path().join("pid"))
        .unwrap()
        .parse()
        .unwrap();
    o.ok(&["start"]);
    assert_eq!(o.status(), "running");
    let dirs = cgroups_named(&o.id);
    assert!(!dirs.is_empty());
    o.ok(&["pause"]);
    // Even a frozen container goes.
    assert_eq!(o.ok(&["delete", "--force"]), "");
    assert!(!alive(pid), "the init survived delete --force");
    for d in dirs {
        assert!(!d.exists(), "cgroup {} left", d.display());
    }
    assert!(!o.root().join(&o.id).exists());
    assert_eq!(mounts_under(&o.bundle()), Vec::<String>::new());
}

#[test]
fn a_created_container_can_be_deleted_without_ever_running() {
    let test = "a_created_container_can_be_deleted_without_ever_running";
    if !need_root(test) {
        return;
    }
    let o = Oci::new("echo ran", false);
    o.create();
    let pid: i32 = std::fs::read_to_string(o.dir.path().join("pid"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(o.ok(&["delete"]), "");
    assert!(!alive(pid));
    assert_eq!(o.container_stdout(), "", "the command never ran");
    assert!(cgroups_named(&o.id).is_empty());
}

#[test]
fn refusals() {
    let test = "refusals";
    if !need_root(test) {
        return;
    }
    let o = Oci::new("sleep 5", false);
    o.create();
    // The id is taken: the second create fails and the first container is untouched.
    let again = o.on(&["create", "--bundle", o.bundle().to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(125));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert_eq!(o.status(), "created");
    let bad_sig = o.cmd(&["kill", &o.id, "NOPE"]).output().unwrap();
    assert_eq!(bad_sig.status.code(), Some(125));
    let sd = o
        .cmd(&["--systemd-cgroup", "state", &o.id])
        .output()
        .unwrap();
    assert_eq!(sd.status.code(), Some(125));
    assert!(stderr(&sd).contains("--systemd-cgroup"), "{}", stderr(&sd));
    for bad in ["../x", "a/b", ".."] {
        let out = o.cmd(&["state", bad]).output().unwrap();
        assert_eq!(out.status.code(), Some(125), "{bad}");
        assert!(
            stderr(&out).contains("invalid container id"),
            "{}",
            stderr(&out)
        );
    }
    // A terminal needs a console socket to be handed to.
    let t = Oci::new("true", true);
    let mut c = t.cmd(&["create", "--bundle"]);
    c.arg(t.bundle()).arg(&t.id);
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("console-socket"), "{}", stderr(&out));
    assert!(
        !t.root().join(&t.id).exists(),
        "a refused create left state"
    );
    // The log gets the error as one JSON line.
    let log = o.dir.path().join("log.json");
    let mut c = o.cmd(&["--log"]);
    c.arg(&log)
        .args(["--log-format", "json", "state", "no-such-id"]);
    let out = c.output().unwrap();
    assert!(!out.status.success());
    let line: Value = serde_json::from_str(std::fs::read_to_string(&log).unwrap().trim()).unwrap();
    assert_eq!(line["level"], "error");
    assert!(line["msg"].as_str().unwrap().contains("does not exist"));
}

#[test]
fn concurrent_commands_on_one_id() {
    let test = "concurrent_commands_on_one_id";
    if !need_root(test) {
        return;
    }
    let o = Oci::new("while :; do sleep 1; done", false);
    o.create();
    o.ok(&["start"]);
    // Many states and kills of signal 0 while two deletes --force race: every state
    // either sees the container whole or not at all, both deletes succeed.
    let root = o.root();
    let id = o.id.clone();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let (root, id) = (root.clone(), id.clone());
            std::thread::spawn(move || {
                let args: Vec<&str> = match i {
                    0 | 1 => vec!["delete", "--force"],
                    _ => vec!["state"],
                };
                let out = gocker()
                    .arg("--root")
                    .arg(&root)
                    .args(&args)
                    .arg(&id)
                    .stdin(Stdio::null())
                    .output()
                    .unwrap();
                (args[0], out)
            })
        })
        .collect();
    for th in threads {
        let (what, out) = th.join().unwrap();
        match what {
            "delete" => assert!(out.status.success(), "delete: {}", stderr(&out)),
            _ if out.status.success() => {
                let v: Value = serde_json::from_slice(&out.stdout).expect("whole JSON");
                assert_eq!(v["id"], id.as_str());
            }
            _ => assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out)),
        }
    }
    assert!(!o.root().join(&o.id).exists());
    assert!(cgroups_named(&o.id).is_empty());
}

#[test]
fn a_terminal_goes_to_the_console_socket() {
    let test = "a_terminal_goes_to_the_console_socket";
    if !need_root(test) {
        return;
    }
    let o = Oci::new("tty; exit 4", true);
    let sock = o.dir.path().join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let receiver = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let fd: OwnedFd = stream.into();
        gocker::sys::recv_fd(&fd).unwrap().expect("one descriptor")
    });
    let mut c = o.cmd(&["create", "--console-socket"]);
    c.arg(&sock).arg("--bundle").arg(o.bundle()).arg(&o.id);
    let out = c.output().unwrap();
    assert!(out.status.success(), "create: {}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let master = receiver.join().unwrap();
    o.ok(&["start"]);
    let mut file = std::fs::File::from(master);
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    // Read until the slave side closes (EIO once the container exited).
    while Instant::now() < deadline {
        let mut buf = [0u8; 256];
        match std::io::Read::read(&mut file, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    assert_eq!(String::from_utf8_lossy(&got).trim(), "/dev/pts/0");
    o.wait_status("stopped");
    o.ok(&["delete"]);
}

#[test]
fn hooks_run_with_the_state_on_stdin_and_a_failing_one_fails_create() {
    let test = "hooks_run_with_the_state_on_stdin_and_a_failing_one_fails_create";
    if !need_root(test) {
        return;
    }
    let o = Oci::new("sleep 0.2", false);
    let log = o.dir.path().join("hooks.log");
    let hook = |name: &str| {
        json!({"path": "/bin/sh",
               "args": ["sh", "-c", format!("{{ printf '{name} '; cat; echo; }} >> {}", log.display())]})
    };
    let mut cfg = config("sleep 0.2", false);
    cfg["hooks"] = json!({
        "createRuntime": [hook("createRuntime")],
        "poststart": [hook("poststart")],
        "poststop": [hook("poststop")]
    });
    std::fs::write(o.bundle().join("config.json"), cfg.to_string()).unwrap();
    o.create();
    o.ok(&["start"]);
    o.wait_status("stopped");
    o.ok(&["delete"]);
    let text = std::fs::read_to_string(&log).unwrap();
    let got: Vec<(String, Value)> = text
        .lines()
        .map(|l| {
            let (name, json) = l.split_once(' ').unwrap();
            (name.to_string(), serde_json::from_str(json).unwrap())
        })
        .collect();
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["createRuntime", "poststart", "poststop"], "{text}");
    for (_, st) in &got {
        assert_eq!(st["id"], o.id.as_str());
    }
    assert_eq!(got[0].1["status"], "created");
    assert_eq!(got[2].1["status"], "stopped");

    // A createRuntime hook that fails: create fails, and nothing of the container stays.
    let bad = Oci::new("true", false);
    let mut cfg = config("true", false);
    cfg["hooks"] = json!({"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "echo no >&2; exit 3"]}]});
    std::fs::write(bad.bundle().join("config.json"), cfg.to_string()).unwrap();
    let mut c = bad.cmd(&["create", "--bundle"]);
    c.arg(bad.bundle()).arg(&bad.id);
    let out = c.output().unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("exit status 3: no"),
        "{}",
        stderr(&out)
    );
    assert!(!bad.root().join(&bad.id).exists());
    wait_for("the failed create's cgroups to go", || {
        cgroups_named(&bad.id).is_empty().then_some(())
    });
}
