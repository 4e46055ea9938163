//! config.json strings -> spec: every mapped field and every refusal.

use super::*;
use crate::error::exit_code_of;

use crate::testutil::TempDir;

/// The per-mount flags named, as mount(8) spells them, and nothing else.
fn flags(names: &[&str]) -> MountFlags {
    let f = MountFlags {
        readonly: names.contains(&"ro"),
        nosuid: names.contains(&"nosuid"),
        nodev: names.contains(&"nodev"),
        noexec: names.contains(&"noexec"),
        recursive: false,
    };
    // The table agrees: the same names back, in its order.
    let mut back = f.names();
    back.sort_unstable();
    let mut want = names.to_vec();
    want.sort_unstable();
    assert_eq!(back, want);
    f
}
use serde_json::{Value, json};

/// The smallest config gocker runs: runc's `spec` shape without the parts refused today.
fn base() -> Value {
    json!({
        "ociVersion": "1.0.2",
        "root": {"path": "rootfs"},
        "hostname": "box",
        "process": {
            "args": ["sh", "-c", "echo hi"],
            "env": ["PATH=/bin", "TERM=xterm"],
            "cwd": "/work",
            "user": {"uid": 0, "gid": 0},
            "noNewPrivileges": true,
            "capabilities": {
                "bounding": ["CAP_CHOWN", "CAP_KILL"],
                "effective": ["CAP_CHOWN", "CAP_KILL"],
                "permitted": ["CAP_KILL", "CAP_CHOWN"]
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512}]
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
                           {"type": "uts"}, {"type": "mount"}],
            "readonlyPaths": ["/proc/sys"],
            "resources": {"devices": [{"allow": false, "access": "rwm"}]}
        }
    })
}

/// A bundle directory with a rootfs and `config` as its config.json.
struct Bundle(TempDir);

