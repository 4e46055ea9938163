//! End-to-end tests of `gocker export` and `gocker commit`: the merged view of a stopped
//! container's layer (a whiteout hides a file, the rootfs is not written), a running
//! container's root, a hostile rootfs (links to the host kept as links, nodes, hard links,
//! setuid and unreadable files, names longer than a path may be), a container swapping a
//! directory for a symlink to the host while it is exported, and the refusals. Each test
//! has its own state root; records of stopped containers are written with the library's
//! own `Store`. They need root.

mod common;

use common::*;
use gocker::image::{Sink, walk};
use gocker::spec::Root;
use gocker::state::{Record, Store};
use gocker::sys::{self, Stat};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One entry as the tests compare them: what a tar entry and a directory both hold.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    kind: char,
    mode: u32,
    uid: u32,
    gid: u32,
    /// A symlink's target, or the first name of a hard link.
    link: Vec<u8>,
    data: Vec<u8>,
    dev: (u32, u32),
}

/// The archive's entries by path (directories without their trailing `/`).
fn parse_tar(bytes: &[u8]) -> BTreeMap<Vec<u8>, Item> {
    let mut ar = tar::Archive::new(bytes);
    let mut map = BTreeMap::new();
    for e in ar.entries().expect("a tar") {
        let mut e = e.expect("a tar entry");
        let h = e.header().clone();
        let mut path = e.path_bytes().into_owned();
        if path.last() == Some(&b'/') {
            path.pop();
        }
        let kind = match h.entry_type() {
            tar::EntryType::Directory => 'd',
            tar::EntryType::Regular => 'f',
            tar::EntryType::Symlink => 'l',
            tar::EntryType::Link => 'h',
            tar::EntryType::Char => 'c',
            tar::EntryType::Block => 'b',
            tar::EntryType::Fifo => 'p',
            t => panic!("unexpected entry type {t:?}"),
        };
        let link = e
            .link_name_bytes()
            .map(|l| l.into_owned())
            .unwrap_or_default();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        let dev = (
            h.device_major().ok().flatten().unwrap_or(0),
            h.device_minor().ok().flatten().unwrap_or(0),
        );
        let item = Item {
            kind,
            mode: h.mode().unwrap(),
            uid: h.uid().unwrap() as u32,
            gid: h.gid().unwrap() as u32,
            link,
            data,
            dev: if matches!(kind, 'c' | 'b') {
                dev
            } else {
                (0, 0)
            },
        };
        assert!(
            map.insert(path.clone(), item).is_none(),
            "{} is twice in the archive",
            String::from_utf8_lossy(&path)
        );
    }
    map
}

/// A directory's entries as `parse_tar` gives an archive's, through gocker's own walk.
#[derive(Default)]
struct Collect(BTreeMap<Vec<u8>, Item>);

fn item(st: &Stat, kind: char, link: &[u8], data: Vec<u8>) -> Item {
    Item {
        kind,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        link: link.to_vec(),
        data,
        dev: if matches!(kind, 'c' | 'b') {
            (st.rdev_major, st.rdev_minor)
        } else {
            (0, 0)
        },
    }
}

impl Sink for Collect {
    fn enter_dir(&mut self, path: &Path, st: &Stat) -> anyhow::Result<()> {
        if !path.as_os_str().is_empty() {
            self.0.insert(bytes(path), item(st, 'd', b"", vec![]));
        }
        Ok(())
    }
    fn leave_dir(&mut self, _: &Path, _: &Stat) -> anyhow::Result<()> {
        Ok(())
    }
    fn file(&mut self, path: &Path, st: &Stat, c: Option<fs::File>) -> anyhow::Result<()> {
        let mut data = Vec::new();
        if let Some(mut f) = c {
            f.read_to_end(&mut data)?;
        }
        self.0.insert(bytes(path), item(st, 'f', b"", data));
        Ok(())
    }
    fn symlink(&mut self, path: &Path, st: &Stat, target: &[u8]) -> anyhow::Result<()> {
        self.0.insert(bytes(path), item(st, 'l', target, vec![]));
        Ok(())
    }
    fn hard_link(&mut self, path: &Path, st: &Stat, first: &Path) -> anyhow::Result<()> {
        self.0
            .insert(bytes(path), item(st, 'h', &bytes(first), vec![]));
        Ok(())
    }
    fn node(&mut self, path: &Path, st: &Stat) -> anyhow::Result<()> {
        let kind = match st.mode & libc::S_IFMT {
            libc::S_IFCHR => 'c',
            libc::S_IFBLK => 'b',
            _ => 'p',
        };
        self.0.insert(bytes(path), item(st, kind, b"", vec![]));
        Ok(())
    }
}

