//! End-to-end tests of OCI bundles: `gocker run --bundle` builds the container its
//! config.json describes (each field group observed from inside), refuses what it cannot
//! build before anything exists, and `emit-script --bundle` renders the same container
//! (a table of probes gives the same output through both). The runs need root.

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A bundle in a temporary directory: a busybox rootfs in `rootfs/`, and config.json.
struct Bundle {
    dir: TempDir,
    id: String,
}

impl Bundle {
    fn new(config: &Value) -> Bundle {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = TempDir::new("bundle");
        let out = gocker()
            .args(["rootfs", "busybox"])
            .arg(dir.path().join("rootfs"))
            .output()
            .expect("run gocker rootfs");
        assert!(out.status.success(), "rootfs: {}", stderr(&out));
        let b = Bundle {
            dir,
            // A name no other test (or worktree) uses, so its cgroup is ours alone.
            id: format!(
                "bundle-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ),
        };
        b.write(config);
        b
    }

    fn write(&self, config: &Value) {
        std::fs::write(self.path().join("config.json"), config.to_string()).unwrap();
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn rootfs(&self) -> PathBuf {
        self.path().join("rootfs")
    }

    fn run(&self) -> Output {
        self.command().output().expect("run gocker")
    }

    fn command(&self) -> Command {
        let mut c = gocker();
        c.arg("run")
            .arg("--bundle")
            .arg(self.path())
            .arg(&self.id)
            .stdin(Stdio::null());
        c
    }
}

/// runc's `spec` output, trimmed to what gocker builds today, running `sh -c SCRIPT`.
fn config(script: &str) -> Value {
    json!({
        "ociVersion": "1.0.2",
        "root": {"path": "rootfs"},
        "hostname": "bundled",
        "process": {
            "args": ["sh", "-c", script],
            "env": ["PATH=/bin:/usr/bin", "GREETING=hello world"],
            "cwd": "/work",
            "user": {"uid": 0, "gid": 0},
            "noNewPrivileges": true,
            "capabilities": {
                "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1000, "soft": 900}]
        },
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}
        ],
        "linux": {
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                           {"type": "uts"}, {"type": "mount"}],
            "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"],
            "resources": {"devices": [{"allow": false, "access": "rwm"}]}
        }
    })
}

#[test]
fn run_bundle_builds_what_config_json_says() {
    let test = "run_bundle_builds_what_config_json_says";
    if !need_root(test) {
        return;
    }
    let script = "echo \"argv=$0 $1\"; id -u; hostname; pwd; env | sort; \
        grep -E '^(CapBnd|CapEff|CapInh|CapAmb|NoNewPrivs)' /proc/self/status; \
        ulimit -Sn; ulimit -Hn; \
        grep -E ' /(proc/sys|dev|dev/pts|dev/shm) ' /proc/mounts | cut -d' ' -f2-4; \
        ls /dev; echo x > /proc/sys/kernel/hostname 2>/dev/null || echo sys-ro; exit 3";
    let mut cfg = config(script);
    cfg["process"]["args"] = json!(["sh", "-c", script, "first"]);
    let b = Bundle::new(&cfg);
    let host = HostSnapshot::take();
    let out = b.run();
    host.assert_unchanged("run --bundle");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let got = stdout(&out);
    let want = "argv=first \n0\nbundled\n/work\n\
        GREETING=hello world\nPATH=/bin:/usr/bin\nPWD=/work\nSHLVL=1\n\
        CapInh:\t0000000000000000\nCapEff:\t0000000000000421\n\
        CapBnd:\t0000000000000421\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\n\
        900\n1000\n\
        /dev tmpfs rw,nosuid,relatime,size=65536k,mode=755\n\
        /dev/pts devpts rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=666\n\
        /dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k\n\
        /proc/sys proc ro,nosuid,nodev,noexec,relatime\n";
    assert!(got.starts_with(want), "got:\n{got}\nwant first:\n{want}");
    let rest: Vec<&str> = got[want.len()..].lines().collect();
    assert_eq!(
        rest,
        [
            "fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout",
            "tty", "urandom", "zero", "sys-ro"
        ]
    );
    // The cgroup was named after the id, and is gone.
    assert!(
        cgroup_dirs().iter().all(|d| !d.ends_with(&b.id)),
        "cgroup of {} left",
        b.id
    );
}