impl Bundle {
    fn new(config: &Value) -> Bundle {
        let t = TempDir::new("oci");
        std::fs::create_dir(t.path().join("rootfs")).unwrap();
        std::fs::write(t.path().join("config.json"), config.to_string()).unwrap();
        Bundle(t)
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
}

fn load(config: &Value) -> Result<ContainerSpec> {
    let b = Bundle::new(config);
    load_bundle(b.path(), "c1")
}

/// `base()` with `edit` applied.
fn with(edit: impl FnOnce(&mut Value)) -> Value {
    let mut v = base();
    edit(&mut v);
    v
}

fn refused(config: &Value) -> String {
    let e = load(config).expect_err(&format!("should be refused: {config}"));
    assert_eq!(exit_code_of(&e), 125, "{e:#}");
    let msg = crate::error::one_line(&e);
    assert!(!msg.contains('\n'), "one line: {msg}");
    msg
}

#[test]
fn linux_devices_are_nodes_made_after_the_mounts() {
    use crate::mounts::NodeKind;
    let s = load(&with(|v| {
        v["linux"]["devices"] = json!([
            {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
             "fileMode": 0o660, "uid": 5, "gid": 6},
            {"path": "/dev/sdz", "type": "b", "major": 8, "minor": 16},
            {"path": "/dev/fifo", "type": "p"},
            {"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o600}
        ])
    }))
    .unwrap();
    let nodes: Vec<(&Path, &MountKind)> = s
        .mounts
        .iter()
        .filter(|m| matches!(m.kind, MountKind::Node { .. }))
        .map(|m| (m.target.as_path(), &m.kind))
        .collect();
    let node = |kind, major, minor, mode, uid, gid| MountKind::Node {
        kind,
        major,
        minor,
        mode,
        uid,
        gid,
    };
    assert_eq!(
        nodes,
        [
            (
                Path::new("/dev/fuse"),
                &node(NodeKind::Char, 10, 229, 0o660, 5, 6)
            ),
            (
                Path::new("/dev/sdz"),
                &node(NodeKind::Block, 8, 16, 0o666, 0, 0)
            ),
            (
                Path::new("/dev/fifo"),
                &node(NodeKind::Fifo, 0, 0, 0o666, 0, 0)
            ),
            (
                Path::new("/dev/null"),
                &node(NodeKind::Char, 1, 3, 0o600, 0, 0)
            ),
        ]
    );
    // Each char or block node is allowed, after the resources' rules (runc's order);
    // a fifo needs no rule.
    let allowed: Vec<_> = s
        .limits
        .devices
        .iter()
        .map(|r| (r.allow, r.kind, r.major, r.minor, r.access))
        .collect();
    use crate::devices::{ACC_ALL, Kind};
    assert_eq!(
        &allowed[allowed.len() - 3..],
        [
            (true, Some(Kind::Char), Some(10), Some(229), ACC_ALL),
            (true, Some(Kind::Block), Some(8), Some(16), ACC_ALL),
            (true, Some(Kind::Char), Some(1), Some(3), ACC_ALL),
        ]
    );
    // The config's /dev/null replaces gocker's own; the nodes come after every mount.
    assert!(
        !s.mounts
            .iter()
            .any(|m| m.target == Path::new("/dev/null")
                && matches!(m.kind, MountKind::Device { .. }))
    );
    let last_fs = s
        .mounts
        .iter()
        .rposition(|m| matches!(m.kind, MountKind::Fs { .. }))
        .unwrap();
    let first_node = s
        .mounts
        .iter()
        .position(|m| matches!(m.kind, MountKind::Node { .. }))
        .unwrap();
    assert!(first_node > last_fs);
}

#[test]
fn a_binds_filesystem_options_change_nothing_and_are_dropped() {
    let s = load(&with(|v| {
        v["mounts"].as_array_mut().unwrap().push(
            json!({"destination": "/y", "source": "/etc", "options": ["bind", "nosuid", "mode=755", "size=1k"]}),
        )
    }))
    .unwrap();
    let y = s
        .mounts
        .iter()
        .find(|m| m.target == Path::new("/y"))
        .unwrap();
    assert!(matches!(y.kind, MountKind::Bind { .. }), "{y:?}");
    assert_eq!(y.flags, flags(&["nosuid"]));
}

#[test]
fn propagation_options_follow_their_mount() {
    use crate::sys::ms;
    let s = load(&with(|v| {
        let m = v["mounts"].as_array_mut().unwrap();
        m.push(json!({"destination": "/a", "type": "tmpfs", "options": ["shared"]}));
        m.push(json!({"destination": "/b", "source": "/etc", "options": ["rbind", "rslave"]}));
        m.push(
            json!({"destination": "/c", "type": "tmpfs", "options": ["runbindable", "private"]}),
        );
    }))
    .unwrap();
    let steps: Vec<(&Path, u64)> = s
        .mounts
        .iter()
        .skip_while(|m| m.target != Path::new("/a"))
        .take(6)
        .map(|m| {
            let word = match m.kind {
                MountKind::Propagation { flags } => flags,
                _ => 0,
            };
            (m.target.as_path(), word)
        })
        .collect();
    assert_eq!(
        steps.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        ["/a", "/a", "/b", "/b", "/c", "/c"].map(Path::new)
    );
    let kinds: Vec<bool> = s
        .mounts
        .iter()
        .skip_while(|m| m.target != Path::new("/a"))
        .take(6)
        .map(|m| matches!(m.kind, MountKind::Propagation { .. }))
        .collect();
    assert_eq!(kinds, [false, true, false, true, false, true]);
    assert_eq!(steps[1].1, ms::SHARED);
    assert_eq!(steps[3].1, ms::SLAVE | ms::REC);
    // private changes nothing (gocker made every mount private already).
    assert_eq!(steps[5].1, ms::UNBINDABLE | ms::REC);
}

#[test]
fn ambient_caps_the_kernel_cannot_raise_are_left_out_as_runc_does() {
    // `crun spec`'s sets: ambient = permitted, and no inheritable set at all.
    let s = load(&with(|v| {
        let caps = json!(["CAP_KILL", "CAP_NET_BIND_SERVICE"]);
        v["process"]["capabilities"] = json!({
            "bounding": caps, "effective": caps, "permitted": caps, "ambient": caps,
            "inheritable": ["CAP_KILL"]
        });
    }))
    .unwrap();
    let kill = 1u64 << 5;
    assert_eq!(
        s.capabilities.ambient.0, kill,
        "only CAP_KILL is in P and I"
    );
    assert_eq!(s.capabilities.inheritable.0, kill);
}

#[test]
fn the_umask_is_the_configs() {
    let s = load(&with(|v| v["process"]["user"]["umask"] = json!(0o002))).unwrap();
    assert_eq!(s.process.umask, Some(0o002));
}

#[test]
fn namespaces_with_a_path_are_joined_not_made() {
    let s = load(&with(|v| {
        v["linux"]["namespaces"][1]["path"] = json!("/proc/77/ns/net");
        v["linux"]["namespaces"][4]["path"] = json!("/proc/77/ns/mnt");
    }))
    .unwrap();
    assert_eq!(
        s.namespaces,
        [Namespace::Pid, Namespace::Ipc, Namespace::Uts]
    );
    assert_eq!(
        s.namespace_paths,
        [
            (Namespace::Net, PathBuf::from("/proc/77/ns/net")),
            (Namespace::Mount, PathBuf::from("/proc/77/ns/mnt"))
        ]
    );
    // A joined uts namespace takes the hostname, a joined network namespace net.* keys.
    assert!(s.has_own(Namespace::Net) && s.has_own(Namespace::Mount));
    let s = load(&with(|v| {
        v["linux"]["namespaces"][1]["path"] = json!("/proc/77/ns/net");
        v["linux"]["namespaces"][3]["path"] = json!("/proc/77/ns/uts");
        v["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1"});
    }))
    .unwrap();
    assert_eq!(s.hostname, "box");
    assert_eq!(s.process.umask, None);
    assert_eq!(s.sysctl, [("net.ipv4.ip_forward".into(), "1".into())]);
}

#[test]
fn the_five_capability_sets_map_each_as_given() {
    let s = load(&with(|v| {
        v["process"]["capabilities"] = json!({
            "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
            "effective": ["CAP_KILL"],
            "permitted": ["CAP_KILL", "CAP_CHOWN", "CAP_SYS_ADMIN"],
            "inheritable": ["CAP_KILL", "CAP_NET_RAW"],
            "ambient": ["CAP_KILL"]
        })
    }))
    .unwrap();
    let (chown, kill, net_raw, sys_admin) = (1 << 0, 1 << 5, 1 << 13, 1 << 21);
    assert_eq!(
        s.capabilities,
        Capabilities {
            bounding: CapSet(chown | kill | net_raw),
            effective: CapSet(kill),
            permitted: CapSet(kill | chown | sys_admin),
            inheritable: CapSet(kill | net_raw),
            ambient: CapSet(kill),
        }
    );
    // A set left out is empty, as in runc.
    let s = load(&with(|v| {
        v["process"]["capabilities"] = json!({"bounding": ["CAP_KILL"]})
    }))
    .unwrap();
    assert_eq!(
        s.capabilities,
        Capabilities {
            bounding: CapSet(kill),
            ..Capabilities::kept(CapSet(0))
        }
    );
    // Without process.capabilities, oci-spec reads runc's `spec` default (AUDIT_WRITE,
    // KILL, NET_BIND_SERVICE) into every set: fewer than runc keeps then (it changes
    // nothing), and none outside the bounding set.
    let s = load(&with(|v| {
        v["process"].as_object_mut().unwrap().remove("capabilities");
    }))
    .unwrap();
    let three = CapSet(1 << 29 | kill | 1 << 10);
    assert_eq!(
        s.capabilities,
        Capabilities {
            inheritable: three,
            ambient: three,
            ..Capabilities::kept(three)
        }
    );
}

#[test]
fn process_root_hostname_and_privileges_map() {
    let b = Bundle::new(&base());
    let s = load_bundle(b.path(), "c1").unwrap();
    assert_eq!(s.id, "c1");
    assert_eq!(
        s.root,
        Root::Dir(std::fs::canonicalize(b.path().join("rootfs")).unwrap())
    );
    assert_eq!(s.process.argv, ["sh", "-c", "echo hi"]);
    // Exactly the config's environment: no defaults added, as runc does.
    assert_eq!(s.process.env, ["PATH=/bin", "TERM=xterm"]);
    assert_eq!(s.process.cwd, Path::new("/work"));
    assert!(!s.process.terminal);
    assert!(s.process.stdin);
    assert_eq!(s.hostname, "box");
    assert_eq!(s.capabilities, Capabilities::kept(CapSet(1 << 0 | 1 << 5)));
    assert!(s.no_new_privs);
    assert_eq!(
        s.rlimits,
        [Rlimit {
            resource: 7, // RLIMIT_NOFILE
            soft: 512,
            hard: 1024
        }]
    );
    assert_eq!(
        s.namespaces,
        [
            Namespace::Pid,
            Namespace::Net,
            Namespace::Ipc,
            Namespace::Uts,
            Namespace::Mount
        ]
    );
    // No seccomp section: no filter (runc's behaviour); the default device list stays.
    assert!(!s.confinement.seccomp);
    assert!(s.confinement.devices);
    // The bundle's deny-all is kept as its one rule; the list is then the default one.
    assert_eq!(
        s.limits,
        Limits {
            devices: vec![crate::devices::Rule {
                allow: false,
                kind: None,
                major: None,
                minor: None,
                access: crate::devices::ACC_ALL,
            }],
            ..Limits::default()
        }
    );
    assert_eq!(
        crate::devices::List::for_container(&s.limits.devices),
        crate::devices::List::for_container(&[])
    );
}

#[test]
fn an_absolute_root_path_is_used_as_it_is() {
    let b = Bundle::new(&base());
    let abs = b.path().join("rootfs");
    let cfg = with(|v| v["root"]["path"] = json!(abs));
    let other = Bundle::new(&cfg);
    let s = load_bundle(other.path(), "x").unwrap();
    assert_eq!(s.root, Root::Dir(std::fs::canonicalize(&abs).unwrap()));
}

#[test]
fn mounts_keep_their_order_flags_and_data_and_dev_gets_its_nodes() {
    let s = load(&base()).unwrap();
    let proc = &s.mounts[0];
    assert_eq!(proc.target, Path::new("/proc"));
    assert_eq!(proc.flags, MountFlags::NONE);
    let dev = &s.mounts[1];
    assert_eq!(dev.flags, flags(&["nosuid"]));
    assert_eq!(
        dev.kind,
        MountKind::Fs {
            fstype: "tmpfs".into(),
            source: "tmpfs".into(),
            data: Some("mode=755,size=65536k".into())
        }
    );
    // The tmpfs hides the image's /dev: its nodes are made whatever the image has.
    let nodes: Vec<_> = s
        .mounts
        .iter()
        .filter(|m| matches!(m.kind, MountKind::Device { .. }))
        .collect();
    assert_eq!(nodes.len(), DEVICES.len());
    assert!(nodes.iter().all(|m| !m.dev && m.target.starts_with("/dev")));
    assert!(s.mounts.iter().any(|m| m.target == Path::new("/dev/ptmx")
        && m.kind
            == MountKind::Symlink {
                to: "pts/ptmx".into()
            }));
    let pts = s
        .mounts
        .iter()
        .find(|m| m.target == Path::new("/dev/pts"))
        .unwrap();
    assert_eq!(pts.flags, flags(&["nosuid", "noexec"]));
    assert_eq!(
        pts.calls()[0].mount_args_under("R"),
        [
            "-t",
            "devpts",
            "-o",
            "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5",
            "devpts",
            "R/dev/pts"
        ]
    );
    let last = s.mounts.last().unwrap();
    assert_eq!(last.kind, MountKind::Rebind);
    assert_eq!(last.target, Path::new("/proc/sys"));
    assert!(last.optional && last.flags.readonly);
}

#[test]
fn binds_resolve_relative_sources_from_the_bundle() {
    let cfg = with(|v| {
        v["mounts"].as_array_mut().unwrap().push(json!(
            {"destination": "/data", "type": "bind", "source": "data", "options": ["rbind", "ro", "nosuid"]}
        ));
        v["mounts"].as_array_mut().unwrap().push(json!(
            {"destination": "/etc/x", "source": "/dev/null", "options": ["bind"]}
        ));
    });
    let b = Bundle::new(&cfg);
    std::fs::create_dir(b.path().join("data")).unwrap();
    let s = load_bundle(b.path(), "c").unwrap();
    let data = s
        .mounts
        .iter()
        .find(|m| m.target == Path::new("/data"))
        .unwrap();
    assert_eq!(
        data.kind,
        MountKind::Bind {
            source: std::fs::canonicalize(b.path().join("data")).unwrap(),
            dir: true
        }
    );
    assert_eq!(
        data.flags,
        MountFlags {
            recursive: true,
            ..flags(&["ro", "nosuid"])
        }
    );
    let x = s
        .mounts
        .iter()
        .find(|m| m.target == Path::new("/etc/x"))
        .unwrap();
    assert_eq!(
        x.kind,
        MountKind::Bind {
            source: "/dev/null".into(),
            dir: false
        }
    );
    assert_eq!(x.flags, MountFlags::NONE);
}

#[test]
fn resources_become_the_same_limits_the_cli_sets() {
    let cfg = with(|v| {
        v["linux"]["resources"] = json!({
            "cpu": {"quota": 50000, "period": 100000, "shares": 512},
            "memory": {"limit": 67108864, "swap": 67108864},
            "pids": {"limit": 20}
        })
    });
    let s = load(&cfg).unwrap();
    assert_eq!(
        s.limits,
        Limits {
            cpu: Some(CpuLimit {
                quota_us: 50_000,
                period_us: 100_000
            }),
            memory_bytes: Some(64 << 20),
            memory_swap_bytes: Some(64 << 20),
            pids: Some(20),
            cpu_shares: Some(512),
            ..Default::default()
        }
    );
    // -1 and 0 mean no limit.
    let cfg = with(|v| {
        v["linux"]["resources"] =
            json!({"cpu": {"quota": -1}, "memory": {"limit": -1}, "pids": {"limit": 0}})
    });
    assert_eq!(load(&cfg).unwrap().limits, Limits::default());
}

#[test]
fn device_rules_keep_their_order_before_the_default_list() {
    use crate::devices::{ACC_ALL, ACC_READ, ACC_WRITE, Kind, List, Rule};
    let cfg = with(|v| {
        v["linux"]["resources"]["devices"] = json!([
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rwm"},
            {"allow": true, "type": "b", "major": 8, "minor": 20, "access": "rw"},
            {"allow": true, "type": "c", "major": 136, "access": ""},
            {"allow": false, "type": "c", "major": 10, "minor": 229, "access": "w"}
        ])
    });
    let s = load(&cfg).unwrap();
    let r = |allow, kind, major, minor, access| Rule {
        allow,
        kind,
        major,
        minor,
        access,
    };
    assert_eq!(
        s.limits.devices,
        [
            r(false, None, None, None, ACC_ALL),
            r(true, Some(Kind::Char), Some(10), Some(229), ACC_ALL),
            r(
                true,
                Some(Kind::Block),
                Some(8),
                Some(20),
                ACC_READ | ACC_WRITE
            ),
            r(true, Some(Kind::Char), Some(136), None, ACC_ALL),
            r(false, Some(Kind::Char), Some(10), Some(229), ACC_WRITE),
        ]
    );
    // The later deny took the write bit back; the default list follows.
    let lines = List::for_container(&s.limits.devices).v1_list_lines();
    assert_eq!(lines[..3], ["c 10:229 rm", "b 8:20 rw", "c 136:* rwm"]);
    assert_eq!(lines.len(), 3 + 8, "pts merged into the bundle's 136:*");
    // The script has no device list of its own: it refuses rather than drop them.
    let mut s = s;
    s.rlimits.clear();
    let e = crate::script::render_in(&s, crate::cgroup::Version::V1, &[], crate::script::Lang::En);
    assert!(e.is_err_and(|e| format!("{e:#}").contains("linux.resources.devices")));
    // A deny-all alone is the default the script already documents: no refusal there.
    s.limits.devices.truncate(1);
    crate::script::render_in(&s, crate::cgroup::Version::V1, &[], crate::script::Lang::En).unwrap();
}

#[test]
fn the_other_resources_map_to_limits() {
    use crate::spec::{BlkioDevice, BlkioThrottle, Throttle};
    let cfg = with(|v| {
        v["linux"]["resources"] = json!({
            "cpu": {"cpus": "0-1", "mems": "0", "realtimePeriod": 1000000,
                    "realtimeRuntime": 950000},
            "memory": {"limit": 50593792, "reservation": 50593792, "swap": 101187584,
                       "kernel": 50593792, "kernelTCP": 50593792, "swappiness": 10,
                       "disableOOMKiller": true},
            "blockIO": {"weight": 500,
                        "weightDevice": [{"major": 8, "minor": 0, "weight": 300}],
                        "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                        "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}]},
            "network": {"classID": 1048577, "priorities": [{"name": "lo", "priority": 2}]},
            "hugepageLimits": [{"pageSize": "2MB", "limit": 2147483648u64}]
        })
    });
    let l = load(&cfg).unwrap().limits;
    assert_eq!(
        l,
        Limits {
            memory_bytes: Some(50_593_792),
            memory_swap_bytes: Some(101_187_584),
            memory_reservation_bytes: Some(50_593_792),
            memory_swappiness: Some(10),
            kernel_memory_bytes: Some(50_593_792),
            kernel_tcp_bytes: Some(50_593_792),
            oom_kill_disable: true,
            cpuset_cpus: Some("0-1".into()),
            cpuset_mems: Some("0".into()),
            rt_period_us: Some(1_000_000),
            rt_runtime_us: Some(950_000),
            net_classid: Some(1_048_577),
            net_priorities: vec![("lo".into(), 2)],
            hugepages: vec![("2MB".into(), 2 << 30)],
            blkio_weight: Some(500),
            blkio_weight_devices: vec![BlkioDevice {
                major: 8,
                minor: 0,
                weight: 300
            }],
            blkio_throttles: vec![
                BlkioThrottle {
                    kind: Throttle::ReadBps,
                    major: 8,
                    minor: 0,
                    rate: 1_048_576
                },
                BlkioThrottle {
                    kind: Throttle::WriteIops,
                    major: 8,
                    minor: 0,
                    rate: 100
                },
            ],
            ..Limits::default()
        }
    );
}

