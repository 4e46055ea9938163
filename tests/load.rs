//! Load: 40 containers with CPU and memory limits started at once. Each succeeds in a
//! cgroup of its own with its limits, and the host's cgroups (their limit files, and no
//! cgroup of ours left), mounts and the rootfs end as they began.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn forty_containers_at_once() {
    if !need_root("forty_containers_at_once") {
        return;
    }
    let r = busybox_rootfs();
    let tree = || {
        let o = Command::new("find").arg(r.path()).output().unwrap();
        let mut v: Vec<String> = stdout(&o).lines().map(String::from).collect();
        v.sort();
        v
    };
    let before_tree = tree();
    let before_mounts = mountinfo();
    let before_limits = host_cgroup_limits();
    assert!(
        !before_limits.is_empty(),
        "no host limit file found to compare"
    );
    // Each waits on its stdin until the host has seen all forty running in their cgroups.
    let mut children: Vec<_> = (0..40)
        .map(|i| {
            gocker()
                .args(["run", "-i", "--cpus", "0.5", "-m", "32", "--hostname"])
                .arg(format!("c{i}"))
                .arg("--rootfs")
                .arg(r.path())
                .args([
                    "/bin/sh",
                    "-c",
                    "hostname; grep /gocker/ /proc/self/cgroup; read line",
                ])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let pids: Vec<u32> = children.iter().map(|c| c.id()).collect();
    for &p in &pids {
        // cpu and memory: one directory on v2, two on v1; each with the container in it.
        let dirs = wait_for("the container in its cgroups", || {
            let d = cgroups_of(p);
            let joined = !d.is_empty()
                && d.iter().all(|d| {
                    std::fs::read_to_string(d.join("cgroup.procs"))
                        .is_ok_and(|s| !s.trim().is_empty())
                });
            joined.then_some(d)
        });
        let mut seen = Vec::new();
        for d in &dirs {
            for f in [
                "cpu.max",
                "cpu.cfs_quota_us",
                "memory.max",
                "memory.limit_in_bytes",
            ] {
                if let Ok(v) = std::fs::read_to_string(d.join(f)) {
                    seen.push(format!("{f}={}", v.trim()));
                }
            }
        }
        seen.sort();
        let mib32 = 32u64 << 20;
        let want = if seen.iter().any(|s| s.starts_with("cpu.max")) {
            vec![
                format!("cpu.max=50000 100000"),
                format!("memory.max={mib32}"),
            ]
        } else {
            vec![
                format!("cpu.cfs_quota_us=50000"),
                format!("memory.limit_in_bytes={mib32}"),
            ]
        };
        assert_eq!(seen, want, "limits of gocker {p}'s container");
    }
    for c in &mut children {
        c.stdin.take().unwrap().write_all(b"go\n").unwrap();
    }
    let mut cgroups = BTreeSet::new();
    for (i, c) in children.into_iter().enumerate() {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "container {i}: {}", stderr(&o));
        let out = stdout(&o);
        let mut lines = out.lines();
        assert_eq!(lines.next(), Some(format!("c{i}").as_str()));
        let mut n = 0;
        for l in lines {
            n += 1;
            let path = l.rsplit(':').next().unwrap().to_string();
            assert!(path.starts_with("/gocker/"), "container {i} in {l}");
            cgroups.insert(path);
        }
        assert!(n > 0, "container {i} is in no gocker cgroup: {out}");
    }
    assert_eq!(cgroups.len(), 40, "one cgroup per container: {cgroups:?}");
    // Ours are gone (other containers on this host may come and go meanwhile, so only
    // our owners' cgroups are looked for); the host's own limit files are unchanged.
    for p in pids {
        assert!(
            cgroups_of(p).is_empty(),
            "cgroup of {p} left: {:?}",
            cgroups_of(p)
        );
    }
    assert_eq!(
        host_cgroup_limits(),
        before_limits,
        "host cgroup limits changed"
    );
    assert_eq!(mountinfo(), before_mounts);
    assert_eq!(tree(), before_tree);
}
