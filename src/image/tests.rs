use super::walk::{MAX_DEPTH, Sink, show, walk};
use super::{TarSink, open_no_symlinks};
use crate::sys::{self, Stat};
use crate::testutil::TempDir;
use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::Path;

/// What the walk hands on, in order, as one line each.
#[derive(Default)]
struct Log(Vec<String>);

impl Sink for Log {
    fn enter_dir(&mut self, path: &Path, _: &Stat) -> anyhow::Result<()> {
        self.0.push(format!("enter {}", path.display()));
        Ok(())
    }
    fn leave_dir(&mut self, path: &Path, _: &Stat) -> anyhow::Result<()> {
        self.0.push(format!("leave {}", path.display()));
        Ok(())
    }
    fn file(&mut self, path: &Path, st: &Stat, c: Option<fs::File>) -> anyhow::Result<()> {
        let mut s = String::new();
        if let Some(mut f) = c {
            f.read_to_string(&mut s)?;
        }
        self.0
            .push(format!("file {} {} {s}", path.display(), st.size));
        Ok(())
    }
    fn symlink(&mut self, path: &Path, _: &Stat, target: &[u8]) -> anyhow::Result<()> {
        self.0.push(format!(
            "link {} -> {}",
            path.display(),
            String::from_utf8_lossy(target)
        ));
        Ok(())
    }
    fn hard_link(&mut self, path: &Path, _: &Stat, first: &Path) -> anyhow::Result<()> {
        self.0
            .push(format!("hard {} = {}", path.display(), first.display()));
        Ok(())
    }
    fn node(&mut self, path: &Path, _: &Stat) -> anyhow::Result<()> {
        self.0.push(format!("node {}", path.display()));
        Ok(())
    }
}

fn root_of(dir: &Path) -> OwnedFd {
    sys::open(dir, libc::O_PATH | libc::O_DIRECTORY).unwrap()
}

#[test]
fn the_walk_is_sorted_enters_and_leaves_and_never_follows_a_link() {
    let t = TempDir::new("walk");
    let d = t.path();
    fs::create_dir_all(d.join("b/c")).unwrap();
    fs::write(d.join("b/c/f"), "in c").unwrap();
    fs::write(d.join("a"), "first").unwrap();
    fs::hard_link(d.join("a"), d.join("b/a2")).unwrap();
    symlink("/etc", d.join("etc")).unwrap();
    symlink("b", d.join("to-b")).unwrap();
    sys::mkfifo(&d.join("fifo"), 0o600).unwrap();
    let mut log = Log::default();
    let skipped = walk(&root_of(d), &[], &mut log).unwrap();
    assert_eq!(
        log.0,
        [
            "enter ",
            "file a 5 first",
            "enter b",
            "hard b/a2 = a",
            "enter b/c",
            "file b/c/f 4 in c",
            "leave b/c",
            "leave b",
            "link etc -> /etc",
            "node fifo",
            "link to-b -> b",
            "leave ",
        ]
    );
    assert_eq!(skipped, Default::default());
}

#[test]
fn the_walks_own_output_is_left_out() {
    let t = TempDir::new("walk");
    let d = t.path();
    fs::write(d.join("out.tar"), "").unwrap();
    fs::write(d.join("kept"), "").unwrap();
    let out = sys::open(&d.join("out.tar"), libc::O_RDONLY).unwrap();
    let st = sys::statx_at(&out, OsStr::new("")).unwrap();
    let mut log = Log::default();
    let skipped = walk(&root_of(d), &[(st.dev, st.ino)], &mut log).unwrap();
    assert_eq!(log.0, ["enter ", "file kept 0 ", "leave "]);
    assert_eq!(skipped.changed, 1);
}

#[test]
fn a_tree_deeper_than_the_limit_is_refused_not_a_crash() {
    let t = TempDir::new("walk");
    let mut p = t.path().to_path_buf();
    for _ in 0..=MAX_DEPTH {
        p.push("d");
    }
    fs::create_dir_all(&p).unwrap();
    let e = walk(&root_of(t.path()), &[], &mut Log::default()).unwrap_err();
    let msg = crate::error::one_line(&e);
    assert!(msg.contains(&format!("deeper than {MAX_DEPTH}")), "{msg}");
    assert_eq!(crate::error::exit_code_of(&e), 125);
    // One readable line: the path is cut to its tail.
    assert!(msg.len() < 400, "{msg}");
}