#[test]
fn no_hostname_keeps_the_hosts_copy() {
    let cfg = with(|v| {
        v.as_object_mut().unwrap().remove("hostname");
    });
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(load(&cfg).unwrap().hostname, host.trim_end());
}

#[test]
fn every_refusal_names_its_field() {
    let cases: Vec<(&str, Value)> = vec![
        (
            "root: missing",
            with(|v| {
                v.as_object_mut().unwrap().remove("root");
            }),
        ),
        ("process.args", with(|v| v["process"]["args"] = json!([]))),
        ("process.cwd", with(|v| v["process"]["cwd"] = json!("work"))),
        (
            "process.user.username",
            with(|v| v["process"]["user"]["username"] = json!("nobody")),
        ),
        (
            "process.oomScoreAdj",
            with(|v| v["process"]["oomScoreAdj"] = json!(1001)),
        ),
        (
            "process.apparmorProfile",
            with(|v| v["process"]["apparmorProfile"] = json!("x")),
        ),
        (
            "process.capabilities.effective: CAP_SYS_ADMIN: not in the permitted set",
            with(|v| {
                v["process"]["capabilities"]["effective"] = json!(["CAP_CHOWN", "CAP_SYS_ADMIN"])
            }),
        ),
        (
            "process.capabilities.inheritable: CAP_SYS_MODULE, CAP_SYS_ADMIN: not in the bounding set",
            with(|v| {
                v["process"]["capabilities"]["inheritable"] =
                    json!(["CAP_KILL", "CAP_SYS_MODULE", "CAP_SYS_ADMIN"])
            }),
        ),
        (
            "CAP_TEST",
            with(|v| v["process"]["capabilities"]["inheritable"] = json!(["CAP_TEST"])),
        ),
        (
            "process.rlimits",
            with(|v| v["process"]["rlimits"][0]["soft"] = json!(4096)),
        ),
        (
            "process.terminal",
            with(|v| {
                v["process"]["terminal"] = json!(true);
                v["mounts"].as_array_mut().unwrap().pop();
            }),
        ),
        ("hostname", with(|v| v["hostname"] = json!("a_b"))),
        (
            "hooks.createContainer",
            with(|v| v["hooks"] = json!({"createContainer": [{"path": "/bin/true"}]})),
        ),
        (
            "hooks.poststart[0]",
            with(|v| v["hooks"] = json!({"poststart": [{"path": "true"}]})),
        ),
        (
            "hooks.poststop[1]",
            with(|v| {
                v["hooks"] = json!({"poststop": [{"path": "/bin/true"}, {"path": "/bin/true", "timeout": 0}]})
            }),
        ),
        (
            "linux.namespaces (user)",
            with(|v| {
                v["linux"]["namespaces"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"type": "user"}))
            }),
        ),
        (
            "linux.namespaces (net): path proc/1/ns/net: must be absolute",
            with(|v| v["linux"]["namespaces"][1]["path"] = json!("proc/1/ns/net")),
        ),
        (
            "process.user.umask: 0o10000: above 0777",
            with(|v| v["process"]["user"]["umask"] = json!(4096)),
        ),
        (
            "linux.namespaces (net): listed twice",
            with(|v| {
                v["linux"]["namespaces"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"type": "network", "path": "/proc/1/ns/net"}))
            }),
        ),
        (
            "mount namespace",
            with(|v| {
                v["linux"]["namespaces"].as_array_mut().unwrap().pop();
            }),
        ),
        (
            "mounts[3] (/sys)",
            with(|v| {
                v["mounts"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"destination": "/sys", "type": "nfs", "source": "sysfs"}))
            }),
        ),
        (
            "mounts[3] (/x)",
            with(|v| {
                v["mounts"].as_array_mut().unwrap().push(
                    json!({"destination": "/x", "type": "bind", "source": "/nonexistent-gocker"}),
                )
            }),
        ),
        (
            "mounts[3] (/y): option nosiud is not supported on a bind mount",
            with(|v| {
                v["mounts"].as_array_mut().unwrap().push(
                    json!({"destination": "/y", "source": "/etc", "options": ["bind", "mode=755", "nosiud"]}),
                )
            }),
        ),
        (
            "mounts[3] (/y): option sync is not supported",
            with(|v| {
                v["mounts"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"destination": "/y", "type": "tmpfs", "options": ["sync"]}))
            }),
        ),
        (
            "mounts[3] (/)",
            with(|v| {
                v["mounts"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"destination": "/", "type": "tmpfs"}))
            }),
        ),
        (
            "mounts[3] (/z/../..)",
            with(|v| {
                v["mounts"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"destination": "/z/../..", "type": "tmpfs"}))
            }),
        ),
        (
            "linux.maskedPaths",
            with(|v| v["linux"]["maskedPaths"] = json!(["proc/kcore"])),
        ),
        (
            "linux.seccomp",
            with(|v| v["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_NOTIFY"})),
        ),
        (
            "linux.sysctl",
            with(|v| v["linux"]["sysctl"] = json!({"vm.swappiness": "1"})),
        ),
        (
            "linux.cgroupsPath",
            with(|v| v["linux"]["cgroupsPath"] = json!("machine.slice:libpod:x")),
        ),
        (
            "linux.cgroupsPath",
            with(|v| v["linux"]["cgroupsPath"] = json!("/../..")),
        ),
        (
            "linux.devices[0] (/fuse): must be on a tmpfs",
            with(|v| {
                v["linux"]["devices"] =
                    json!([{"path": "/fuse", "type": "c", "major": 10, "minor": 229}])
            }),
        ),
        (
            "linux.devices[1] (/dev/pts/x): must be on a tmpfs",
            with(|v| {
                v["linux"]["devices"] = json!([
                    {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229},
                    {"path": "/dev/pts/x", "type": "c", "major": 10, "minor": 229}
                ])
            }),
        ),
        (
            "linux.devices[0] (/dev/x): fileMode 0o4666",
            with(
                |v| v["linux"]["devices"] = json!([{"path": "/dev/x", "type": "b", "major": 8, "minor": 0, "fileMode": 0o4666}]),
            ),
        ),
        (
            "linux.rootfsPropagation",
            with(|v| v["linux"]["rootfsPropagation"] = json!("shared")),
        ),
        (
            "linux.resources.devices[0]: type a",
            with(|v| {
                v["linux"]["resources"]["devices"] =
                    json!([{"allow": true, "type": "a", "major": 1, "access": "rwm"}])
            }),
        ),
        (
            "linux.resources.devices[1]: type u",
            with(|v| {
                v["linux"]["resources"]["devices"] = json!([
                    {"allow": false, "access": "rwm"},
                    {"allow": true, "type": "u", "major": 1, "minor": 3, "access": "rwm"}
                ])
            }),
        ),
        (
            "linux.resources.devices[0]: access",
            with(|v| {
                v["linux"]["resources"]["devices"] =
                    json!([{"allow": true, "type": "c", "major": 1, "access": "rx"}])
            }),
        ),
        (
            "linux.resources.devices[0]: major -2",
            with(|v| {
                v["linux"]["resources"]["devices"] =
                    json!([{"allow": true, "type": "c", "major": -2, "access": "r"}])
            }),
        ),
        (
            "linux.resources.cpu.shares",
            with(|v| v["linux"]["resources"]["cpu"] = json!({"shares": 1})),
        ),
        (
            "linux.resources.memory.swap",
            with(|v| {
                v["linux"]["resources"]["memory"] = json!({"limit": 67108864, "swap": 33554432})
            }),
        ),
        (
            "linux.resources.memory.limit",
            with(|v| v["linux"]["resources"]["memory"] = json!({"limit": 4096})),
        ),
        (
            "linux.resources.blockIO.weight",
            with(|v| v["linux"]["resources"]["blockIO"] = json!({"weight": 5})),
        ),
        (
            "linux.resources.hugepageLimits: page size \"3MB\"",
            with(|v| {
                v["linux"]["resources"]["hugepageLimits"] =
                    json!([{"pageSize": "3MB", "limit": 314572800}])
            }),
        ),
        (
            "linux.resources.blockIO.leafWeight",
            with(|v| v["linux"]["resources"]["blockIO"] = json!({"leafWeight": 500})),
        ),
        (
            "linux.resources.memory.swappiness",
            with(|v| v["linux"]["resources"]["memory"] = json!({"swappiness": 101})),
        ),
        (
            "linux.resources.memory.swap",
            with(|v| v["linux"]["resources"]["memory"] = json!({"swap": 67108864})),
        ),
        (
            "linux.resources.cpu.cpus",
            with(|v| v["linux"]["resources"]["cpu"] = json!({"cpus": "0\n1"})),
        ),
        (
            "linux.resources.cpu.realtimeRuntime",
            with(|v| {
                v["linux"]["resources"]["cpu"] =
                    json!({"realtimePeriod": 1000, "realtimeRuntime": 2000})
            }),
        ),
        (
            "linux.resources.network.priorities",
            with(|v| {
                v["linux"]["resources"]["network"] =
                    json!({"priorities": [{"name": "../eth0", "priority": 1}]})
            }),
        ),
        (
            "linux.uidMappings",
            with(|v| {
                v["linux"]["uidMappings"] = json!([{"hostID": 1000, "containerID": 0, "size": 1}])
            }),
        ),
        (
            "windows",
            with(|v| v["windows"] = json!({"layerFolders": []})),
        ),
        ("not a valid OCI config", json!({"process": {"args": "sh"}})),
    ];
    for (field, cfg) in cases {
        let msg = refused(&cfg);
        assert!(msg.contains(field), "{field}: {msg}");
    }
}

