//! Load: 40 containers with CPU and memory limits started at once. Each succeeds in a
//! cgroup of its own, and the host's cgroups, mounts and the rootfs end as they began.

mod common;

use common::*;
use std::collections::BTreeSet;
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
    let children: Vec<_> = (0..40)
        .map(|i| {
            gocker()
                .args(["run", "--cpus", "0.5", "-m", "32", "--hostname"])
                .arg(format!("c{i}"))
                .arg("--rootfs")
                .arg(r.path())
                .args([
                    "/bin/sh",
                    "-c",
                    "hostname; grep /gocker/ /proc/self/cgroup; sleep 0.3",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut cgroups = BTreeSet::new();
    let mut pids = Vec::new();
    for (i, c) in children.into_iter().enumerate() {
        pids.push(c.id());
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
    for p in pids {
        assert!(cgroups_of(p).is_empty(), "cgroup of {p} left");
    }
    assert_eq!(mountinfo(), before_mounts);
    assert_eq!(tree(), before_tree);
}
