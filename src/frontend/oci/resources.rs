//! `linux.resources`: cpu, memory, pids, cpuset, hugetlb, blockIO, network and the device
//! rules as the model's `Limits`; what a cgroup version lacks is refused where it is written.

use super::*;

pub(super) fn limits(linux: &oci::Linux) -> Result<Limits> {
    let mut l = Limits::default();
    let Some(r) = linux.resources() else {
        return Ok(l);
    };
    if let Some(cpu) = r.cpu() {
        match cpu.shares() {
            None | Some(0) => {}
            Some(n) if (2..=262_144).contains(&n) => l.cpu_shares = Some(n),
            Some(n) => refuse(
                "linux.resources.cpu.shares",
                format!("{n}: must be from 2 to 262144"),
            )?,
        }
        // Real-time time per period (v1's cpu.rt_*): both, or the runtime alone against
        // the kernel's period; -1 is no limit.
        match cpu.realtime_period() {
            None | Some(0) => {}
            Some(p) if p <= 1_000_000 => l.rt_period_us = Some(p),
            Some(p) => refuse(
                "linux.resources.cpu.realtimePeriod",
                format!("{p}: at most 1000000 (µs)"),
            )?,
        }
        match cpu.realtime_runtime() {
            None | Some(0) => {}
            Some(r) if r == -1 || (r > 0 && r as u64 <= l.rt_period_us.unwrap_or(1_000_000)) => {
                l.rt_runtime_us = Some(r)
            }
            Some(r) => refuse(
                "linux.resources.cpu.realtimeRuntime",
                format!("{r}: -1 (no limit) or from 1 to the period"),
            )?,
        }
        l.cpuset_cpus = cpu_list(cpu.cpus().as_deref(), "linux.resources.cpu.cpus")?;
        l.cpuset_mems = cpu_list(cpu.mems().as_deref(), "linux.resources.cpu.mems")?;
        unsupported("linux.resources.cpu.idle", cpu.idle().is_some())?;
        unsupported("linux.resources.cpu.burst", cpu.burst().is_some())?;
        let period = cpu.period().unwrap_or(crate::spec::CPU_PERIOD_US);
        match cpu.quota() {
            None | Some(-1) => {
                if cpu.period().is_some() {
                    refuse::<()>("linux.resources.cpu.period", "needs a quota")?;
                }
            }
            Some(q) if q >= crate::spec::CPU_MIN_QUOTA_US as i64 => {
                if !(1_000..=1_000_000).contains(&period) {
                    refuse::<()>(
                        "linux.resources.cpu.period",
                        format!("{period}: must be from 1000 to 1000000 (µs)"),
                    )?;
                }
                l.cpu = Some(CpuLimit {
                    quota_us: q as u64,
                    period_us: period,
                });
            }
            Some(q) => refuse(
                "linux.resources.cpu.quota",
                format!("{q}: below the kernel's minimum of 1000 µs"),
            )?,
        }
    }
    if let Some(m) = r.memory() {
        match m.limit() {
            None | Some(-1) => {}
            Some(b) if b >= crate::spec::MEMORY_MIN_BYTES as i64 => l.memory_bytes = Some(b as u64),
            Some(b) => refuse(
                "linux.resources.memory.limit",
                format!("{b}: below the minimum of 6 MiB a container needs to start"),
            )?,
        }
        // Memory and swap together: at least the limit; -1 (unlimited) is taken as none,
        // gocker's default (memory+swap = memory).
        match m.swap() {
            None | Some(-1) => {}
            Some(s) if l.memory_bytes.is_some_and(|b| s as u64 >= b) && s > 0 => {
                l.memory_swap_bytes = Some(s as u64)
            }
            Some(s) => refuse(
                "linux.resources.memory.swap",
                format!("{s}: memory and swap together, so a memory limit and at least it"),
            )?,
        }
        let bytes = |v: Option<i64>, field: &str| -> Result<Option<u64>> {
            match v {
                None | Some(-1) => Ok(None),
                Some(b) if b >= 0 => Ok(Some(b as u64)),
                Some(b) => refuse(
                    &format!("linux.resources.memory.{field}"),
                    format!("{b}: bytes, or -1 for no limit"),
                ),
            }
        };
        l.memory_reservation_bytes = bytes(m.reservation(), "reservation")?;
        l.kernel_memory_bytes = bytes(m.kernel(), "kernel")?;
        l.kernel_tcp_bytes = bytes(m.kernel_tcp(), "kernelTCP")?;
        match m.swappiness() {
            None => {}
            Some(n) if n <= 100 => l.memory_swappiness = Some(n),
            Some(n) => refuse(
                "linux.resources.memory.swappiness",
                format!("{n}: from 0 to 100"),
            )?,
        }
        l.oom_kill_disable = m.disable_oom_killer() == Some(true);
    }
    if let Some(p) = r.pids() {
        match p.limit() {
            n if n <= 0 => {}
            n if n as u64 <= PIDS_MAX => l.pids = Some(n as u64),
            n => refuse(
                "linux.resources.pids.limit",
                format!("{n}: above {PIDS_MAX}"),
            )?,
        }
    }
    // Docker's, podman's and runc's default starts with one rule that denies every
    // device, containerd's adds its allow list; gocker appends its own default list
    // after them (`Confinement::devices`), as runc does.
    for (i, d) in r.devices().clone().unwrap_or_default().iter().enumerate() {
        l.devices.push(device_rule(d, i)?);
    }
    if let Some(b) = r.block_io() {
        block_io(b, &mut l)?;
    }
    if let Some(n) = r.network() {
        l.net_classid = n.class_id();
        for p in n.priorities().clone().unwrap_or_default() {
            let name = p.name();
            if name.is_empty() || name.len() > 15 || name.contains(['/', ' ', '\n', '\0']) {
                refuse::<()>(
                    "linux.resources.network.priorities",
                    format!("{name:?}: not an interface name"),
                )?;
            }
            l.net_priorities.push((name.clone(), p.priority()));
        }
    }
    for h in r.hugepage_limits().clone().unwrap_or_default() {
        let size = h.page_size();
        if !crate::cgroup::HUGEPAGE_SIZES
            .iter()
            .any(|(s, _, _)| s == size)
        {
            refuse::<()>(
                "linux.resources.hugepageLimits",
                format!(
                    "page size {size:?}: not one the kernel names (64KB, 2MB, 16MB, 32MB, 1GB, 16GB)"
                ),
            )?;
        }
        let Ok(limit) = u64::try_from(h.limit()) else {
            refuse(
                "linux.resources.hugepageLimits",
                format!("{}: bytes", h.limit()),
            )?
        };
        l.hugepages.push((size.clone(), limit));
    }
    for (field, set) in [
        ("rdma", r.rdma().as_ref().is_some_and(|v| !v.is_empty())),
        (
            "unified",
            r.unified().as_ref().is_some_and(|v| !v.is_empty()),
        ),
    ] {
        unsupported(&format!("linux.resources.{field}"), set)?;
    }
    Ok(l)
}

