//! The tar sink of the walk (`gocker export`): GNU tar entries, as `docker export` writes
//! them (no entry for the root itself, directories as `etc/`), names and link targets
//! byte for byte, longer ones in GNU long-name entries.
//!
//! The `tar` crate gives the header layout, its numeric encodings (octal, base-256 for
//! uids and sizes too large for octal) and the checksum; every field's value is read here
//! from the walk's descriptors, and none of the crate's path-following appenders is used.

use super::walk::Sink;
use crate::sys::Stat;
use anyhow::{Context, Result};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use tar::{Builder, EntryType, Header};

pub struct TarSink<W: Write> {
    tar: Builder<W>,
}

impl<W: Write> TarSink<W> {
    pub fn new(out: W) -> TarSink<W> {
        TarSink {
            tar: Builder::new(out),
        }
    }

    /// The archive's end (two zero blocks), and the writer back.
    pub fn finish(self) -> Result<W> {
        self.tar.into_inner().context("write the end of the tar")
    }

    fn append(
        &mut self,
        st: &Stat,
        ty: EntryType,
        name: &[u8],
        link: Option<&[u8]>,
        size: u64,
        data: impl Read,
    ) -> Result<()> {
        let mut h = Header::new_gnu();
        h.set_entry_type(ty);
        h.set_mode(st.mode & 0o7777);
        h.set_uid(st.uid.into());
        h.set_gid(st.gid.into());
        // Before 1970 is not in an unsigned field: the epoch stands for it.
        h.set_mtime(st.mtime.0.max(0) as u64);
        h.set_size(size);
        if matches!(ty, EntryType::Char | EntryType::Block) {
            h.set_device_major(st.rdev_major)
                .and_then(|()| h.set_device_minor(st.rdev_minor))
                .context("tar header")?;
        }
        let show = || String::from_utf8_lossy(name).into_owned();
        if let Some(link) = link {
            self.long(EntryType::GNULongLink, link)
                .with_context(|| format!("write tar entry {}", show()))?;
            h.as_gnu_mut().expect("a GNU header").linkname = field(link);
        }
        self.long(EntryType::GNULongName, name)
            .with_context(|| format!("write tar entry {}", show()))?;
        h.as_gnu_mut().expect("a GNU header").name = field(name);
        h.set_cksum();
        self.tar
            .append(&h, data)
            .with_context(|| format!("write tar entry {}", show()))
    }

    /// GNU tar's way to a name or link target longer than its 100-byte field: an entry
    /// `././@LongLink` of type L (name) or K (link target) holding it, NUL-terminated,
    /// before the entry itself, whose own field holds the first 100 bytes.
    fn long(&mut self, ty: EntryType, bytes: &[u8]) -> io::Result<()> {
        if bytes.len() <= 100 {
            return Ok(());
        }
        let mut h = Header::new_gnu();
        h.as_gnu_mut().expect("a GNU header").name = field(b"././@LongLink");
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(bytes.len() as u64 + 1);
        h.set_entry_type(ty);
        h.set_cksum();
        self.tar.append(&h, bytes.chain(&[0u8][..]))
    }
}

/// A 100-byte name field: the bytes, cut at 100, NUL-padded.
fn field(bytes: &[u8]) -> [u8; 100] {
    let mut f = [0u8; 100];
    let n = bytes.len().min(100);
    f[..n].copy_from_slice(&bytes[..n]);
    f
}

fn name(path: &Path) -> &[u8] {
    path.as_os_str().as_bytes()
}

impl<W: Write> Sink for TarSink<W> {
    fn enter_dir(&mut self, path: &Path, st: &Stat) -> Result<()> {
        if path.as_os_str().is_empty() {
            return Ok(());
        }
        let mut n = name(path).to_vec();
        n.push(b'/');
        self.append(st, EntryType::Directory, &n, None, 0, io::empty())
    }

    fn leave_dir(&mut self, _path: &Path, _st: &Stat) -> Result<()> {
        Ok(())
    }

    fn file(&mut self, path: &Path, st: &Stat, content: Option<File>) -> Result<()> {
        match content {
            None => self.append(st, EntryType::Regular, name(path), None, 0, io::empty()),
            // Exactly st.size bytes, as the header says, even when a running container
            // has grown the file since (cut) or shrunk it (zeros after its end).
            Some(f) => {
                let data = f.take(st.size).chain(io::repeat(0)).take(st.size);
                self.append(st, EntryType::Regular, name(path), None, st.size, data)
            }
        }
    }

    fn symlink(&mut self, path: &Path, st: &Stat, target: &[u8]) -> Result<()> {
        self.append(
            st,
            EntryType::Symlink,
            name(path),
            Some(target),
            0,
            io::empty(),
        )
    }

    fn hard_link(&mut self, path: &Path, st: &Stat, first: &Path) -> Result<()> {
        self.append(
            st,
            EntryType::Link,
            name(path),
            Some(name(first)),
            0,
            io::empty(),
        )
    }

    fn node(&mut self, path: &Path, st: &Stat) -> Result<()> {
        let ty = match st.kind() {
            libc::S_IFCHR => EntryType::Char,
            libc::S_IFBLK => EntryType::Block,
            _ => EntryType::Fifo,
        };
        self.append(st, ty, name(path), None, 0, io::empty())
    }
}