#[test]
fn a_missing_bundle_or_config_is_one_line() {
    let t = TempDir::new("oci-empty");
    let e = load_bundle(t.path(), "c").unwrap_err();
    assert_eq!(exit_code_of(&e), 125);
    assert!(
        crate::error::one_line(&e).contains("config.json: no such file"),
        "{e:#}"
    );
    let e = load_bundle(&base_dir_missing(), "c").unwrap_err();
    assert_eq!(exit_code_of(&e), 125);
}

fn base_dir_missing() -> std::path::PathBuf {
    std::env::temp_dir().join("gocker-test-no-such-bundle")
}

#[test]
fn bad_ids_are_refused() {
    for id in ["", "a/b", ".."] {
        let b = Bundle::new(&base());
        assert_eq!(exit_code_of(&load_bundle(b.path(), id).unwrap_err()), 125);
    }
}

#[test]
fn hooks_are_read_beside_the_spec() {
    let cfg = with(|v| {
        v["hooks"] = json!({
            "createRuntime": [{"path": "/bin/hook", "args": ["hook", "a b"], "env": ["K=v"], "timeout": 5}],
            "prestart": [{"path": "/bin/pre"}],
            "poststart": [{"path": "/bin/post"}],
            "poststop": [{"path": "/bin/stop", "args": ["stop"]}]
        })
    });
    let b = Bundle::new(&cfg);
    let h = load_hooks(b.path()).unwrap();
    assert_eq!(
        h.create_runtime,
        [crate::spec::Hook {
            path: "/bin/hook".into(),
            args: vec!["hook".into(), "a b".into()],
            env: vec!["K=v".into()],
            timeout_secs: Some(5)
        }]
    );
    assert_eq!(h.prestart[0].path, Path::new("/bin/pre"));
    assert_eq!(h.prestart[0].timeout_secs, None);
    assert_eq!(h.poststart[0].path, Path::new("/bin/post"));
    assert_eq!(h.poststop[0].args, ["stop"]);
    // The spec itself loads: hooks are the lifecycle's business.
    assert!(load_bundle(b.path(), "c").is_ok());
    // No hooks: empty.
    let plain = Bundle::new(&base());
    assert!(load_hooks(plain.path()).unwrap().is_empty());
}