/// A cpuset list as the kernel takes it (`0-3,5`): digits, `-` and `,` only, so nothing
/// but the list reaches the file; empty is unset.
pub(super) fn cpu_list(v: Option<&str>, field: &str) -> Result<Option<String>> {
    match v {
        None | Some("") => Ok(None),
        Some(s)
            if s.bytes()
                .all(|b| b.is_ascii_digit() || b == b'-' || b == b',') =>
        {
            Ok(Some(s.to_owned()))
        }
        Some(s) => refuse(field, format!("{s:?}: a list such as 0-3,5")),
    }
}

/// blockIO: the weight (10..=1000), per-device weights and the four throttles. v1's
/// leaf weights went with the CFQ scheduler (Linux 5.0): refused.
pub(super) fn block_io(b: &oci::LinuxBlockIo, l: &mut Limits) -> Result<()> {
    use crate::spec::{BlkioDevice, BlkioThrottle, Throttle};
    let weight = |w: u16, field: &str| -> Result<u16> {
        if (10..=1000).contains(&w) {
            Ok(w)
        } else {
            refuse(
                &format!("linux.resources.blockIO.{field}"),
                format!("{w}: from 10 to 1000"),
            )
        }
    };
    let number = |n: i64, field: &str| -> Result<u32> {
        u32::try_from(n).or_else(|_| {
            refuse(
                &format!("linux.resources.blockIO.{field}"),
                format!("device number {n}"),
            )
        })
    };
    unsupported(
        "linux.resources.blockIO.leafWeight",
        b.leaf_weight().is_some(),
    )?;
    l.blkio_weight = b.weight().map(|w| weight(w, "weight")).transpose()?;
    for d in b.weight_device().clone().unwrap_or_default() {
        unsupported(
            "linux.resources.blockIO.weightDevice.leafWeight",
            d.leaf_weight().is_some(),
        )?;
        let Some(w) = d.weight() else { continue };
        l.blkio_weight_devices.push(BlkioDevice {
            major: number(d.major(), "weightDevice")?,
            minor: number(d.minor(), "weightDevice")?,
            weight: weight(w, "weightDevice")?,
        });
    }
    for (kind, field, list) in [
        (
            Throttle::ReadBps,
            "throttleReadBpsDevice",
            b.throttle_read_bps_device(),
        ),
        (
            Throttle::WriteBps,
            "throttleWriteBpsDevice",
            b.throttle_write_bps_device(),
        ),
        (
            Throttle::ReadIops,
            "throttleReadIOPSDevice",
            b.throttle_read_iops_device(),
        ),
        (
            Throttle::WriteIops,
            "throttleWriteIOPSDevice",
            b.throttle_write_iops_device(),
        ),
    ] {
        for d in list.clone().unwrap_or_default() {
            l.blkio_throttles.push(BlkioThrottle {
                kind,
                major: number(d.major(), field)?,
                minor: number(d.minor(), field)?,
                rate: d.rate(),
            });
        }
    }
    Ok(())
}

