//! The JSON documents the runtime prints or writes whole: `spec`'s default config.json
//! (runc's shape, for a root filesystem in ./rootfs) and `features` (what gocker
//! supports, in the shape of the runtime spec's features.md, as runc prints it).

use crate::security::CAP_NAMES;
use crate::spec::DEFAULT_PATH;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// runc's `spec`, with gocker's hostname: a shell on a terminal, three capabilities, a
/// read-only root, the standard mounts (without runc's cgroup mount, which gocker's loader
/// does not take yet), the five namespaces and runc's masked and read-only paths.
pub fn default_spec() -> Value {
    let caps = json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": true,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": [format!("PATH={DEFAULT_PATH}"), "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": caps,
                "effective": caps,
                "permitted": caps,
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "gocker",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]}
        ],
        "linux": {
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [
                {"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                {"type": "uts"}, {"type": "mount"}
            ],
            "maskedPaths": [
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
            ],
            "readonlyPaths": [
                "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
            ]
        }
    })
}

/// What `features` reports: only what the bundle loader and both runtimes honour.
pub fn features() -> Value {
    let caps: Vec<String> = CAP_NAMES
        .iter()
        .map(|n| format!("CAP_{}", n.to_ascii_uppercase()))
        .collect();
    json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": crate::runtime::control::OCI_VERSION,
        "hooks": ["prestart", "createRuntime", "poststart", "poststop"],
        "mountOptions": [
            "bind", "rbind", "ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec",
            "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable",
            "runbindable", "strictatime", "relatime", "norelatime", "noatime", "atime",
            "nodiratime", "diratime"
        ],
        "linux": {
            "namespaces": ["mount", "uts", "ipc", "pid", "network", "cgroup"],
            "capabilities": caps,
            "cgroup": {"v1": true, "v2": true, "systemd": false, "systemdUser": false},
            "seccomp": {"enabled": true},
            "apparmor": {"enabled": false},
            "selinux": {"enabled": false}
        },
        "annotations": {}
    })
}

/// The bundle's `annotations`, for the state JSON (the loader keeps only the container's
/// shape). Anything unreadable reads as none: `load_bundle` has refused a bad file already.
pub fn annotations(bundle: &Path) -> BTreeMap<String, String> {
    std::fs::read(bundle.join("config.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| serde_json::from_value(v.get("annotations")?.clone()).ok())
        .unwrap_or_default()
}
