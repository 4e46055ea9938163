//! End-to-end tests of a bundle's `linux.resources` beyond the command line's limits
//! (issue 14): the device rules, in order, enforced on a real container; and the files
//! each other setting writes in the container's cgroup, read on the host while the
//! container waits after `create`. Nothing is left (the cgroups are checked). Root.

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

fn config(script: &str, resources: Value, cgroups_path: Option<&str>) -> Value {
    let mut c = json!({
        "ociVersion": "1.0.2",
        "root": {"path": "rootfs"},
        "hostname": "res",
        "process": {
            "args": ["sh", "-c", script],
            "env": ["PATH=/bin:/usr/bin"],
            "cwd": "/",
            "user": {"uid": 0, "gid": 0},
            "noNewPrivileges": true,
            // CAP_MKNOD: the device rules, not a missing capability, decide mknod.
            "capabilities": {
                "bounding": ["CAP_KILL", "CAP_MKNOD"],
                "effective": ["CAP_KILL", "CAP_MKNOD"],
                "permitted": ["CAP_KILL", "CAP_MKNOD"]
            }
        },
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "linux": {
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                           {"type": "uts"}, {"type": "mount"}],
            "resources": resources
        }
    });
    if let Some(p) = cgroups_path {
        c["linux"]["cgroupsPath"] = json!(p);
    }
    c
}

struct Bundle {
    dir: TempDir,
    id: String,
}

impl Bundle {
    /// With `own_cgroup`, the cgroup is `/<id>` (as engines place it); without, gocker's
    /// `gocker/<id>`.
    fn new(name: &str, script: &str, resources: Value, own_cgroup: bool) -> Bundle {
        let dir = TempDir::new("resources");
        let out = gocker()
            .args(["rootfs", "busybox"])
            .arg(dir.path().join("bundle/rootfs"))
            .output()
            .expect("run gocker rootfs");
        assert!(out.status.success(), "rootfs: {}", stderr(&out));
        let id = format!("gocker-test-{name}-{}", std::process::id());
        let path = format!("/{id}");
        let cfg = config(script, resources, own_cgroup.then_some(path.as_str()));
        std::fs::write(dir.path().join("bundle/config.json"), cfg.to_string()).unwrap();
        Bundle { dir, id }
    }

    fn gocker(&self, args: &[&str], with_id: bool) -> Output {
        let mut c = gocker();
        c.arg("--root")
            .arg(self.dir.path().join("state"))
            .args(args);
        if with_id {
            c.arg(&self.id);
        }
        c.stdin(Stdio::null()).output().expect("run gocker")
    }

    /// `create`: the waiting init keeps create's stdout and stderr (the engines' pipes),
    /// so they go to files, not to pipes that would not close until the container ends.
    fn create(&self) -> Result<(), String> {
        let err = self.dir.path().join("create.err");
        let status = gocker()
            .arg("--root")
            .arg(self.dir.path().join("state"))
            .args(["create", "--bundle", &self.bundle(), &self.id])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(self.dir.path().join("create.out")).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .status()
            .expect("run gocker create");
        let text = std::fs::read_to_string(&err).unwrap_or_default();
        match status.code() {
            Some(0) => Ok(()),
            code => Err(format!("{code:?}: {text}")),
        }
    }

    fn bundle(&self) -> String {
        self.dir.path().join("bundle").display().to_string()
    }

    /// The container's cgroup directory of `controller` (v1 name; the one dir on v2).
    fn cgroup(&self, controller: &str) -> PathBuf {
        match hierarchy_of(controller) {
            Some(h) => h.mount.join(&self.id),
            None => panic!("no hierarchy holds {controller}"),
        }
    }

    /// No cgroup named after the container is left on any hierarchy.
    fn assert_no_cgroup_left(&self) {
        for h in cgroup_hierarchies() {
            let d = h.mount.join(&self.id);
            assert!(!d.exists(), "left behind: {}", d.display());
        }
    }
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.join(file).display()))
        .trim()
        .to_string()
}

fn v2_host() -> bool {
    Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
}