#[test]
fn run_bundle_refuses_hooks_it_would_not_run() {
    let cfg = with(|v| v["hooks"] = json!({"poststop": [{"path": "/bin/true"}]}));
    let b = Bundle::new(&cfg);
    let args = crate::frontend::cli::RunArgs {
        hostname: "gocker".into(),
        ..Default::default()
    };
    let e = from_command_line(b.path(), &args, true).unwrap_err();
    assert_eq!(exit_code_of(&e), 125);
    assert!(crate::error::one_line(&e).contains("hooks"), "{e:#}");
    let args = crate::frontend::cli::RunArgs {
        hostname: "gocker".into(),
        command: vec!["myid".into()],
        ..Default::default()
    };
    let plain = Bundle::new(&base());
    assert_eq!(
        from_command_line(plain.path(), &args, true).unwrap().id,
        "myid"
    );
    // emit-script takes no ID.
    assert!(from_command_line(plain.path(), &args, false).is_err());
    let none = crate::frontend::cli::RunArgs {
        hostname: "gocker".into(),
        ..Default::default()
    };
    let dir_name = std::fs::canonicalize(plain.path()).unwrap();
    assert_eq!(
        from_command_line(plain.path(), &none, false).unwrap().id,
        dir_name.file_name().unwrap().to_str().unwrap()
    );
}