#[test]
fn the_bundle_id_defaults_to_its_directory_and_binds_follow_their_options() {
    let test = "the_bundle_id_defaults_to_its_directory_and_binds_follow_their_options";
    if !need_root(test) {
        return;
    }
    let data = TempDir::new("bundle-data");
    std::fs::write(data.path().join("f"), "host file\n").unwrap();
    let mut cfg = config(
        "cat /data/f; echo y > /data/f 2>/dev/null || echo ro; cat /rw/f; echo z > /rw/new && echo rw",
    );
    let mounts = cfg["mounts"].as_array_mut().unwrap();
    mounts.push(
        json!({"destination": "/data", "type": "bind", "source": data.path(),
        "options": ["rbind", "ro", "nosuid", "nodev"]}),
    );
    mounts.push(
        json!({"destination": "/rw", "type": "none", "source": data.path(),
        "options": ["bind"]}),
    );
    let b = Bundle::new(&cfg);
    let host = HostSnapshot::take();
    let out = gocker()
        .arg("run")
        .arg("--bundle")
        .arg(b.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    host.assert_unchanged("run --bundle with binds");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "host file\nro\nhost file\nrw\n");
    assert_eq!(
        std::fs::read_to_string(data.path().join("f")).unwrap(),
        "host file\n"
    );
    assert_eq!(
        std::fs::read_to_string(data.path().join("new")).unwrap(),
        "z\n"
    );
}

#[test]
fn bundle_limits_are_written_to_its_own_cgroup() {
    let test = "bundle_limits_are_written_to_its_own_cgroup";
    if !need_root(test) {
        return;
    }
    let mut cfg = config("exec sleep 30");
    cfg["linux"]["resources"] = json!({
        "devices": [{"allow": false, "access": "rwm"}],
        "cpu": {"quota": 30000, "period": 100000},
        "memory": {"limit": 67108864},
        "pids": {"limit": 25}
    });
    let b = Bundle::new(&cfg);
    let mut child = b.command().spawn().expect("spawn gocker");
    let pids = hierarchy_of("pids").expect("a pids hierarchy");
    let dir = pids.mount.join("gocker").join(&b.id);
    let max = wait_for("the container's pids.max", || {
        std::fs::read_to_string(dir.join("pids.max")).ok()
    });
    let cpu = hierarchy_of("cpu").expect("a cpu hierarchy");
    let cpu_dir = cpu.mount.join("gocker").join(&b.id);
    let (quota_file, want_cpu) = if cpu.v2 {
        ("cpu.max", "30000 100000\n")
    } else {
        ("cpu.cfs_quota_us", "30000\n")
    };
    let quota = std::fs::read_to_string(cpu_dir.join(quota_file));
    // PID 1 of a namespace ignores the signals it has no handler for, SIGKILL aside.
    let _ = Command::new("kill")
        .arg("-KILL")
        .arg(
            children(child.id())
                .first()
                .copied()
                .unwrap_or(0)
                .to_string(),
        )
        .status();
    let status = child.wait().unwrap();
    assert_eq!(max, "25\n");
    assert_eq!(quota.unwrap(), want_cpu);
    assert_eq!(status.code(), Some(137));
    assert!(!dir.exists(), "{} left", dir.display());
}

#[test]
fn unsupported_fields_are_refused_before_anything_exists() {
    let test = "unsupported_fields_are_refused_before_anything_exists";
    if !need_root(test) {
        return;
    }
    let b = Bundle::new(&config("touch /ran"));
    for (field, edit) in [
        (
            "linux.namespaces (user)",
            Box::new(|v: &mut Value| {
                v["linux"]["namespaces"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"type": "user"}))
            }) as Box<dyn Fn(&mut Value)>,
        ),
        (
            "process.apparmorProfile",
            Box::new(|v: &mut Value| v["process"]["apparmorProfile"] = json!("unconfined")),
        ),
        (
            "mounts[4] (/sys)",
            Box::new(|v: &mut Value| {
                v["mounts"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"destination": "/sys", "type": "nfs", "source": "x"}))
            }),
        ),
    ] {
        let mut cfg = config("touch /ran");
        edit(&mut cfg);
        b.write(&cfg);
        let host = HostSnapshot::take();
        let out = b.run();
        host.assert_unchanged(field);
        assert_eq!(out.status.code(), Some(125), "{field}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(field) && err.lines().count() == 1,
            "{field}: {err}"
        );
        assert!(!b.rootfs().join("ran").exists(), "{field}: the command ran");
    }
    // And an option beside --bundle, which would be lost, is refused too.
    let out = gocker()
        .args(["run", "--cpus", "1", "--bundle"])
        .arg(b.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("--cpus"), "{}", stderr(&out));
}