fn bytes(p: &Path) -> Vec<u8> {
    p.as_os_str().as_bytes().to_vec()
}

/// `dir` walked by gocker's walk (a hard link's time and mode as its first name's).
fn walk_dir(dir: &Path) -> BTreeMap<Vec<u8>, Item> {
    let fd = sys::open(dir, libc::O_PATH | libc::O_DIRECTORY).unwrap();
    let mut c = Collect::default();
    walk(&fd, &[], &mut c).unwrap();
    c.0
}

/// `tar -tvf` on the archive: GNU tar must read it whole.
fn tar_lists(bytes: &[u8], test: &str) -> Option<String> {
    let tar = tool("tar", test)?;
    let t = TempDir::new("export-tar");
    let f = t.path().join("a.tar");
    fs::write(&f, bytes).unwrap();
    let o = Command::new(tar).arg("-tvf").arg(&f).output().unwrap();
    assert!(o.status.success(), "tar -tvf: {}", stderr(&o));
    Some(stdout(&o))
}

/// A private state root, and the records written into it.
struct States {
    dir: TempDir,
}

static N: AtomicUsize = AtomicUsize::new(0);

impl States {
    fn new() -> States {
        States {
            dir: TempDir::new("export"),
        }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn gocker(&self, args: &[&OsStr]) -> Output {
        gocker()
            .arg("--root")
            .arg(self.root())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run gocker")
    }

    /// The record of a stopped container (its init a reaped child's pid, with a start
    /// time no process has) with `root`, and `layer`: as `create` would leave it.
    fn stopped(&self, root: Root, layer: Option<&Path>) -> String {
        let id = format!(
            "export-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let roots = gocker::host::Roots::system();
        let mut spec = gocker::frontend::cli::RunArgs {
            command: vec!["sh".into()],
            hostname: "gocker".into(),
            ..Default::default()
        }
        .to_spec(&gocker::host::HostFacts::probe(&roots))
        .expect("a spec");
        spec.root = root;
        let mut child = Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        // Through JSON, so that fields other helpers add (with serde defaults) need no
        // change here.
        let record: Record = serde_json::from_value(json!({
            "id": id,
            "name": format!("name-{id}"),
            "bundle": null,
            "pid": dead,
            "pid_start_time": 0,
            "created": gocker::state::rfc3339_utc_now(),
            "cgroup_dirs": [],
            "cgroup_version": "v1",
            "status_hint": "running",
            "annotations": {},
            "spec": serde_json::to_value(&spec).unwrap(),
            "layer": layer,
        }))
        .expect("a record");
        assert!(!record.init_alive());
        let store = Store::open(&self.root()).unwrap();
        store.create(&id).unwrap().save(&record).unwrap();
        id
    }

    /// `gocker export ID` to stdout: the archive's bytes.
    fn export(&self, id: &str) -> Vec<u8> {
        let o = self.gocker(&[OsStr::new("export"), OsStr::new(id)]);
        assert!(o.status.success(), "export {id}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "export printed on stderr");
        o.stdout
    }

    fn commit(&self, id: &str, dir: &Path) {
        let o = self.gocker(&[OsStr::new("commit"), OsStr::new(id), dir.as_os_str()]);
        assert!(o.status.success(), "commit {id}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "commit printed on stderr");
    }
}

/// Every path under `dir` (relative, not following links) and what it is.
fn tree(dir: &Path) -> BTreeMap<PathBuf, (u32, Vec<u8>)> {
    fn go(base: &Path, rel: &Path, out: &mut BTreeMap<PathBuf, (u32, Vec<u8>)>) {
        for e in fs::read_dir(base.join(rel)).unwrap() {
            let e = e.unwrap();
            let r = rel.join(e.file_name());
            let m = fs::symlink_metadata(base.join(&r)).unwrap();
            let data = if m.is_file() {
                fs::read(base.join(&r)).unwrap()
            } else {
                vec![]
            };
            out.insert(r.clone(), (m.mode(), data));
            if m.is_dir() {
                go(base, &r, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    go(dir, Path::new(""), &mut out);
    out
}

fn whiteout(path: &Path) {
    sys::mknod_char(path, 0, 0, 0).unwrap();
}

#[test]
fn a_stopped_layer_exports_as_the_merged_view_and_nothing_is_written() {
    let test = "a_stopped_layer_exports_as_the_merged_view_and_nothing_is_written";
    root_or_skip!(test);
    let s = States::new();
    let lower_t = busybox_rootfs();
    let lower = lower_t.path();
    fs::write(lower.join("etc/hostname"), "lower\n").unwrap();
    fs::write(lower.join("gone.txt"), "deleted in the container\n").unwrap();
    fs::create_dir_all(lower.join("gone_dir/sub")).unwrap();
    fs::write(lower.join("gone_dir/sub/f"), "x").unwrap();
    fs::write(lower.join("kept.txt"), "kept\n").unwrap();
    let layer = s.path("layer");
    fs::create_dir_all(layer.join("upper/etc")).unwrap();
    fs::create_dir_all(layer.join("work")).unwrap();
    fs::write(layer.join("upper/etc/hostname"), "upper\n").unwrap();
    fs::write(layer.join("upper/new.txt"), "new in the container\n").unwrap();
    whiteout(&layer.join("upper/gone.txt"));
    whiteout(&layer.join("upper/gone_dir"));

    let lower_before = tree(lower);
    let upper_before = tree(&layer.join("upper"));
    let mounts_before = mountinfo();
    let id = s.stopped(Root::Overlay(lower.canonicalize().unwrap()), Some(&layer));

    let ar = s.export(&id);
    let got = parse_tar(&ar);
    // The merged view: the lower tree, the upper's entries over it, whiteouts' names gone.
    let mut want: BTreeSet<Vec<u8>> = BTreeSet::new();
    for p in lower_before.keys() {
        if !p.starts_with("gone.txt") && !p.starts_with("gone_dir") {
            want.insert(bytes(p));
        }
    }
    for (p, (mode, _)) in &upper_before {
        if mode & libc::S_IFMT != libc::S_IFCHR {
            want.insert(bytes(p));
        }
    }
    let names: BTreeSet<Vec<u8>> = got.keys().cloned().collect();
    assert_eq!(
        names,
        want,
        "the archive is not the merged view: extra {:?}, missing {:?}",
        names
            .difference(&want)
            .map(|p| String::from_utf8_lossy(p))
            .collect::<Vec<_>>(),
        want.difference(&names)
            .map(|p| String::from_utf8_lossy(p))
            .collect::<Vec<_>>()
    );
    assert_eq!(got[&b"etc/hostname"[..]].data, b"upper\n");
    assert_eq!(got[&b"new.txt"[..]].data, b"new in the container\n");
    assert_eq!(got[&b"kept.txt"[..]].data, b"kept\n");
    assert_eq!(
        got[&b"bin/busybox"[..]].data,
        fs::read(lower.join("bin/busybox")).unwrap()
    );
    if let Some(list) = tar_lists(&ar, test) {
        assert!(list.contains("new.txt"), "{list}");
        assert!(!list.contains("gone.txt"), "{list}");
    }

    // Found by its name too; -o writes the same bytes, 0600.
    let out = s.path("by-name.tar");
    let o = s.gocker(&[
        OsStr::new("export"),
        OsStr::new("-o"),
        out.as_os_str(),
        OsStr::new(&format!("name-{id}")),
    ]);
    assert!(o.status.success(), "export -o: {}", stderr(&o));
    assert_eq!(fs::read(&out).unwrap(), ar, "export -o wrote other bytes");
    assert_eq!(fs::metadata(&out).unwrap().mode() & 0o777, 0o600);

    // commit: the same tree, and a container runs on it.
    let dir = s.path("committed");
    s.commit(&id, &dir);
    assert_eq!(walk_dir(&dir), got, "commit's DIR differs from the archive");
    let o = run_in(&dir, &["sh", "-c", "cat /etc/hostname; ls /gone.txt"]);
    assert_eq!(stdout(&o), "upper\n", "{}", stderr(&o));
    assert!(
        !o.status.success(),
        "gone.txt is back in the committed root"
    );

    // Nothing of it was written: the rootfs, the layer, the mount table.
    assert_eq!(tree(lower), lower_before, "the rootfs changed");
    assert_eq!(
        tree(&layer.join("upper")),
        upper_before,
        "the layer's upper/ changed"
    );
    assert_eq!(
        fs::read_dir(layer.join("work")).unwrap().count(),
        0,
        "the layer's work/ was written"
    );
    assert_eq!(mountinfo(), mounts_before, "a mount was left on the host");
}

/// A rootfs made to trip a careless walker; returns the host's marker text, which must
/// never reach an archive.
fn hostile_rootfs(dir: &Path, host_dir: &Path) -> String {
    let marker = format!(
        "HOST-ONLY-{}-{}",
        std::process::id(),
        N.load(Ordering::Relaxed)
    );
    fs::create_dir_all(host_dir).unwrap();
    fs::write(host_dir.join("marker"), &marker).unwrap();
    fs::create_dir_all(dir.join("bin")).unwrap();
    symlink("/etc", dir.join("etc")).unwrap();
    symlink("../../..", dir.join("x")).unwrap();
    symlink(host_dir, dir.join("leak")).unwrap();
    symlink(host_dir.join("marker"), dir.join("leakfile")).unwrap();
    let long_target = "a/".repeat(120);
    symlink(&long_target, dir.join("longlink")).unwrap();
    sys::mkfifo(&dir.join("fifo"), 0o644).unwrap();
    sys::mknod_char(&dir.join("null"), 0o666, 1, 3).unwrap();
    let dfd = sys::open(dir, libc::O_PATH | libc::O_DIRECTORY).unwrap();
    sys::mknodat(&dfd, OsStr::new("loop"), libc::S_IFBLK | 0o600, 7, 0).unwrap();
    fs::write(dir.join("bin/tool"), "one content, two names").unwrap();
    fs::hard_link(dir.join("bin/tool"), dir.join("bin/tool2")).unwrap();
    fs::write(dir.join("bin/su"), "#!/bin/sh\n").unwrap();
    std::os::unix::fs::chown(dir.join("bin/su"), Some(1000), Some(1000)).unwrap();
    fs::set_permissions(dir.join("bin/su"), fs::Permissions::from_mode(0o4755)).unwrap();
    fs::write(dir.join("secret"), "root reads it anyway").unwrap();
    fs::set_permissions(dir.join("secret"), fs::Permissions::from_mode(0o0)).unwrap();
    fs::write(dir.join("n".repeat(255)), "a name of 255 bytes").unwrap();
    fs::write(dir.join(OsStr::from_bytes(b"caf\xe9")), "not UTF-8").unwrap();
    // Deeper than PATH_MAX: only a walk by descriptors gets there.
    let mut fd = sys::open(dir, libc::O_RDONLY | libc::O_DIRECTORY).unwrap();
    let level = "d".repeat(200);
    for _ in 0..25 {
        sys::mkdirat(&fd, OsStr::new(&level), 0o755).unwrap();
        fd = sys::openat_mode(
            &fd,
            OsStr::new(&level),
            libc::O_RDONLY | libc::O_DIRECTORY,
            0,
        )
        .unwrap();
    }
    let f = sys::openat_mode(
        &fd,
        OsStr::new("bottom"),
        libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL,
        0o644,
    )
    .unwrap();
    std::io::Write::write_all(&mut fs::File::from(f), b"at the bottom").unwrap();
    marker
}

fn deep_path() -> Vec<u8> {
    let mut p = vec![];
    for _ in 0..25 {
        p.extend_from_slice("d".repeat(200).as_bytes());
        p.push(b'/');
    }
    p.extend_from_slice(b"bottom");
    p
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_hostile_rootfs_is_exported_and_committed_as_it_is_and_the_host_is_untouched() {
    let test = "a_hostile_rootfs_is_exported_and_committed_as_it_is_and_the_host_is_untouched";
    root_or_skip!(test);
    let s = States::new();
    let rootfs = s.path("rootfs");
    let host_dir = s.path("host");
    let marker = hostile_rootfs(&rootfs, &host_dir);
    let host = HostSnapshot::take();
    let id = s.stopped(Root::Dir(rootfs.canonicalize().unwrap()), None);

    let ar = s.export(&id);
    assert!(
        !contains(&ar, marker.as_bytes()),
        "the host's marker is in the archive"
    );
    let etc_passwd = fs::read("/etc/passwd").unwrap();
    assert!(
        !contains(&ar, &etc_passwd),
        "the host's /etc/passwd is in the archive"
    );
    let got = parse_tar(&ar);
    let at = |p: &[u8]| {
        got.get(p)
            .unwrap_or_else(|| panic!("{} is not in the archive", String::from_utf8_lossy(p)))
    };
    assert!(
        !got.keys().any(|p| p.starts_with(b"etc/")),
        "etc was followed"
    );
    assert_eq!((at(b"etc").kind, &at(b"etc").link[..]), ('l', &b"/etc"[..]));
    assert_eq!((at(b"x").kind, &at(b"x").link[..]), ('l', &b"../../.."[..]));
    assert_eq!(at(b"leak").kind, 'l');
    assert_eq!(at(b"leakfile").kind, 'l');
    assert_eq!(at(b"longlink").link, "a/".repeat(120).into_bytes());
    assert_eq!(at(b"fifo").kind, 'p');
    assert_eq!((at(b"null").kind, at(b"null").dev), ('c', (1, 3)));
    assert_eq!((at(b"loop").kind, at(b"loop").dev), ('b', (7, 0)));
    assert_eq!(at(b"bin/tool").data, b"one content, two names");
    assert_eq!(
        (at(b"bin/tool2").kind, &at(b"bin/tool2").link[..]),
        ('h', &b"bin/tool"[..])
    );
    let su = at(b"bin/su");
    assert_eq!((su.mode, su.uid, su.gid), (0o4755, 1000, 1000));
    assert_eq!(
        (at(b"secret").mode, &at(b"secret").data[..]),
        (0, &b"root reads it anyway"[..])
    );
    assert_eq!(at("n".repeat(255).as_bytes()).data, b"a name of 255 bytes");
    assert_eq!(at(b"caf\xe9").data, b"not UTF-8");
    assert_eq!(at(&deep_path()).data, b"at the bottom");
    if let Some(list) = tar_lists(&ar, test) {
        assert!(list.contains("etc -> /etc"), "{list}");
        assert!(list.contains("bin/tool2 link to bin/tool"), "{list}");
        assert!(
            list.contains("bottom"),
            "GNU tar does not read the long name: {list}"
        );
        // GNU tar, as root, extracts the same tree gocker's commit makes (but for the
        // part deeper than PATH_MAX, which it cannot make).
        let x = s.path("extracted");
        fs::create_dir(&x).unwrap();
        let a = s.path("a.tar");
        fs::write(&a, &ar).unwrap();
        let deep_top = "d".repeat(200);
        let o = Command::new("tar")
            .arg("-xpf")
            .arg(&a)
            .arg("-C")
            .arg(&x)
            .arg(format!("--exclude={deep_top}"))
            .output()
            .unwrap();
        assert!(o.status.success(), "tar -xpf: {}", stderr(&o));
        let mut shallow = got.clone();
        shallow.retain(|p, _| !p.starts_with(deep_top.as_bytes()));
        assert_eq!(walk_dir(&x), shallow, "GNU tar extracts another tree");
        fs::remove_dir_all(&x).unwrap();
        fs::remove_file(&a).unwrap();
    }

    let dir = s.path("committed");
    s.commit(&id, &dir);
    assert_eq!(walk_dir(&dir), got, "commit's DIR differs from the archive");
    let m = fs::symlink_metadata(&dir).unwrap();
    assert_eq!(
        (m.mode() & 0o7777, m.uid(), m.gid()),
        (0o700, 0, 0),
        "DIR is not root's 0700"
    );
    assert_eq!(fs::read_link(dir.join("etc")).unwrap(), Path::new("/etc"));
    let (a, b) = (
        fs::metadata(dir.join("bin/tool")).unwrap(),
        fs::metadata(dir.join("bin/tool2")).unwrap(),
    );
    assert_eq!(
        (a.ino(), a.nlink()),
        (b.ino(), 2),
        "the hard link is not one file"
    );
    assert_eq!(
        fs::metadata(dir.join("bin/su")).unwrap().mode() & 0o7777,
        0o4755
    );
    assert_eq!(
        fs::read_dir(&host_dir).unwrap().count(),
        1,
        "the host's directory changed"
    );
    assert_eq!(fs::read_to_string(host_dir.join("marker")).unwrap(), marker);
    host.assert_unchanged(test);
    let mut beside: Vec<String> = fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(
        beside,
        ["committed", "host", "rootfs", "state"],
        "made beside DIR"
    );
    // The rootfs too is as it was (the walk only read it).
    assert_eq!(walk_dir(&rootfs), got, "the rootfs changed");
}

/// A bundle from `gocker spec` (busybox, a root written in place) running `script`,
/// created and started in a state root of its own; deleted (--force) when dropped.
struct Running {
    s: States,
    id: String,
}

impl Running {
    fn start(script: &str) -> Running {
        let s = States::new();
        let b = s.path("bundle");
        let out = gocker()
            .args(["rootfs", "busybox"])
            .arg(b.join("rootfs"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let out = gocker().arg("spec").arg("-b").arg(&b).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let config = b.join("config.json");
        let mut c: serde_json::Value = serde_json::from_slice(&fs::read(&config).unwrap()).unwrap();
        c["process"]["args"] = json!(["sh", "-c", script]);
        c["process"]["terminal"] = json!(false);
        c["root"]["readonly"] = json!(false);
        fs::write(&config, serde_json::to_vec(&c).unwrap()).unwrap();
        let r = Running {
            id: format!(
                "export-run-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ),
            s,
        };
        for sub in [&["create", "-b"][..], &["start"][..]] {
            let mut cmd = gocker();
            cmd.arg("--root").arg(r.s.root()).args(sub);
            if sub[0] == "create" {
                cmd.arg(&b);
            }
            // The init keeps create's stdio: files, not pipes to wait on.
            let err_file = r.s.path("create.err");
            let st = cmd
                .arg(&r.id)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(fs::File::create(&err_file).unwrap())
                .status()
                .unwrap();
            assert!(
                st.success(),
                "{sub:?}: {}",
                fs::read_to_string(&err_file).unwrap()
            );
        }
        r
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.s.gocker(&[
            OsStr::new("delete"),
            OsStr::new("--force"),
            OsStr::new(&self.id),
        ]);
    }
}

#[test]
fn a_running_container_exports_its_own_writes_and_its_mounts_as_empty_directories() {
    let test = "a_running_container_exports_its_own_writes_and_its_mounts_as_empty_directories";
    root_or_skip!(test);
    let r = Running::start("sleep 120");
    let o = r.s.gocker(&[
        OsStr::new("exec"),
        OsStr::new(&r.id),
        OsStr::new("sh"),
        OsStr::new("-c"),
        OsStr::new("echo written inside > /written.txt && rm /bin/ed"),
    ]);
    assert!(o.status.success(), "exec: {}", stderr(&o));
    // By a unique prefix of its id, as exec finds it.
    let ar = r.s.export(&r.id[..r.id.len() - 1]);
    let got = parse_tar(&ar);
    assert_eq!(got[&b"written.txt"[..]].data, b"written inside\n");
    assert!(
        !got.contains_key(&b"bin/ed"[..]),
        "a file removed inside is in the archive"
    );
    for m in ["proc", "dev", "sys"] {
        if let Some(i) = got.get(m.as_bytes()) {
            assert_eq!(i.kind, 'd');
            let sub = format!("{m}/");
            assert!(
                !got.keys().any(|p| p.starts_with(sub.as_bytes())),
                "the container's /{m} mount was walked into"
            );
        }
    }
    assert!(
        got.contains_key(&b"proc"[..]),
        "no /proc mount point in the archive"
    );
    tar_lists(&ar, test);

    let dir = r.s.path("committed");
    r.s.commit(&r.id, &dir);
    let o = run_in(&dir, &["cat", "/written.txt"]);
    assert_eq!(stdout(&o), "written inside\n", "{}", stderr(&o));
}

#[test]
fn a_directory_swapped_for_a_link_to_the_host_mid_export_never_leaks_host_content() {
    let test = "a_directory_swapped_for_a_link_to_the_host_mid_export_never_leaks_host_content";
    root_or_skip!(test);
    let host_t = TempDir::new("export-host");
    let host_dir = host_t.path().canonicalize().unwrap();
    let marker = format!("HOST-ONLY-RACE-{}", std::process::id());
    fs::write(host_dir.join("marker"), &marker).unwrap();
    // Renames only, each atomic: /d is a directory, then a link to the host's directory
    // (its path on the host, which means nothing inside), then a directory again.
    let script = format!(
        "mkdir /d && echo inside > /d/marker && ln -s {} /l && \
         while :; do mv /d /dd; mv /l /d; mv /d /l; mv /dd /d; done",
        host_dir.display()
    );
    let r = Running::start(&script);
    let (mut as_dir, mut as_link, mut runs) = (0, 0, 0);
    let start = Instant::now();
    while runs < 20 || ((as_dir == 0 || as_link == 0) && start.elapsed() < Duration::from_secs(30))
    {
        let ar = r.s.export(&r.id);
        runs += 1;
        assert!(
            !contains(&ar, marker.as_bytes()),
            "run {runs}: the host's marker is in the archive"
        );
        let got = parse_tar(&ar);
        match got.get(&b"d"[..]).map(|i| i.kind) {
            Some('d') => as_dir += 1,
            Some('l') => as_link += 1,
            _ => {}
        }
        if let Some(i) = got.get(&b"d/marker"[..]) {
            assert_eq!(
                i.data, b"inside\n",
                "run {runs}: d/marker is not the container's"
            );
        }
    }
    assert!(
        as_dir > 0 && as_link > 0,
        "the race was not run: /d seen as a directory {as_dir} times, as a link {as_link} times in {runs} exports"
    );
}

#[test]
fn unknown_ids_rootless_containers_terminals_and_full_dirs_are_refused_in_one_line() {
    let test = "unknown_ids_rootless_containers_terminals_and_full_dirs_are_refused_in_one_line";
    root_or_skip!(test);
    let s = States::new();
    let refused = |o: &Output, want: &str| {
        assert_eq!(o.status.code(), Some(125), "{}", stderr(o));
        let err = stderr(o);
        assert_eq!(err.lines().count(), 1, "not one line: {err}");
        assert!(err.contains(want), "{err} does not say {want:?}");
        assert!(o.stdout.is_empty(), "something on stdout");
    };
    let nope = OsStr::new("no-such-container");
    refused(&s.gocker(&[OsStr::new("export"), nope]), "does not exist");
    let dir = s.path("c");
    refused(
        &s.gocker(&[OsStr::new("commit"), nope, dir.as_os_str()]),
        "does not exist",
    );
    assert!(!dir.exists(), "commit of an unknown id made DIR");

    let host_view = s.stopped(Root::HostView, None);
    refused(
        &s.gocker(&[OsStr::new("export"), OsStr::new(&host_view)]),
        "no root of its own",
    );
    let rootfs = s.path("rootfs");
    fs::create_dir_all(rootfs.join("etc")).unwrap();
    let no_layer = s.stopped(Root::Overlay(rootfs.canonicalize().unwrap()), None);
    refused(
        &s.gocker(&[OsStr::new("commit"), OsStr::new(&no_layer), dir.as_os_str()]),
        "writable layer died with it",
    );
    assert!(!dir.exists(), "a refused commit made DIR");

    let in_place = s.stopped(Root::Dir(rootfs.canonicalize().unwrap()), None);
    let full = s.path("full");
    fs::create_dir_all(&full).unwrap();
    fs::write(full.join("mine"), "the user's").unwrap();
    refused(
        &s.gocker(&[
            OsStr::new("commit"),
            OsStr::new(&in_place),
            full.as_os_str(),
        ]),
        "is not empty",
    );
    assert_eq!(fs::read_to_string(full.join("mine")).unwrap(), "the user's");
    assert_eq!(fs::read_dir(&full).unwrap().count(), 1);
    // An empty one is taken.
    let empty = s.path("empty");
    fs::create_dir_all(&empty).unwrap();
    s.commit(&in_place, &empty);
    assert!(empty.join("etc").is_dir());

    // A terminal on stdout: refused, nothing written to it.
    let ptmx: OwnedFd = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/ptmx")
        .unwrap()
        .into();
    let (_master, pty) = sys::open_pty_at(&ptmx).unwrap();
    let o = gocker()
        .arg("--root")
        .arg(s.root())
        .args(["export", &in_place])
        .stdin(Stdio::null())
        .stdout(Stdio::from(pty))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("refusing to write a tar to a terminal"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_failed_commit_or_export_leaves_nothing_half_made() {
    let test = "a_failed_commit_or_export_leaves_nothing_half_made";
    root_or_skip!(test);
    let s = States::new();
    // Too deep to walk (gocker's limit is 256 levels): the walk fails after the first
    // entries are written.
    let rootfs = s.path("rootfs");
    fs::create_dir_all(&rootfs).unwrap();
    fs::write(rootfs.join("a-first"), "written before the failure").unwrap();
    let mut deep = rootfs.join("z-deep");
    for _ in 0..600 {
        deep.push("d");
    }
    fs::create_dir_all(&deep).unwrap();
    let id = s.stopped(Root::Dir(rootfs.canonicalize().unwrap()), None);
    let check = |o: &Output| {
        assert_eq!(o.status.code(), Some(125), "{}", stderr(o));
        assert!(stderr(o).contains("nested deeper than"), "{}", stderr(o));
        assert_eq!(stderr(o).lines().count(), 1, "{}", stderr(o));
    };

    let new_dir = s.path("new");
    check(&s.gocker(&[OsStr::new("commit"), OsStr::new(&id), new_dir.as_os_str()]));
    assert!(!new_dir.exists(), "a failed commit left the DIR it made");
    let empty = s.path("empty");
    fs::create_dir_all(&empty).unwrap();
    check(&s.gocker(&[OsStr::new("commit"), OsStr::new(&id), empty.as_os_str()]));
    assert_eq!(
        fs::read_dir(&empty).unwrap().count(),
        0,
        "a failed commit left entries in DIR"
    );
    let out = s.path("half.tar");
    check(&s.gocker(&[
        OsStr::new("export"),
        OsStr::new("-o"),
        out.as_os_str(),
        OsStr::new(&id),
    ]));
    assert!(!out.exists(), "a failed export left half an archive");
    let mut names: Vec<String> = fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["empty", "rootfs", "state"]);
}

#[test]
fn a_tree_just_under_the_depth_limit_commits_under_a_1024_open_file_limit() {
    let test = "a_tree_just_under_the_depth_limit_commits_under_a_1024_open_file_limit";
    root_or_skip!(test);
    let s = States::new();
    let rootfs = s.path("rootfs");
    let mut deep = rootfs.clone();
    // The root, 254 directories, and the file: 255 levels, the walk's limit being 256.
    for _ in 0..254 {
        deep.push("d");
    }
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("f"), "deep").unwrap();
    let id = s.stopped(Root::Dir(rootfs.canonicalize().unwrap()), None);
    let dir = s.path("committed");
    // The limit most hosts give a shell; the walk and the copy each hold a descriptor
    // per level.
    let o = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 1024 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_gocker"))
        .arg("--root")
        .arg(s.root())
        .args([OsStr::new("commit"), OsStr::new(&id), dir.as_os_str()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "commit: {}", stderr(&o));
    let copied = dir.join(deep.strip_prefix(&rootfs).unwrap()).join("f");
    assert_eq!(fs::read_to_string(copied).unwrap(), "deep");
}