#[test]
fn masked_paths_readonly_root_sysfs_and_mqueue_map() {
    let cfg = with(|v| {
        v["root"]["readonly"] = json!(true);
        v["linux"]["maskedPaths"] = json!(["/proc/kcore", "/proc/acpi"]);
        let m = v["mounts"].as_array_mut().unwrap();
        m.push(
            json!({"destination": "/sys", "type": "sysfs", "source": "sysfs",
            "options": ["nosuid", "noexec", "nodev", "ro"]}),
        );
        m.push(
            json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
            "options": ["nosuid", "noexec", "nodev"]}),
        );
    });
    let s = load(&cfg).unwrap();
    assert!(s.readonly_root);
    assert!(!load(&base()).unwrap().readonly_root);
    let masks: Vec<_> = s
        .mounts
        .iter()
        .filter(|m| m.kind == MountKind::Mask)
        .map(|m| (m.target.clone(), m.optional))
        .collect();
    assert_eq!(
        masks,
        [("/proc/kcore".into(), true), ("/proc/acpi".into(), true)]
    );
    // Masks come last, after readonlyPaths, as runc applies them.
    assert_eq!(s.mounts.last().unwrap().kind, MountKind::Mask);
    let sys = s
        .mounts
        .iter()
        .find(|m| m.target == Path::new("/sys"))
        .unwrap();
    assert_eq!(sys.flags, flags(&["nosuid", "noexec", "nodev", "ro"]));
    assert_eq!(
        sys.calls()[0].mount_args_under("R"),
        [
            "-t",
            "sysfs",
            "-o",
            "ro,nosuid,nodev,noexec",
            "sysfs",
            "R/sys"
        ]
    );
    let mq = s
        .mounts
        .iter()
        .find(|m| m.target == Path::new("/dev/mqueue"))
        .unwrap();
    assert!(matches!(&mq.kind, MountKind::Fs { fstype, .. } if fstype == "mqueue"));
}

