//! Which file of the container's cgroup gets which value, on v1 and on v2: the one table
//! (`limit_files`, from `settings`) the runtime writes and the script renderer echoes, and
//! what a cgroup version has no file for, refused where it would be written.

use super::*;

/// One limit: write `value` to `file` in the container's cgroup of `controller`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitFile {
    pub controller: Controller,
    pub file: &'static str,
    pub value: String,
    /// Written only where the kernel has the file: the swap files exist only when the
    /// kernel accounts swap (CONFIG_MEMCG_SWAP, not booted with swapaccount=0).
    pub if_present: bool,
}

/// The files and values that impose `limits`, in the order they must be written.
pub fn limit_files(limits: &Limits, version: Version) -> Vec<LimitFile> {
    let mut out = Vec::new();
    let mut push = |controller, file, value: String, if_present| {
        out.push(LimitFile {
            controller,
            file,
            value,
            if_present,
        })
    };
    if let Some(cpu) = limits.cpu {
        match version {
            // v2 takes quota and period together, so there is no order to get wrong.
            Version::V2 => push(
                Controller::Cpu,
                "cpu.max",
                format!("{} {}", cpu.quota_us, cpu.period_us),
                false,
            ),
            // v1 checks each write against the pair in force; the period is already the
            // kernel default, so quota first always leaves a valid pair.
            Version::V1 => {
                push(
                    Controller::Cpu,
                    "cpu.cfs_quota_us",
                    cpu.quota_us.to_string(),
                    false,
                );
                push(
                    Controller::Cpu,
                    "cpu.cfs_period_us",
                    cpu.period_us.to_string(),
                    false,
                );
            }
        }
    }
    if let Some(shares) = limits.cpu_shares {
        match version {
            Version::V1 => push(Controller::Cpu, "cpu.shares", shares.to_string(), false),
            Version::V2 => push(
                Controller::Cpu,
                "cpu.weight",
                shares_to_weight(shares).to_string(),
                false,
            ),
        }
    }
    if let Some(bytes) = limits.memory_bytes {
        // No swap beyond the limit, as `docker run -m X --memory-swap X`: without this a
        // host with swap lets the container page out instead of being OOM-killed.
        match version {
            // v1 counts memory and swap together, and refuses memsw below the memory
            // limit: the memory limit first, then the same sum.
            // A bundle's swap (memory and swap together) is written where the kernel has
            // the file, or it fails; the default (no swap) is skipped where it has none.
            Version::V1 => {
                let swap = limits.memory_swap_bytes.unwrap_or(bytes);
                push(
                    Controller::Memory,
                    "memory.limit_in_bytes",
                    bytes.to_string(),
                    false,
                );
                push(
                    Controller::Memory,
                    "memory.memsw.limit_in_bytes",
                    swap.to_string(),
                    swap == bytes,
                );
            }
            Version::V2 => {
                let swap = limits.memory_swap_bytes.unwrap_or(bytes);
                push(Controller::Memory, "memory.max", bytes.to_string(), false);
                push(
                    Controller::Memory,
                    "memory.swap.max",
                    swap.saturating_sub(bytes).to_string(),
                    swap == bytes,
                );
            }
        }
    }
    if let Some(n) = limits.pids {
        push(Controller::Pids, "pids.max", n.to_string(), false);
    }
    for s in settings(limits) {
        let files = match version {
            Version::V1 => s.v1,
            Version::V2 => s.v2,
        };
        for (file, value) in files.unwrap_or_default() {
            push(s.controller, file, value, s.if_present);
        }
    }
    out
}

