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

/// The tests compare the host's mounts before and after, and one of them mounts on the
/// host itself: they take turns.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

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
    let _turn = turn();
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
    let _turn = turn();
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
    let _turn = turn();
    let mut cfg = config("exec sleep 30");
    cfg["linux"]["resources"] = json!({
        "devices": [{"allow": false, "access": "rwm"}],
        "cpu": {"quota": 30000, "period": 100000, "shares": 512},
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
    let (shares_file, want_shares) = if cpu.v2 {
        ("cpu.weight", "20\n")
    } else {
        ("cpu.shares", "512\n")
    };
    let shares = std::fs::read_to_string(cpu_dir.join(shares_file));
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
    assert_eq!(shares.unwrap(), want_shares);
    assert_eq!(status.code(), Some(137));
    assert!(!dir.exists(), "{} left", dir.display());
}

#[test]
fn unsupported_fields_are_refused_before_anything_exists() {
    let test = "unsupported_fields_are_refused_before_anything_exists";
    if !need_root(test) {
        return;
    }
    let _turn = turn();
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

#[test]
fn masks_a_readonly_root_sysfs_and_mqueue_are_there_inside() {
    let test = "masks_a_readonly_root_sysfs_and_mqueue_are_there_inside";
    if !need_root(test) {
        return;
    }
    let _turn = turn();
    // A file of /proc this kernel has (which ones depends on its configuration).
    let file = ["/proc/keys", "/proc/timer_list", "/proc/kcore"]
        .into_iter()
        .find(|f| Path::new(f).exists())
        .expect("a maskable /proc file");
    let script = &format!(
        "wc -c <{file}; ls -A /proc/acpi | wc -l; \
        touch /proc/acpi/x 2>/dev/null || echo acpi-ro; \
        touch /new 2>/dev/null || echo root-ro; echo ok > /dev/shm/f && cat /dev/shm/f; \
        grep -E ' / | /sys | /dev/mqueue | /proc/acpi ' /proc/mounts | cut -d' ' -f2-4 | sort; \
        ls /sys/kernel >/dev/null && echo sys"
    );
    let mut cfg = config(script);
    cfg["root"]["readonly"] = json!(true);
    cfg["linux"]["maskedPaths"] = json!([file, "/proc/acpi", "/proc/no-such-entry"]);
    let m = cfg["mounts"].as_array_mut().unwrap();
    m.push(
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs",
        "options": ["nosuid", "noexec", "nodev", "ro"]}),
    );
    m.push(
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
        "options": ["nosuid", "noexec", "nodev"]}),
    );
    let b = Bundle::new(&cfg);
    // The workdir must exist in a read-only root (runc makes it before the remount too).
    std::fs::create_dir(b.rootfs().join("work")).unwrap();
    let host = HostSnapshot::take();
    let out = b.run();
    host.assert_unchanged("masks");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let got = stdout(&out);
    let has_acpi = Path::new("/proc/acpi").is_dir();
    let mut want = String::from("0\n0\n");
    if has_acpi {
        want.push_str("acpi-ro\n");
    }
    want.push_str("root-ro\nok\n");
    let mut lines = vec![
        "/ ext4 ro".to_string(),
        "/dev/mqueue mqueue rw,nosuid,nodev,noexec,relatime".into(),
        "/sys sysfs ro,nosuid,nodev,noexec,relatime".into(),
    ];
    if has_acpi {
        lines.push("/proc/acpi tmpfs ro,relatime".into());
    }
    // The root's filesystem is the host's for the temp dir: compare all but its type.
    let got_mounts: Vec<String> = got
        .lines()
        .skip(want.lines().count())
        .take(lines.len())
        .map(|l| {
            if l.starts_with("/ ") {
                let f: Vec<&str> = l.split(' ').collect();
                format!("/ ext4 {}", &f[2][..2])
            } else {
                l.to_string()
            }
        })
        .collect();
    lines.sort();
    assert!(
        got.starts_with(&want),
        "got:\n{got}\nstderr: {}",
        stderr(&out)
    );
    assert_eq!(got_mounts, lines, "got:\n{got}");
    assert!(got.ends_with("sys\n"), "got:\n{got}");
    assert!(!b.rootfs().join("new").exists());
}