#[test]
fn a_shown_path_is_cut_to_its_tail() {
    assert_eq!(show(Path::new("etc/passwd")), "/etc/passwd");
    let long = "x/".repeat(300);
    let s = show(Path::new(&long));
    assert!(s.starts_with("/...") && s.len() == 204, "{s}");
}

#[test]
fn a_file_that_changed_size_while_read_fills_exactly_its_header_size() {
    let t = TempDir::new("walk");
    fs::write(t.path().join("f"), "abcd").unwrap();
    let st = |size| Stat {
        mode: libc::S_IFREG | 0o644,
        uid: 0,
        gid: 0,
        size,
        nlink: 1,
        dev: 0,
        ino: 0,
        rdev_major: 0,
        rdev_minor: 0,
        atime: (0, 0),
        mtime: (0, 0),
        mnt_id: None,
    };
    let mut sink = TarSink::new(Vec::new());
    let f = || Some(fs::File::open(t.path().join("f")).unwrap());
    // Shrunk since its stat (header says 6): zeros after its end; grown (2): cut.
    sink.file(Path::new("shrunk"), &st(6), f()).unwrap();
    sink.file(Path::new("grown"), &st(2), f()).unwrap();
    let bytes = sink.finish().unwrap();
    let mut ar = tar::Archive::new(&bytes[..]);
    let got: Vec<(String, Vec<u8>)> = ar
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let mut data = vec![];
            e.read_to_end(&mut data).unwrap();
            (e.path().unwrap().display().to_string(), data)
        })
        .collect();
    assert_eq!(
        got,
        [
            ("shrunk".to_string(), b"abcd\0\0".to_vec()),
            ("grown".to_string(), b"ab".to_vec())
        ]
    );
}

#[test]
fn long_names_and_link_targets_survive_the_tar_byte_for_byte() {
    let t = TempDir::new("walk");
    let d = t.path();
    let long_dir = "d".repeat(150);
    let name = OsStr::from_bytes(b"\xff-not-utf8-".repeat(10).as_slice()).to_os_string();
    fs::create_dir_all(d.join(&long_dir)).unwrap();
    fs::write(d.join(&long_dir).join(&name), "deep").unwrap();
    // Not a clean path: a tar writer that normalised it would lose the `./` and `//`.
    let target = format!("./{}//x/", "t".repeat(120));
    symlink(&target, d.join("l")).unwrap();
    let mut sink = TarSink::new(Vec::new());
    walk(&root_of(d), &[], &mut sink).unwrap();
    let bytes = sink.finish().unwrap();
    let mut ar = tar::Archive::new(&bytes[..]);
    let mut got = vec![];
    for e in ar.entries().unwrap() {
        let e = e.unwrap();
        got.push((
            e.path_bytes().into_owned(),
            e.link_name_bytes().map(|l| l.into_owned()),
        ));
    }
    let mut file_path = format!("{long_dir}/").into_bytes();
    file_path.extend_from_slice(name.as_bytes());
    assert_eq!(
        got,
        [
            (format!("{long_dir}/").into_bytes(), None),
            (file_path, None),
            (b"l".to_vec(), Some(target.into_bytes())),
        ]
    );
}

#[test]
fn a_rootfs_reached_through_a_symlink_is_refused() {
    let t = TempDir::new("walk");
    fs::create_dir_all(t.path().join("real")).unwrap();
    symlink("real", t.path().join("link")).unwrap();
    let real = t.path().join("real").canonicalize().unwrap();
    assert!(open_no_symlinks(&real).is_ok());
    let e = open_no_symlinks(&real.with_file_name("link")).unwrap_err();
    assert!(
        crate::error::one_line(&e).contains("a symlink is on its path"),
        "{e:#}"
    );
}
