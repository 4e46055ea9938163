//! `gocker rootfs busybox DIR`: the lesson's `/tmp/busybox`, made from the host's static
//! busybox, so a learner needs no image and no Docker to get a root filesystem.

use crate::error::{Failure, fail};
use anyhow::{Context, Result};
use std::path::Path;

/// Directories every root filesystem has; mount points among them must pre-exist when
/// the rootfs is read-only.
const DIRS: [&str; 13] = [
    "bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "dev", "sys", "tmp", "root", "home",
    "var", "run",
];

pub fn busybox(dir: &Path, path: Option<&std::ffi::OsString>) -> Result<()> {
    let Some(bb) = crate::host::tool(path, "busybox") else {
        return fail(
            Failure::Host,
            "busybox not found on PATH: install a static one (Debian/Ubuntu: apt-get install busybox-static)",
        );
    };
    let bytes = std::fs::read(&bb).with_context(|| format!("read {}", bb.display()))?;
    if !is_static_elf(&bytes) {
        return fail(
            Failure::Host,
            format!(
                "{} is dynamically linked, so it would not run inside the rootfs: install a static busybox (apt-get install busybox-static)",
                bb.display()
            ),
        );
    }
    for d in DIRS {
        std::fs::create_dir_all(dir.join(d))
            .with_context(|| format!("create {}", dir.join(d).display()))?;
    }
    let _ = std::fs::set_permissions(
        dir.join("tmp"),
        std::os::unix::fs::PermissionsExt::from_mode(0o1777),
    );
    let target = dir.join("bin/busybox");
    let tmp = dir.join("bin/.busybox.new");
    std::fs::write(&tmp, &bytes).with_context(|| format!("write {}", tmp.display()))?;
    std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .with_context(|| format!("chmod {}", tmp.display()))?;
    std::fs::rename(&tmp, &target).with_context(|| format!("install {}", target.display()))?;
    let list = std::process::Command::new(&bb)
        .arg("--list-full")
        .output()
        .with_context(|| format!("run {} --list-full", bb.display()))?;
    let list = String::from_utf8_lossy(&list.stdout);
    let mut n = 0;
    for applet in list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains(".."))
    {
        let link = dir.join(applet);
        if std::fs::symlink_metadata(&link).is_ok() {
            continue;
        }
        if let Some(parent) = link.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("create {}", parent.display()))?;
        }
        std::os::unix::fs::symlink("/bin/busybox", &link)
            .with_context(|| format!("link {}", link.display()))?;
        n += 1;
    }
    make_dev(dir)?;
    for (file, content) in [
        (
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
        ),
        ("etc/group", "root:x:0:\nnogroup:x:65534:\n"),
    ] {
        let p = dir.join(file);
        if !p.exists() {
            std::fs::write(&p, content).with_context(|| format!("write {}", p.display()))?;
        }
    }
    eprintln!(
        "gocker: {} ready: busybox from {} with {n} applets",
        dir.display(),
        bb.display()
    );
    Ok(())
}

/// The rootfs's own /dev: the device nodes and links gocker run would otherwise make in a
/// tmpfs at every start (mounts::ROOT_HAS_DEV). Making device nodes needs CAP_MKNOD;
/// without it the rootfs simply has none, and run makes its /dev as for any bare root.
fn make_dev(dir: &Path) -> Result<()> {
    let dev = dir.join("dev");
    std::fs::create_dir_all(dev.join("pts"))
        .with_context(|| format!("create {}", dev.join("pts").display()))?;
    for (name, major, minor) in crate::mounts::DEVICES {
        let node = dev.join(name);
        if std::fs::symlink_metadata(&node).is_ok() {
            continue;
        }
        match crate::sys::mknod_char(&node, 0o666, major, minor) {
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => return Ok(()),
            r => r
                .and_then(|()| {
                    std::fs::set_permissions(
                        &node,
                        std::os::unix::fs::PermissionsExt::from_mode(0o666),
                    )
                })
                .with_context(|| format!("mknod {} c {major} {minor}", node.display()))?,
        }
    }
    let links = crate::mounts::DEV_LINKS
        .iter()
        .copied()
        .chain([("ptmx", "pts/ptmx")]);
    for (name, to) in links {
        let link = dev.join(name);
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(to, &link)
                .with_context(|| format!("link {}", link.display()))?;
        }
    }
    Ok(())
}

/// An ELF executable without a PT_INTERP program header needs no dynamic loader.
fn is_static_elf(b: &[u8]) -> bool {
    let u16_at = |o: usize| {
        b.get(o..o + 2)
            .map(|s| u16::from_le_bytes([s[0], s[1]]) as usize)
    };
    let u32_at = |o: usize| {
        b.get(o..o + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    };
    let u64_at = |o: usize| {
        b.get(o..o + 8)
            .map(|s| u64::from_le_bytes(s.try_into().unwrap_or([0; 8])) as usize)
    };
    // 64-bit little-endian ELF only: the hosts gocker targets.
    if b.get(0..6) != Some(b"\x7fELF\x02\x01") {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    else {
        return false;
    };
    const PT_INTERP: u32 = 3;
    (0..phnum).all(|i| u32_at(phoff + i * phentsize).is_some_and(|t| t != PT_INTERP))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal 64-bit little-endian ELF header with program headers of these types.
    fn elf(types: &[u32]) -> Vec<u8> {
        let mut b = vec![0u8; 64];
        b[..6].copy_from_slice(b"\x7fELF\x02\x01");
        b[0x20..0x28].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
        b[0x36..0x38].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        b[0x38..0x3a].copy_from_slice(&(types.len() as u16).to_le_bytes()); // e_phnum
        for t in types {
            let mut ph = vec![0u8; 56];
            ph[..4].copy_from_slice(&t.to_le_bytes());
            b.extend(ph);
        }
        b
    }

    #[test]
    fn static_detection() {
        const PT_LOAD: u32 = 1;
        const PT_INTERP: u32 = 3;
        assert!(is_static_elf(&elf(&[PT_LOAD, PT_LOAD])));
        assert!(!is_static_elf(&elf(&[PT_LOAD, PT_INTERP, PT_LOAD])));
        // Truncated program headers are not trusted to be static.
        let mut cut = elf(&[PT_LOAD, PT_INTERP]);
        cut.truncate(64 + 56 + 2);
        assert!(!is_static_elf(&cut));
        assert!(!is_static_elf(b"#!/bin/sh\n"));
        assert!(!is_static_elf(b""));
    }
}