#[test]
fn device_rules_apply_in_order_on_a_real_container() {
    root_or_skip!("device_rules_apply_in_order_on_a_real_container");
    // Allow fuse's numbers, then take the write bit back; block 7 may be made (m) only.
    let resources = json!({"devices": [
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rwm"},
        {"allow": false, "type": "c", "major": 10, "minor": 229, "access": "w"},
        {"allow": true, "type": "b", "major": 7, "access": "m"}
    ]});
    let script = "mknod /tmp/fuse c 10 229 && echo fuse-made; \
                  (echo x > /tmp/fuse) 2>&1; \
                  mknod /tmp/loop0 b 7 0 && echo loop-made; \
                  (: < /tmp/loop0) 2>&1; \
                  mknod /tmp/sda b 8 0 2>&1; \
                  (echo x > /dev/null) && echo null-ok";
    // In a cgroup of its own, and under gocker/ (on v1 that parent holds the default
    // list, which a child may not exceed: gocker widens it for the bundle's rules).
    for own_cgroup in [true, false] {
        let b = Bundle::new("devrules", script, resources.clone(), own_cgroup);
        let out = b.gocker(&["run", "--bundle", &b.bundle()], true);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
        for want in [
            "fuse-made",
            "/tmp/fuse: Operation not permitted",
            "loop-made",
            "/tmp/loop0: Operation not permitted",
            "/tmp/sda: Operation not permitted",
            "null-ok",
        ] {
            assert!(text.contains(want), "{want:?} not in:\n{text}");
        }
        b.assert_no_cgroup_left();
        if !own_cgroup {
            let left = cgroup_dirs();
            assert!(
                left.iter().all(|d| !d.ends_with(&b.id)),
                "gocker/{} left",
                b.id
            );
        }
    }
    // A container with the default list after that still gets exactly the default list.
    let b = Bundle::new(
        "devdefault",
        "mknod /tmp/fuse c 10 229 2>&1; true",
        json!({"devices": [{"allow": false, "access": "rwm"}]}),
        false,
    );
    let out = b.gocker(&["run", "--bundle", &b.bundle()], true);
    let text = stdout(&out);
    assert!(
        text.contains("/tmp/fuse: Operation not permitted"),
        "{text}{}",
        stderr(&out)
    );
}

#[test]
fn the_other_resources_reach_their_cgroup_files() {
    root_or_skip!("the_other_resources_reach_their_cgroup_files");
    let v2 = v2_host();
    let mut memory = json!({"limit": 67108864, "reservation": 33554432});
    if !v2 {
        memory["swappiness"] = json!(10);
        memory["disableOOMKiller"] = json!(true);
        memory["kernelTCP"] = json!(16777216);
    }
    let resources = json!({
        "memory": memory,
        "cpu": {"cpus": "0", "mems": "0"},
        "devices": [{"allow": false, "access": "rwm"},
                    {"allow": true, "type": "b", "major": 8, "minor": 20, "access": "rw"}]
    });
    let b = Bundle::new("resfiles", "true", resources, true);
    b.create().expect("create");
    let checked = std::panic::catch_unwind(|| {
        let mem = b.cgroup("memory");
        let cpuset = b.cgroup("cpuset");
        assert_eq!(read(&cpuset, "cpuset.cpus"), "0");
        assert_eq!(read(&cpuset, "cpuset.mems"), "0");
        if v2 {
            assert_eq!(read(&mem, "memory.low"), "33554432");
        } else {
            assert_eq!(read(&mem, "memory.soft_limit_in_bytes"), "33554432");
            assert_eq!(read(&mem, "memory.swappiness"), "10");
            assert_eq!(read(&mem, "memory.kmem.tcp.limit_in_bytes"), "16777216");
            assert!(read(&mem, "memory.oom_control").contains("oom_kill_disable 1"));
            // The bundle's rule first, then the default list, as runtime-tools reads it.
            let list = read(&b.cgroup("devices"), "devices.list");
            let first: Vec<&str> = list.lines().take(2).collect();
            assert_eq!(first, ["b 8:20 rw", "c 1:3 rwm"], "{list}");
        }
    });
    let del = b.gocker(&["delete", "--force"], true);
    assert!(del.status.success(), "delete: {}", stderr(&del));
    if let Err(e) = checked {
        std::panic::resume_unwind(e);
    }
    b.assert_no_cgroup_left();
}

#[test]
fn a_setting_this_cgroup_version_lacks_is_refused_naming_it() {
    root_or_skip!("a_setting_this_cgroup_version_lacks_is_refused_naming_it");
    // v2 has no swappiness; v1's leaf weights went with the CFQ scheduler (Linux 5.0).
    let resources = if v2_host() {
        json!({"memory": {"limit": 67108864, "swappiness": 10}})
    } else {
        json!({"blockIO": {"leafWeight": 500}})
    };
    let b = Bundle::new("refused", "true", resources, true);
    let err = b.create().expect_err("refused");
    assert!(err.starts_with("Some(125): "), "{err}");
    let err = err.trim_start_matches("Some(125): ").trim_end();
    assert!(
        err.contains("linux.resources.memory.swappiness")
            || err.contains("linux.resources.blockIO.leafWeight"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    b.assert_no_cgroup_left();
}