#[test]
fn user_and_oom_score_adj_map() {
    let cfg = with(|v| {
        v["process"]["user"] = json!({"uid": 1000, "gid": 100, "additionalGids": [5, 20]});
        v["process"]["oomScoreAdj"] = json!(-500);
        v["process"].as_object_mut().unwrap().remove("rlimits");
    });
    let s = load(&cfg).unwrap();
    assert_eq!(
        s.process.user,
        crate::spec::User {
            uid: 1000,
            gid: 100,
            additional_gids: vec![5, 20]
        }
    );
    assert!(!s.process.user.is_root());
    assert_eq!(s.process.oom_score_adj, Some(-500));
    let s = load(&base()).unwrap();
    assert!(s.process.user.is_root());
    assert_eq!(s.process.oom_score_adj, None);
    // The script backend cannot switch users: refused with one line, never dropped.
    let e =
        crate::script::render(&load(&cfg).unwrap(), crate::cgroup::Version::V2, &[]).unwrap_err();
    assert_eq!(exit_code_of(&e), 125);
    assert!(e.to_string().contains("another user"), "{e}");
}

#[test]
fn cgroups_path_is_read_as_runc_reads_it_on_cgroupfs() {
    let at = |p: &str| -> std::path::PathBuf {
        load(&with(|v| v["linux"]["cgroupsPath"] = json!(p)))
            .unwrap()
            .cgroup_leaf()
    };
    assert_eq!(
        at("/libpod_parent/libpod-x"),
        Path::new("libpod_parent/libpod-x")
    );
    // `..` never climbs above the hierarchy's root.
    assert_eq!(at("/a/../../b"), Path::new("b"));
    // Relative: below gocker's own cgroup (here the same in every hierarchy).
    // Refused when gocker's cgroups differ between the hierarchies it uses.
    let relative = load(&with(|v| v["linux"]["cgroupsPath"] = json!("c/d")));
    match own_cgroup() {
        Ok(own) => assert_eq!(
            relative.unwrap().cgroup_leaf(),
            own.join("c/d").strip_prefix("/").unwrap()
        ),
        Err(_) => assert_eq!(exit_code_of(&relative.unwrap_err()), 125),
    }
    // None: gocker's own place, named after the id.
    assert_eq!(load(&base()).unwrap().cgroup_leaf(), Path::new("gocker/c1"));
}