/// One setting of a bundle's `linux.resources` beyond the command line's: the files and
/// values each version writes for it, side by side, in order; `None` where that version
/// has no such setting (then refused, naming `field`: see `refused_on`).
pub(super) struct Setting {
    field: &'static str,
    controller: Controller,
    v1: Option<Vec<(&'static str, String)>>,
    v2: Option<Vec<(&'static str, String)>>,
    if_present: bool,
}

/// The bundle-only settings `limits` has, in the order they are written: cpuset first
/// (a v1 cpuset with no CPUs takes no process), real-time period before runtime (the
/// kernel checks the runtime against the period).
pub(super) fn settings(limits: &Limits) -> Vec<Setting> {
    let mut v = Vec::new();
    // One value in one file: the same name on both versions, another on v2, or none.
    let mut one = |field, controller, v1: &'static str, v2: Option<&'static str>, value| {
        if let Some(value) = value {
            let value: String = value;
            v.push(Setting {
                field,
                controller,
                v1: Some(vec![(v1, value.clone())]),
                v2: v2.map(|f| vec![(f, value)]),
                // Kernel memory: a kernel without the file has no such limit, and 6.x
                // takes the write and ignores it (runc no longer writes it).
                if_present: v1 == "memory.kmem.limit_in_bytes",
            });
        }
    };
    let n = |x: Option<u64>| x.map(|x| x.to_string());
    let (cpu, cpuset, mem, netcls) = (
        Controller::Cpu,
        Controller::Cpuset,
        Controller::Memory,
        Controller::NetCls,
    );
    one(
        "cpu.cpus",
        cpuset,
        "cpuset.cpus",
        Some("cpuset.cpus"),
        limits.cpuset_cpus.clone(),
    );
    one(
        "cpu.mems",
        cpuset,
        "cpuset.mems",
        Some("cpuset.mems"),
        limits.cpuset_mems.clone(),
    );
    one(
        "cpu.realtimePeriod",
        cpu,
        "cpu.rt_period_us",
        None,
        n(limits.rt_period_us),
    );
    one(
        "cpu.realtimeRuntime",
        cpu,
        "cpu.rt_runtime_us",
        None,
        limits.rt_runtime_us.map(|x| x.to_string()),
    );
    one(
        "memory.reservation",
        mem,
        "memory.soft_limit_in_bytes",
        Some("memory.low"),
        n(limits.memory_reservation_bytes),
    );
    one(
        "memory.swappiness",
        mem,
        "memory.swappiness",
        None,
        n(limits.memory_swappiness),
    );
    one(
        "memory.kernel",
        mem,
        "memory.kmem.limit_in_bytes",
        None,
        n(limits.kernel_memory_bytes),
    );
    one(
        "memory.kernelTCP",
        mem,
        "memory.kmem.tcp.limit_in_bytes",
        None,
        n(limits.kernel_tcp_bytes),
    );
    one(
        "memory.disableOOMKiller",
        mem,
        "memory.oom_control",
        None,
        limits.oom_kill_disable.then(|| "1".to_string()),
    );
    one(
        "network.classID",
        netcls,
        "net_cls.classid",
        None,
        limits.net_classid.map(|x| x.to_string()),
    );
    for (size, bytes) in &limits.hugepages {
        // The front end takes only sizes of the table.
        if let Some((_, v1, v2)) = HUGEPAGE_SIZES.iter().find(|(s, _, _)| s == size) {
            v.push(Setting {
                field: "hugepageLimits",
                controller: Controller::Hugetlb,
                v1: Some(vec![(v1, bytes.to_string())]),
                v2: Some(vec![(v2, bytes.to_string())]),
                if_present: false,
            });
        }
    }
    if !limits.net_priorities.is_empty() {
        v.push(Setting {
            field: "network.priorities",
            controller: Controller::NetPrio,
            v1: Some(
                limits
                    .net_priorities
                    .iter()
                    .map(|(name, prio)| ("net_prio.ifpriomap", format!("{name} {prio}")))
                    .collect(),
            ),
            v2: None,
            if_present: false,
        });
    }
    if let Some(w) = limits.blkio_weight {
        v.push(Setting {
            field: "blockIO.weight",
            controller: Controller::Io,
            v1: Some(vec![("blkio.weight", w.to_string())]),
            v2: Some(vec![("io.weight", blkio_weight_to_io(w).to_string())]),
            if_present: false,
        });
    }
    if !limits.blkio_weight_devices.is_empty() {
        let d = &limits.blkio_weight_devices;
        v.push(Setting {
            field: "blockIO.weightDevice",
            controller: Controller::Io,
            v1: Some(
                d.iter()
                    .map(|d| {
                        (
                            "blkio.weight_device",
                            format!("{}:{} {}", d.major, d.minor, d.weight),
                        )
                    })
                    .collect(),
            ),
            v2: Some(
                d.iter()
                    .map(|d| {
                        (
                            "io.weight",
                            format!("{}:{} {}", d.major, d.minor, blkio_weight_to_io(d.weight)),
                        )
                    })
                    .collect(),
            ),
            if_present: false,
        });
    }
    for t in &limits.blkio_throttles {
        let (field, v1_file, v2_key) = match t.kind {
            Throttle::ReadBps => (
                "blockIO.throttleReadBpsDevice",
                "blkio.throttle.read_bps_device",
                "rbps",
            ),
            Throttle::WriteBps => (
                "blockIO.throttleWriteBpsDevice",
                "blkio.throttle.write_bps_device",
                "wbps",
            ),
            Throttle::ReadIops => (
                "blockIO.throttleReadIOPSDevice",
                "blkio.throttle.read_iops_device",
                "riops",
            ),
            Throttle::WriteIops => (
                "blockIO.throttleWriteIOPSDevice",
                "blkio.throttle.write_iops_device",
                "wiops",
            ),
        };
        let dev = format!("{}:{}", t.major, t.minor);
        v.push(Setting {
            field,
            controller: Controller::Io,
            v1: Some(vec![(v1_file, format!("{dev} {}", t.rate))]),
            v2: Some(vec![("io.max", format!("{dev} {v2_key}={}", t.rate))]),
            if_present: false,
        });
    }
    v
}

/// The huge page sizes the kernel names its hugetlb files with (x86's 2MB and 1GB,
/// arm64's 64KB and 32MB, powerpc's 16MB and 16GB), each with its v1 and v2 file.
pub const HUGEPAGE_SIZES: [(&str, &str, &str); 6] = [
    ("64KB", "hugetlb.64KB.limit_in_bytes", "hugetlb.64KB.max"),
    ("2MB", "hugetlb.2MB.limit_in_bytes", "hugetlb.2MB.max"),
    ("16MB", "hugetlb.16MB.limit_in_bytes", "hugetlb.16MB.max"),
    ("32MB", "hugetlb.32MB.limit_in_bytes", "hugetlb.32MB.max"),
    ("1GB", "hugetlb.1GB.limit_in_bytes", "hugetlb.1GB.max"),
    ("16GB", "hugetlb.16GB.limit_in_bytes", "hugetlb.16GB.max"),
];

/// v1's blkio weight (10..=1000) as v2's io.weight (1..=10000), runc's linear map.
pub fn blkio_weight_to_io(w: u16) -> u64 {
    1 + (u64::from(w.clamp(10, 1000)) - 10) * 9999 / 990
}

/// The first of `limits`' settings that cgroup `version` has no file for, as a one-line
/// reason naming the config.json field: nothing is created for a limit that would not
/// be there.
pub fn refused_on(limits: &Limits, version: Version) -> Option<String> {
    settings(limits).into_iter().find_map(|s| {
        let missing = match version {
            Version::V1 => s.v1.is_none(),
            Version::V2 => s.v2.is_none(),
        };
        missing.then(|| {
            format!(
                "config.json: linux.resources.{}: cgroup {} has no such setting{}",
                s.field,
                version.name(),
                if version == Version::V2 {
                    " (a cgroup v1 one)"
                } else {
                    ""
                }
            )
        })
    })
}

/// The first of `limits`' settings the script backend does not write, as its config.json
/// field: it writes the command line's limits and cpu.shares, each line with its comment
/// (in both languages), and none of a bundle's other settings yet.
pub fn script_refusal(limits: &Limits) -> Option<&'static str> {
    if limits
        .memory_swap_bytes
        .is_some_and(|s| Some(s) != limits.memory_bytes)
    {
        return Some("memory.swap");
    }
    settings(limits).first().map(|s| s.field)
}

/// v1's cpu.shares (2..=262144, default 1024) as v2's cpu.weight (1..=10000, default
/// 100), the linear map runc and crun use.
pub fn shares_to_weight(shares: u64) -> u64 {
    1 + (shares.clamp(2, 262_144) - 2) * 9999 / 262_142
}