/// One `linux.resources.devices` entry as a rule: type a, c or b (absent: a), numbers
/// absent for any, access letters r, w, m (absent or empty: all three).
pub(super) fn device_rule(d: &oci::LinuxDeviceCgroup, i: usize) -> Result<crate::devices::Rule> {
    use crate::devices::{ACC_ALL, Kind, access_bits};
    let field = format!("linux.resources.devices[{i}]");
    let kind = match d.typ() {
        None | Some(oci::LinuxDeviceType::A) => None,
        Some(oci::LinuxDeviceType::C) => Some(Kind::Char),
        Some(oci::LinuxDeviceType::B) => Some(Kind::Block),
        Some(t) => refuse(
            &field,
            format!("type {}: a cgroup rule is of type a, c or b", t.as_str()),
        )?,
    };
    let number = |n: Option<i64>, what: &str| -> Result<Option<u32>> {
        match n {
            None => Ok(None),
            Some(v) => match u32::try_from(v) {
                Ok(v) => Ok(Some(v)),
                Err(_) => refuse(
                    &field,
                    format!("{what} {v}: leave it out for any, or give 0 to 4294967295"),
                ),
            },
        }
    };
    let major = number(d.major(), "major")?;
    let minor = number(d.minor(), "minor")?;
    let access = match d.access().as_deref() {
        None | Some("") => ACC_ALL,
        Some(a) => match access_bits(a) {
            Some(bits) => bits,
            None => refuse(
                &field,
                format!("access {a:?}: letters r (read), w (write) and m (mknod) only"),
            )?,
        },
    };
    if kind.is_none() && (major.is_some() || minor.is_some() || access != ACC_ALL) {
        // v1 would take any `a` line as every device, whatever follows it.
        refuse::<()>(
            &field,
            "type a is every device: it takes no major, minor or partial access (give type c or b)",
        )?;
    }
    Ok(crate::devices::Rule {
        allow: d.allow(),
        kind,
        major,
        minor,
        access,
    })
}