#[test]
fn namespaced_sysctls_map_and_others_are_refused() {
    let cfg = with(|v| {
        v["linux"]["sysctl"] =
            json!({"net.ipv4.ip_forward": "1", "kernel.shmmni": "1000", "fs.mqueue.msg_max": "20"})
    });
    assert_eq!(
        load(&cfg).unwrap().sysctl,
        [
            ("fs.mqueue.msg_max".to_string(), "20".to_string()),
            ("kernel.shmmni".into(), "1000".into()),
            ("net.ipv4.ip_forward".into(), "1".into()),
        ]
    );
    assert_eq!(
        crate::spec::sysctl_file("net.ipv4.ip_forward"),
        Path::new("/proc/sys/net/ipv4/ip_forward")
    );
    for (key, why) in [
        ("kernel.hostname", "would change the host"),
        ("net/../../x", "not a sysctl key"),
        ("vm.overcommit_memory", "would change the host"),
    ] {
        let msg = refused(&with(|v| v["linux"]["sysctl"] = json!({key: "1"})));
        assert!(msg.contains(key) && msg.contains(why), "{msg}");
    }
    // A net.* key without a network namespace of its own is the host's.
    let msg = refused(&with(|v| {
        v["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1"});
        v["linux"]["namespaces"].as_array_mut().unwrap().remove(1);
    }));
    assert!(msg.contains("needs a new net namespace"), "{msg}");
}

#[test]
fn a_seccomp_section_becomes_this_architectures_profile() {
    use crate::spec::{SeccompAct, SeccompArg, SeccompCmp};
    let cfg = with(|v| {
        v["linux"]["seccomp"] = json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [
                {"names": ["read", "socketcall"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 4294967295_u64, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}]},
                {"names": ["ptrace"], "action": "SCMP_ACT_KILL_PROCESS"}
            ]
        })
    });
    let s = load(&cfg).unwrap();
    let p = s.seccomp_profile.as_ref().expect("a profile");
    assert_eq!(p.default, SeccompAct::Errno(libc::EPERM as u32));
    let nrs: Vec<(i64, SeccompAct)> = p.rules.iter().map(|r| (r.nr, r.action)).collect();
    // socketcall is an i386 call: skipped on x86_64, as libseccomp does.
    assert_eq!(
        nrs,
        [
            (libc::SYS_read, SeccompAct::Allow),
            (libc::SYS_clone3, SeccompAct::Errno(38)),
            (libc::SYS_personality, SeccompAct::Allow),
            (libc::SYS_ptrace, SeccompAct::KillProcess),
        ]
    );
    assert_eq!(
        p.rules[2].args,
        [SeccompArg {
            index: 0,
            op: SeccompCmp::MaskedEq,
            value: 0xffff_ffff,
            value_two: 8
        }]
    );
    // The default filter is off: the profile takes its place.
    assert!(!s.confinement.seccomp);
    // The allow-or-default filter, then one per other action (ERRNO 38, KILL_PROCESS).
    assert_eq!(crate::seccomp::profile::build(p).unwrap().len(), 3);
    for (field, seccomp) in [
        (
            "linux.seccomp.architectures",
            json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_AARCH64"]}),
        ),
        (
            "linux.seccomp.listenerPath",
            json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/x.sock"}),
        ),
        (
            "linux.seccomp.syscalls[0]",
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_TRACE"}]}),
        ),
        (
            "linux.seccomp.syscalls[0]",
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}),
        ),
    ] {
        let msg = refused(&with(|v| v["linux"]["seccomp"] = seccomp));
        assert!(msg.contains(field), "{field}: {msg}");
    }
}

#[test]
fn rootfs_propagation_private_or_slave() {
    for (p, slave) in [
        ("private", false),
        ("rprivate", false),
        ("slave", true),
        ("rslave", true),
    ] {
        let s = load(&with(|v| v["linux"]["rootfsPropagation"] = json!(p))).unwrap();
        assert_eq!(s.rootfs_slave, slave, "{p}");
    }
    assert!(!load(&base()).unwrap().rootfs_slave);
}

#[test]
fn a_cgroup_mount_is_the_hosts_tree_read_only() {
    let cfg = with(|v| {
        v["mounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({"destination": "/sys/fs/cgroup",
            "type": "cgroup", "source": "cgroup",
            "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}))
    });
    let s = load(&cfg).unwrap();
    let m = s
        .mounts
        .iter()
        .find(|m| m.target == Path::new("/sys/fs/cgroup"))
        .unwrap();
    assert_eq!(
        m.kind,
        MountKind::Bind {
            source: "/sys/fs/cgroup".into(),
            dir: true
        }
    );
    assert_eq!(m.flags, KERNEL_READONLY);
    let msg = refused(&with(|v| {
        v["mounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({"destination": "/sys/fs/cgroup",
            "type": "cgroup", "source": "cgroup", "options": ["nosuid"]}))
    }));
    assert!(msg.contains("read-only"), "{msg}");
}