/// `/gocker/NAME` in cgroup paths made comparable: `run --bundle` names the cgroup after
/// the bundle's id, the script after its own pid.
fn normalize(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("/gocker/") {
            Some(i) => format!("{}/gocker/ID", &l[..i]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn emit_script_bundle_and_run_bundle_agree_on_every_probe() {
    let test = "emit_script_bundle_and_run_bundle_agree_on_every_probe";
    if !need_root(test) {
        return;
    }
    let _turn = turn();
    let probes: &[(&str, &str)] = &[
        ("user", "id -u; id -g"),
        ("umask", "umask"),
        ("oom score", "cat /proc/self/oom_score_adj"),
        (
            "cgroup mount",
            "ls /sys/fs/cgroup >/dev/null && echo listed; \
             mkdir /sys/fs/cgroup/gocker-must-not-exist 2>/dev/null || echo ro",
        ),
        (
            "sysctl",
            "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni",
        ),
        ("hostname", "hostname"),
        ("pid 1", "echo $$"),
        ("mounts", "cat /proc/mounts"),
        ("dev", "ls -l /dev | cut -c1-10,35-"),
        (
            "capabilities",
            "grep -E '^(Cap|NoNewPrivs)' /proc/self/status",
        ),
        ("environment", "env | sort"),
        ("workdir", "pwd"),
        (
            "cgroup",
            "grep -E ':(pids|memory|cpu[a-z,]*):' /proc/self/cgroup | sort",
        ),
        // pids.max is 6: this shell, an inner one and four sleeps; the inner shell dies
        // at the fork that fails. Globbing and `set` are the shell's own, so counting
        // what is left (this shell and the sleeps) costs no process.
        (
            "pids limit",
            "sh -c 'for i in 1 2 3 4 5 6 7 8 9; do sleep 5 & done' 2>/dev/null; \
             set -- /proc/[0-9]*; kill -9 -1; echo $#",
        ),
        (
            "read-only /proc/sys",
            "echo 1 > /proc/sys/vm/overcommit_memory || echo refused",
        ),
        ("exit status", "exit 9"),
        ("not found", "exec no-such-command"),
    ];
    let mut cfg = config("");
    cfg["process"].as_object_mut().unwrap().remove("rlimits");
    cfg["process"]["oomScoreAdj"] = json!(300);
    cfg["process"]["user"]["umask"] = json!(0o027);
    cfg["mounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"destination": "/sys/fs/cgroup",
        "type": "cgroup", "source": "cgroup",
        "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}));
    cfg["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"});
    let host_sysctls = || {
        ["/proc/sys/net/ipv4/ip_forward", "/proc/sys/kernel/shmmni"]
            .map(|f| std::fs::read_to_string(f).unwrap())
    };
    let before = host_sysctls();
    cfg["linux"]["maskedPaths"] = json!(["/proc/keys", "/proc/acpi"]);
    cfg["linux"]["resources"] = json!({
        "devices": [{"allow": false, "access": "rwm"}],
        "cpu": {"quota": 50000, "period": 100000},
        "memory": {"limit": 67108864},
        "pids": {"limit": 6}
    });
    let b = Bundle::new(&cfg);
    std::fs::create_dir(b.rootfs().join("work")).unwrap();
    let shells: Vec<&str> = ["dash", "bash"]
        .into_iter()
        .filter(|s| tool(s, test).is_some())
        .collect();
    let script = b.path().join("container.sh");
    let mut failures = Vec::new();
    for (name, probe) in probes {
        let mut cfg = cfg.clone();
        cfg["process"]["args"] = json!(["sh", "-c", probe]);
        b.write(&cfg);
        let host = HostSnapshot::take();
        let native = b.run();
        host.assert_unchanged(name);
        let native = (native.status.code(), normalize(&stdout(&native)));
        // What run must show, so that both cannot agree by failing alike.
        let want: Option<(i32, &str)> = match *name {
            "user" => Some((0, "0\n0")),
            "umask" => Some((0, "0027")),
            "oom score" => Some((0, "300")),
            "cgroup mount" => Some((0, "listed\nro")),
            "sysctl" => Some((0, "1\n1234")),
            "hostname" => Some((0, "bundled")),
            "pid 1" => Some((0, "1")),
            "workdir" => Some((0, "/work")),
            "pids limit" => Some((0, "5")),
            "read-only /proc/sys" => Some((0, "refused")),
            "exit status" => Some((9, "")),
            "not found" => Some((127, "")),
            _ => None,
        };
        if let Some((code, out)) = want {
            assert_eq!(
                native,
                (Some(code), out.to_string()),
                "{name}: run --bundle"
            );
        }
        for needle in match *name {
            "capabilities" => &["CapBnd:\t0000000000000421", "NoNewPrivs:\t1"][..],
            "mounts" => &[" /proc/sys proc ro", "shm /dev/shm tmpfs "][..],
            "cgroup" => &[":pids:/gocker/ID", ":memory:/gocker/ID"][..],
            "environment" => &["GREETING=hello world\nPATH=/bin:/usr/bin\nPWD=/work"][..],
            _ => &[][..],
        } {
            assert!(
                native.1.contains(needle),
                "{name}: {native:?} lacks {needle:?}"
            );
        }
        emit_to(
            &[b.path().join("").into_os_string()].iter().fold(
                vec!["--bundle".into()],
                |mut v, p| {
                    v.push(p.clone());
                    v
                },
            ),
            &script,
        );
        for shell in &shells {
            let out = Command::new(shell)
                .arg(&script)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            host.assert_unchanged(name);
            let got = (out.status.code(), normalize(&stdout(&out)));
            if got != native {
                failures.push(format!(
                    "{name} under {shell}:\n  run:    {native:?}\n  script: {got:?} ({})",
                    stderr(&out)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(host_sysctls(), before, "the host's own sysctls changed");
    assert!(
        !Path::new("/sys/fs/cgroup/gocker-must-not-exist").exists(),
        "the container made a cgroup on the host"
    );
}

#[test]
fn the_command_runs_as_the_configs_user_with_its_oom_score() {
    let test = "the_command_runs_as_the_configs_user_with_its_oom_score";
    if !need_root(test) {
        return;
    }
    let _turn = turn();
    let mut cfg = config(
        "id -u; id -g; id -G; cat /proc/self/oom_score_adj; \
         grep -E '^Cap(Prm|Eff|Bnd)' /proc/self/status; touch /work/f 2>/dev/null || echo denied",
    );
    cfg["process"]["user"] = json!({"uid": 1000, "gid": 1000, "additionalGids": [5, 20]});
    cfg["process"]["oomScoreAdj"] = json!(500);
    cfg["process"].as_object_mut().unwrap().remove("rlimits");
    let b = Bundle::new(&cfg);
    let out = b.run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Not root any more: the kept set bounds it, but execve gave a non-root command none
    // (no ambient set), as under runc; the root-owned workdir is not its to write.
    assert_eq!(
        stdout(&out),
        "1000\n1000\n1000 5 20\n500\n\
         CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000421\n\
         denied\n"
    );
    // The script cannot switch users, and says so rather than run as root.
    let out = gocker()
        .args(["emit-script", "--bundle"])
        .arg(b.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("another user"), "{}", stderr(&out));
}

#[test]
fn cgroups_path_places_the_cgroup() {
    let test = "cgroups_path_places_the_cgroup";
    if !need_root(test) {
        return;
    }
    let _turn = turn();
    let mut cfg = config("grep -E ':pids:' /proc/self/cgroup");
    cfg["linux"]["resources"] = json!({
        "devices": [{"allow": false, "access": "rwm"}],
        "pids": {"limit": 12}
    });
    let b = Bundle::new(&cfg);
    let parent = format!("{}-parent", b.id);
    cfg["linux"]["cgroupsPath"] = json!(format!("/{parent}/../{parent}/leaf"));
    b.write(&cfg);
    let pids = hierarchy_of("pids").expect("a pids hierarchy");
    let out = b.run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // From the host's pid namespace and without a cgroup namespace, the full path.
    assert!(
        stdout(&out)
            .trim_end()
            .ends_with(&format!(":/{parent}/leaf")),
        "{}",
        stdout(&out)
    );
    let dir = pids.mount.join(&parent);
    assert!(!dir.join("leaf").exists(), "the leaf is removed");
    // Its parents stay, as under runc; this test made them, so it removes them.
    for h in cgroup_hierarchies() {
        let _ = std::fs::remove_dir(h.mount.join(&parent));
    }
    // While it runs, the limit is in the leaf.
    cfg["process"]["args"] = json!(["sleep", "30"]);
    b.write(&cfg);
    let mut child = b.command().spawn().unwrap();
    let max = wait_for("pids.max in the cgroupsPath leaf", || {
        std::fs::read_to_string(dir.join("leaf/pids.max")).ok()
    });
    let pid1 = wait_for("the container", || children(child.id()).first().copied());
    let _ = Command::new("kill")
        .args(["-KILL", &pid1.to_string()])
        .status();
    child.wait().unwrap();
    assert_eq!(max, "12\n");
    for h in cgroup_hierarchies() {
        let _ = std::fs::remove_dir(h.mount.join(&parent));
    }
}

#[test]
fn a_bundles_seccomp_profile_is_what_filters_its_calls() {
    let test = "a_bundles_seccomp_profile_is_what_filters_its_calls";
    if !need_root(test) {
        return;
    }
    let _turn = turn();
    let script = "mkdir /tmp/a 2>&1; chmod 700 /tmp 2>&1; kill -0 $$ && echo kill-0; \
        kill -USR1 $$ 2>&1; grep NoNewPrivs /proc/self/status; echo end";
    // Default allow, with ERRNO rules: one per errno, one with an argument condition.
    // Without noNewPrivileges, the filter goes in before the capabilities are cut.
    let mut cfg = config(script);
    cfg["process"]["noNewPrivileges"] = json!(false);
    cfg["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [
            {"names": ["mkdir", "mkdirat", "no_such_call_here"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
            {"names": ["chmod", "fchmodat", "fchmodat2"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
            {"names": ["kill"], "action": "SCMP_ACT_ERRNO",
             "args": [{"index": 1, "value": 10, "op": "SCMP_CMP_EQ"}]}
        ]
    });
    let b = Bundle::new(&cfg);
    let out = b.run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let got = stdout(&out);
    assert!(got.contains("Permission denied"), "mkdir: {got}");
    assert!(got.contains("Function not implemented"), "chmod: {got}");
    assert!(got.contains("kill-0\n"), "kill -0: {got}");
    assert!(got.contains("Operation not permitted"), "kill -USR1: {got}");
    assert!(got.contains("NoNewPrivs:\t0\n"), "{got}");
    assert!(got.ends_with("end\n"), "{got}");
    assert!(!b.rootfs().join("tmp/a").exists());

    // Default ERRNO: every call this architecture has is allowed but mkdir's two.
    let allowed: Vec<&str> = gocker::seccomp::names::NAMES
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !["mkdir", "mkdirat"].contains(n))
        .collect();
    let mut cfg = config("mkdir /tmp/b 2>&1; echo end");
    cfg["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "syscalls": [{"names": allowed, "action": "SCMP_ACT_ALLOW"}]
    });
    b.write(&cfg);
    let out = b.run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Operation not permitted") && stdout(&out).ends_with("end\n"),
        "{}",
        stdout(&out)
    );
    assert!(!b.rootfs().join("tmp/b").exists());
    // No seccomp section: no filter at all (runc's behaviour), so mkdir works.
    let cfg = config("mkdir /tmp/c && echo made");
    b.write(&cfg);
    let out = b.run();
    assert_eq!(stdout(&out), "made\n", "{}", stderr(&out));
    // The script backend has no tool for a profile, and says so.
    let mut cfg = config("true");
    cfg["process"].as_object_mut().unwrap().remove("rlimits");
    cfg["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW"});
    b.write(&cfg);
    let out = gocker()
        .args(["emit-script", "--bundle"])
        .arg(b.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("seccomp"), "{}", stderr(&out));
}

/// Whether a mount the host makes under a shared mount, once the container runs, reaches
/// the container (bound at /shared). The "host" is a mount namespace of this test's own
/// (unshare -m), so other tests on this machine never see its mounts.
fn host_mount_arrives(slave: bool) -> String {
    let shared = TempDir::new("bundle-shared");
    let d = shared.path();
    let mut cfg = config(
        ": > /shared/ready; i=0; while [ ! -e /shared/sub/mark ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; \
         if [ -e /shared/sub/mark ]; then echo arrived; else echo not-arrived; fi",
    );
    cfg["mounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"destination": "/shared", "type": "bind", "source": d, "options": ["rbind"]}));
    if slave {
        cfg["linux"]["rootfsPropagation"] = json!("rslave");
    }
    let b = Bundle::new(&cfg);
    std::fs::create_dir(d.join("sub")).unwrap();
    let out = Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            "d=$1; shift; mount --bind \"$d\" \"$d\" && mount --make-shared \"$d\" || exit 9; \
             \"$@\" & i=0; while [ ! -e \"$d/ready\" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; \
             mount -t tmpfs tmpfs \"$d/sub\" && touch \"$d/sub/mark\"; wait",
            "sh",
        ])
        .arg(d)
        .arg(env!("CARGO_BIN_EXE_gocker"))
        .args(["run", "--bundle"])
        .arg(b.path())
        .arg(&b.id)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

#[test]
fn rootfs_propagation_slave_lets_the_hosts_later_mounts_in() {
    let test = "rootfs_propagation_slave_lets_the_hosts_later_mounts_in";
    if !need_root(test) {
        return;
    }
    let _turn = turn();
    let host = HostSnapshot::take();
    assert_eq!(host_mount_arrives(true), "arrived\n");
    assert_eq!(host_mount_arrives(false), "not-arrived\n");
    host.assert_unchanged("rootfsPropagation");
}

/// The five capability sets of a bundle, read from /proc/self/status inside: as root
/// (execve gives it bounding plus inheritable, under no_new_privs only what was
/// permitted), as another user (only the ambient set survives execve), through run
/// --bundle and the script alike; and a caller holding inheritable capabilities adds
/// none of them (issue 10, for bundles).
#[test]
fn the_five_capability_sets_are_the_configs_alone() {
    let test = "the_five_capability_sets_are_the_configs_alone";
    if !need_root(test) {
        return;
    }
    let Some(setpriv) = tool("setpriv", test) else {
        return;
    };
    let _turn = turn();
    let probe = "grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status";
    let mut cfg = config(probe);
    // The script backend cannot set rlimits.
    cfg["process"].as_object_mut().unwrap().remove("rlimits");
    // chown 0, kill 5, net_bind_service 10, net_raw 13.
    cfg["process"]["capabilities"] = json!({
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"],
        "effective": ["CAP_CHOWN", "CAP_KILL"],
        "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
        "inheritable": ["CAP_KILL", "CAP_NET_RAW"],
        "ambient": ["CAP_KILL"]
    });
    let sets = |prm_eff: &str| {
        format!(
            "CapInh:\t0000000000002020\nCapPrm:\t{prm_eff}\nCapEff:\t{prm_eff}\n\
             CapBnd:\t0000000000002421\nCapAmb:\t0000000000000020\n"
        )
    };
    let b = Bundle::new(&cfg);
    std::fs::create_dir(b.rootfs().join("work")).unwrap();
    let host = HostSnapshot::take();
    // The caller's inheritable CAP_SYS_ADMIN and CAP_SYS_MODULE must not show anywhere.
    let under_setpriv = |c: &mut Command| {
        let mut s = Command::new(&setpriv);
        s.args(["--inh-caps", "+sys_admin,+sys_module", "--"])
            .arg(c.get_program())
            .args(c.get_args())
            .stdin(Stdio::null());
        s.output().unwrap()
    };
    let script = b.path().join("container.sh");
    let run_both = |want: &str| {
        let out = under_setpriv(&mut b.command());
        host.assert_unchanged("run --bundle, five sets");
        assert_eq!(
            (out.status.code(), stdout(&out).as_str()),
            (Some(0), want),
            "{}",
            stderr(&out)
        );
        emit_to(&["--bundle".into(), b.path().into()], &script);
        let mut sh = Command::new("sh");
        sh.arg(&script);
        let out = under_setpriv(&mut sh);
        host.assert_unchanged("the script, five sets");
        assert_eq!(
            (out.status.code(), stdout(&out).as_str()),
            (Some(0), want),
            "script: {}",
            stderr(&out)
        );
    };
    // Under no_new_privs execve keeps no more than was permitted: chown, kill, net_raw.
    let out = under_setpriv(&mut b.command());
    host.assert_unchanged("run --bundle, five sets, no_new_privs");
    assert_eq!(
        (out.status.code(), stdout(&out)),
        (Some(0), sets("0000000000002021")),
        "{}",
        stderr(&out)
    );
    // The script cannot cut the permitted set, so it says so rather than keep more.
    let o = gocker()
        .arg("emit-script")
        .arg("--bundle")
        .arg(b.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("permitted"), "{}", stderr(&o));
    // Without it, a root command gets the bounding set plus the inheritable one.
    cfg["process"]["noNewPrivileges"] = json!(false);
    b.write(&cfg);
    run_both(&sets("0000000000002421"));
    // With a permitted set that cuts nothing, the same under no_new_privs.
    cfg["process"]["noNewPrivileges"] = json!(true);
    cfg["process"]["capabilities"]["permitted"] = json!([
        "CAP_CHOWN",
        "CAP_KILL",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_RAW"
    ]);
    b.write(&cfg);
    run_both(&sets("0000000000002421"));
    // Another user keeps its ambient set alone across execve, with CAP_KILL effective.
    cfg["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    b.write(&cfg);
    let out = b.run();
    host.assert_unchanged("run --bundle as uid 1000");
    assert_eq!(
        (out.status.code(), stdout(&out)),
        (Some(0), sets("0000000000000020")),
        "{}",
        stderr(&out)
    );
}

/// A process of its own namespaces (`unshare --fork sleep`), killed with its child when
/// dropped: what a bundle joins by path.
struct Unshared(std::process::Child);

impl Unshared {
    fn start(test: &str) -> Option<Unshared> {
        let unshare = tool("unshare", test)?;
        let child = Command::new(unshare)
            .args(["--ipc", "--uts", "--net", "--mount", "--pid", "--fork"])
            .args(["sleep", "100"])
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let u = Unshared(child);
        // unshare has made them once its net namespace is no longer ours.
        let ours = std::fs::read_link("/proc/self/ns/net").unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::fs::read_link(u.ns("net"))
            .ok()
            .is_none_or(|l| l == ours)
            || std::fs::read_link(u.ns("pid_for_children")).is_err()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "unshare did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Some(u)
    }

    fn ns(&self, name: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/ns/{name}", self.0.id()))
    }
}

impl Drop for Unshared {
    fn drop(&mut self) {
        // sleep is PID 1 of the new pid namespace: it dies with it when unshare is killed.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `linux.namespaces[].path`: the container is in exactly the namespaces given (the pid
/// one too, where it is not PID 1), the host's mounts are untouched by a root built in
/// a joined mount namespace; a file of the wrong type, one that is no namespace, and
/// gocker's own namespace (the host's) are refused before anything runs.
#[test]
fn namespaces_given_by_path_are_joined() {
    let test = "namespaces_given_by_path_are_joined";
    if !need_root(test) {
        return;
    }
    let _turn = turn();
    let Some(u) = Unshared::start(test) else {
        return;
    };
    let names = ["ipc", "uts", "net", "mnt", "pid"];
    let probe = names
        .iter()
        .map(|n| format!("readlink /proc/self/ns/{n}"))
        .collect::<Vec<_>>()
        .join("; ")
        + "; echo pid $$";
    let mut cfg = config(&probe);
    for (i, name) in [
        (0, "pid_for_children"),
        (1, "net"),
        (2, "ipc"),
        (3, "uts"),
        (4, "mnt"),
    ] {
        cfg["linux"]["namespaces"][i]["path"] = json!(u.ns(name));
    }
    let b = Bundle::new(&cfg);
    std::fs::create_dir(b.rootfs().join("work")).unwrap();
    let want: String = names
        .iter()
        .map(|n| {
            let n = if *n == "pid" { "pid_for_children" } else { n };
            format!("{}\n", std::fs::read_link(u.ns(n)).unwrap().display())
        })
        .collect::<String>()
        // sleep is PID 1 there.
        + "pid 2\n";
    let host = HostSnapshot::take();
    let out = b.run();
    host.assert_unchanged("run --bundle in joined namespaces");
    assert_eq!(
        (out.status.code(), stdout(&out)),
        (Some(0), want),
        "{}",
        stderr(&out)
    );
    // The init is not PID 1 there: what it leaves running does not end with it, so run
    // kills it (it is in the container's cgroup), and nothing is left.
    let mut bg = cfg.clone();
    bg["process"]["args"] = json!(["sh", "-c", "sleep 4321 & echo started"]);
    // A mount namespace of its own: the first container's pivot_root left the joined
    // one with that container's root, where this bundle's rootfs path is not.
    bg["linux"]["namespaces"][4] = json!({"type": "mount"});
    b.write(&bg);
    let out = b.run();
    host.assert_unchanged("run --bundle leaving a process in a joined pid namespace");
    assert_eq!(
        (out.status.code(), stdout(&out).as_str()),
        (Some(0), "started\n"),
        "{}",
        stderr(&out)
    );
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.trim_end() == "sleep 4321")
        .collect();
    assert!(left.is_empty(), "left running: {left:?}");
    assert!(
        cgroup_dirs().iter().all(|d| !d.ends_with(&b.id)),
        "cgroup of {} left",
        b.id
    );
    // Where pid 1 holds capabilities this root lacks, its /proc/1/ns cannot be read at all.
    let pid1 = |name: &str| {
        if std::fs::read_link(format!("/proc/1/ns/{name}")).is_ok() {
            format!("gocker's own {name} namespace or pid 1's")
        } else {
            "permission denied".to_string()
        }
    };
    for (path, says) in [
        (
            "/proc/self/ns/ipc",
            "is a ipc namespace, not a net one".to_string(),
        ),
        ("/etc/hostname", "not a namespace file".to_string()),
        (
            "/proc/self/ns/net",
            "gocker's own net namespace or pid 1's".to_string(),
        ),
        ("/proc/1/ns/net", pid1("net")),
    ] {
        let mut cfg = cfg.clone();
        cfg["linux"]["namespaces"][1]["path"] = json!(path);
        b.write(&cfg);
        let out = b.run();
        host.assert_unchanged(path);
        assert_eq!(out.status.code(), Some(125), "{path}: {}", stdout(&out));
        assert!(
            stdout(&out).is_empty() && stderr(&out).contains(&says),
            "{path}: {}",
            stderr(&out)
        );
    }
    // gocker in a mount namespace of its own (as in the conformance lane): pid 1's is
    // still the host's, and refused.
    let mut cfg = cfg.clone();
    cfg["linux"]["namespaces"][4]["path"] = json!("/proc/1/ns/mnt");
    b.write(&cfg);
    let unshare = tool("unshare", test).unwrap();
    let inner = b.command();
    let out = Command::new(unshare)
        .args(["--mount", "--propagation", "slave", "--"])
        .arg(inner.get_program())
        .args(inner.get_args())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    host.assert_unchanged("/proc/1/ns/mnt from a mount namespace of gocker's own");
    assert_eq!(out.status.code(), Some(125), "{}", stdout(&out));
    assert!(stderr(&out).contains(&pid1("mnt")), "{}", stderr(&out));
}

/// `linux.devices`: each node is made on the container's /dev tmpfs with its type,
/// numbers, mode and owner; making one gives no access (the device rules still refuse
/// to open a disk's node); nothing is left in the rootfs.
#[test]
fn linux_devices_are_made_with_their_mode_and_owner() {
    let test = "linux_devices_are_made_with_their_mode_and_owner";
    if !need_root(test) {
        return;
    }
    let _turn = turn();
    let probe = "stat -c '%n %F %t:%T %a %u:%g' /dev/test1 /dev/test2 /dev/test3; \
        echo x > /dev/null && echo null-ok; \
        head -c1 /dev/test2 >/dev/null 2>&1 || echo disk-refused";
    let mut cfg = config(probe);
    // The script backend cannot set rlimits.
    cfg["process"].as_object_mut().unwrap().remove("rlimits");
    cfg["linux"]["devices"] = json!([
        {"path": "/dev/test1", "type": "c", "major": 10, "minor": 666,
         "fileMode": 0o660, "uid": 0, "gid": 0},
        {"path": "/dev/test2", "type": "b", "major": 8, "minor": 0,
         "fileMode": 0o640, "uid": 1000, "gid": 1001},
        {"path": "/dev/test3", "type": "p", "fileMode": 0o600}
    ]);
    let b = Bundle::new(&cfg);
    std::fs::create_dir(b.rootfs().join("work")).unwrap();
    let host = HostSnapshot::take();
    let want = "/dev/test1 character special file a:29a 660 0:0\n\
        /dev/test2 block special file 8:0 640 1000:1001\n\
        /dev/test3 fifo 0:0 600 0:0\n\
        null-ok\ndisk-refused\n";
    let out = b.run();
    host.assert_unchanged("run --bundle with linux.devices");
    assert_eq!(
        (out.status.code(), stdout(&out).as_str()),
        (Some(0), want),
        "{}",
        stderr(&out)
    );
    // The script makes the same nodes (mknod -m, chown -h).
    let script = b.path().join("container.sh");
    emit_to(&["--bundle".into(), b.path().into()], &script);
    let out = Command::new("sh")
        .arg(&script)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    host.assert_unchanged("the script with linux.devices");
    assert_eq!(
        (out.status.code(), stdout(&out).as_str()),
        (Some(0), want),
        "script: {}",
        stderr(&out)
    );
    for n in ["test1", "test2", "test3"] {
        assert!(
            !b.rootfs().join("dev").join(n).exists(),
            "{n} left in the rootfs"
        );
    }
}

/// A mount's propagation option is applied to that mount (mountinfo's optional fields:
/// `shared:N`, none for private), and a shared mount's peers are the container's own:
/// nothing mounted under it reaches the host.
#[test]
fn mount_propagation_options_apply_inside_only() {
    let test = "mount_propagation_options_apply_inside_only";
    if !need_root(test) {
        return;
    }
    let _turn = turn();
    let probe = "mkdir -p /mnt/s/sub && mount -t tmpfs t /mnt/s/sub; \
        for m in /mnt/s /mnt/u /mnt/p; do \
          awk -v m=$m '$5 == m { f = \"\"; for (i = 7; $i != \"-\"; i++) f = f \" \" $i; print m f }' /proc/self/mountinfo; \
        done";
    let mut cfg = config(probe);
    // So that the script backend's refusal below is the propagation's.
    cfg["process"].as_object_mut().unwrap().remove("rlimits");
    // Mounting inside needs CAP_SYS_ADMIN.
    for set in ["bounding", "effective", "permitted"] {
        cfg["process"]["capabilities"][set]
            .as_array_mut()
            .unwrap()
            .push(json!("CAP_SYS_ADMIN"));
    }
    let m = cfg["mounts"].as_array_mut().unwrap();
    m.push(
        json!({"destination": "/mnt/s", "type": "tmpfs", "source": "tmpfs", "options": ["shared"]}),
    );
    m.push(json!({"destination": "/mnt/u", "type": "tmpfs", "source": "tmpfs", "options": ["unbindable"]}));
    m.push(json!({"destination": "/mnt/p", "type": "tmpfs", "source": "tmpfs", "options": ["private"]}));
    let b = Bundle::new(&cfg);
    std::fs::create_dir(b.rootfs().join("work")).unwrap();
    let host = HostSnapshot::take();
    let out = b.run();
    host.assert_unchanged("run --bundle with propagation options");
    let got = stdout(&out);
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        lines.len() == 3
            && lines[0].starts_with("/mnt/s shared:")
            && lines[1] == "/mnt/u unbindable"
            && lines[2] == "/mnt/p",
        "{got}"
    );
    let o = gocker()
        .arg("emit-script")
        .arg("--bundle")
        .arg(b.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("propagation"), "{}", stderr(&o));
}
