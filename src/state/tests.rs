use super::*;
use crate::mounts::standard_mounts;
use crate::spec::{CapSet, Capabilities, Confinement, Limits, Namespace, Process, Root};
use crate::testutil::TempDir;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

fn spec(id: &str) -> ContainerSpec {
    ContainerSpec {
        id: id.into(),
        root: Root::Dir("/tmp/rootfs".into()),
        process: Process {
            // Not UTF-8: the record must keep the bytes.
            argv: vec!["/bin/sh".into(), OsString::from_vec(vec![b'-', 0xff])],
            env: vec!["PATH=/bin".into()],
            cwd: "/".into(),
            terminal: false,
            stdin: false,
            user: Default::default(),
            oom_score_adj: None,
            umask: None,
        },
        hostname: "gocker".into(),
        namespaces: Namespace::LESSON.to_vec(),
        namespace_paths: Vec::new(),
        mounts: standard_mounts(true),
        limits: Limits::default(),
        confinement: Confinement::default(),
        capabilities: Capabilities::kept(CapSet::DOCKER_DEFAULT),
        no_new_privs: true,
        rlimits: vec![],
        sysctl: Vec::new(),
        seccomp_profile: None,
        rootfs_slave: false,
        readonly_root: false,
        cgroup_path: None,
    }
}

fn record(id: &str, pid: i32, start: u64) -> Record {
    Record {
        id: id.into(),
        name: None,
        bundle: Some("/tmp/bundle".into()),
        pid,
        pid_start_time: start,
        created: rfc3339_utc_now(),
        cgroup_dirs: vec![],
        cgroup_version: "v1".into(),
        status_hint: "created".into(),
        annotations: BTreeMap::new(),
        spec: spec(id),
        layer: None,
        exit_code: None,
        started: None,
        finished: None,
        auto_remove: false,
        monitor_pid: 0,
        monitor_start_time: 0,
        log: None,
    }
}

fn message(r: Result<impl std::fmt::Debug>) -> String {
    format!("{:#}", r.expect_err("should fail"))
}

#[test]
fn create_save_load_round_trip() {
    let t = TempDir::new("state");
    let store = Store::open(&t.path().join("root")).unwrap();
    let mode = fs::metadata(store.root()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let e = store.create("a").unwrap();
    // Until saved, the id does not exist for anyone else.
    assert_eq!(store.list().unwrap(), Vec::<String>::new());
    let r = record("a", 1, 2);
    e.save(&r).unwrap();
    assert_eq!(e.load().unwrap(), r);
    drop(e);
    assert_eq!(store.list().unwrap(), vec!["a".to_string()]);
    assert_eq!(store.open_entry("a").unwrap().load().unwrap(), r);
    assert_eq!(store.peek("a").unwrap(), r);
}

#[test]
fn create_twice_fails() {
    let t = TempDir::new("state");
    let store = Store::open(t.path()).unwrap();
    let e = store.create("a").unwrap();
    e.save(&record("a", 1, 2)).unwrap();
    drop(e);
    let err = store.create("a").expect_err("a second create of one id");
    assert_eq!(crate::error::exit_code_of(&err), 125);
    assert!(format!("{err:#}").contains("already exists"), "{err:#}");
    // The first record is untouched.
    assert_eq!(store.open_entry("a").unwrap().load().unwrap().pid, 1);
}

#[test]
fn unknown_and_removed_ids_do_not_exist() {
    let t = TempDir::new("state");
    let store = Store::open(t.path()).unwrap();
    assert!(message(store.open_entry("nope")).contains("does not exist"));
    let e = store.create("a").unwrap();
    e.save(&record("a", 1, 2)).unwrap();
    e.remove().unwrap();
    assert!(!t.path().join("a").exists());
    let err = store.open_entry("a").expect_err("removed");
    assert!(is_does_not_exist(&err), "{err:#}");
    assert!(message(store.peek("a")).contains("does not exist"));
}

#[test]
fn bad_ids_are_refused() {
    let t = TempDir::new("state");
    let store = Store::open(t.path()).unwrap();
    for bad in ["", ".", "..", "a/b", "../x", "a b", "a\nb"] {
        assert!(message(store.create(bad)).contains("invalid container id"));
        assert!(message(store.open_entry(bad)).contains("invalid container id"));
    }
    assert_eq!(fs::read_dir(t.path()).unwrap().count(), 0);
}

#[test]
fn a_waiter_behind_a_remove_finds_the_id_gone() {
    let t = TempDir::new("state");
    let store = Store::open(t.path()).unwrap();
    let e = store.create("a").unwrap();
    e.save(&record("a", 1, 2)).unwrap();
    let s2 = store.clone();
    let waiter = std::thread::spawn(move || s2.open_entry("a").map(|e| e.load()));
    std::thread::sleep(std::time::Duration::from_millis(100));
    // The waiter holds its own open of the lock file and blocks on it.
    assert!(!waiter.is_finished());
    e.remove().unwrap();
    let got = waiter.join().unwrap();
    assert!(is_does_not_exist(&got.expect_err("gone")));
}

#[test]
fn the_lock_serialises_commands_on_one_id() {
    let t = TempDir::new("state");
    let store = Store::open(t.path()).unwrap();
    let e = store.create("a").unwrap();
    e.save(&record("a", 0, 0)).unwrap();
    drop(e);
    // Each thread does a read-modify-write of the pid under the lock: none is lost.
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let s = store.clone();
            std::thread::spawn(move || {
                for _ in 0..25 {
                    let e = s.open_entry("a").unwrap();
                    let mut r = e.load().unwrap();
                    r.pid += 1;
                    e.save(&r).unwrap();
                }
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    assert_eq!(store.open_entry("a").unwrap().load().unwrap().pid, 200);
}

#[test]
fn concurrent_saves_never_give_a_torn_file() {
    let t = TempDir::new("state");
    let store = Store::open(t.path()).unwrap();
    let e = store.create("a").unwrap();
    e.save(&record("a", 0, 0)).unwrap();
    drop(e);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let path = t.path().join("a").join(STATE_FILE);
    // A reader that takes no lock at all, parsing as fast as it can.
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut reads = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let bytes = fs::read(&path).expect("state.json is always there");
                let r: Record = serde_json::from_slice(&bytes).expect("never torn");
                assert_eq!(r.id, "a");
                reads += 1;
            }
            reads
        })
    };
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let s = store.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    let e = s.open_entry("a").unwrap();
                    let mut r = record("a", w, i);
                    // Records of different sizes, so a torn one could not parse.
                    r.annotations
                        .insert("pad".into(), "x".repeat((i as usize * 97) % 5000));
                    e.save(&r).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    // No temporary file is left behind.
    let names: Vec<_> = fs::read_dir(t.path().join("a"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, vec![LOCK_FILE.to_string(), STATE_FILE.to_string()]);
}

#[test]
fn status_follows_the_init_and_its_start_time() {
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let (start, zombie) = proc_start(pid).expect("the child is there");
    assert!(!zombie);
    let mut r = record("a", pid, start);
    assert_eq!(r.status(), Status::Created);
    r.status_hint = "running".into();
    assert_eq!(r.status(), Status::Running);
    // The same pid with another start time is another process: ours is gone.
    r.pid_start_time = start + 1;
    assert_eq!(r.status(), Status::Stopped);
    r.pid_start_time = start;
    child.kill().unwrap();
    // Dead but not yet reaped (a zombie) is stopped too.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while r.status() != Status::Stopped {
        assert!(
            std::time::Instant::now() < deadline,
            "a killed child still runs"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.wait().unwrap();
    assert_eq!(r.status(), Status::Stopped);
}

#[test]
fn a_frozen_cgroup_reads_as_paused() {
    let t = TempDir::new("state");
    let me = std::process::id() as i32;
    let (start, _) = proc_start(me).unwrap();
    let mut r = record("a", me, start);
    r.status_hint = "running".into();
    r.cgroup_dirs = vec![t.path().to_path_buf()];
    fs::write(t.path().join("freezer.state"), "THAWED\n").unwrap();
    assert_eq!(r.status(), Status::Running);
    fs::write(t.path().join("freezer.state"), "FROZEN\n").unwrap();
    assert_eq!(r.status(), Status::Paused);
    fs::remove_file(t.path().join("freezer.state")).unwrap();
    fs::write(t.path().join("cgroup.freeze"), "1\n").unwrap();
    assert_eq!(r.status(), Status::Paused);
}

#[test]
fn sweep_removes_what_killed_commands_left_and_nothing_else() {
    let t = TempDir::new("sweep-store");
    let store = Store::open(t.path()).unwrap();
    // A record: kept. A directory without one, new: kept (its creator may be at work).
    store
        .create("kept")
        .unwrap()
        .save(&record("kept", 1, 1))
        .unwrap();
    drop(store.create("young").unwrap());
    // Without one and old, unlocked: a creator killed before its first save.
    drop(store.create("orphan").unwrap());
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::open(t.path().join("orphan"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    // Old too, but its lock is held: still being made.
    let held = store.create("held").unwrap();
    std::fs::File::open(t.path().join("held"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    // A removal whose remover is gone, and one whose remover (we) is alive.
    std::fs::create_dir_all(t.path().join("x#removed.999999999/sub")).unwrap();
    let ours = format!("y#removed.{}", std::process::id());
    std::fs::create_dir(t.path().join(&ours)).unwrap();
    store.sweep();
    let mut left: Vec<String> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["held", "kept", ours.as_str(), "young"]);
    drop(held);
}

#[test]
fn names_are_claimed_once_and_stale_ones_taken_over() {
    let t = TempDir::new("names");
    let store = Store::open(t.path()).unwrap();
    let a = store.create_named("aaaa", Some("web")).unwrap();
    a.save(&record("aaaa", 1, 1)).unwrap();
    let e = store.create_named("bbbb", Some("web")).unwrap_err();
    assert!(format!("{e:#}").contains("already in use"), "{e:#}");
    assert!(
        !t.path().join("bbbb").exists(),
        "the loser made no directory"
    );
    assert_eq!(store.id_of_name("web").as_deref(), Some("aaaa"));
    assert_eq!(store.find("web").unwrap().id, "aaaa");
    assert_eq!(store.find("aa").unwrap().id, "aaaa");
    // The container goes without its name (an OCI delete): the name is stale, and free.
    a.remove().unwrap();
    let b = store.create_named("bbbb", Some("web")).unwrap();
    b.save(&record("bbbb", 1, 1)).unwrap();
    assert_eq!(store.id_of_name("web").as_deref(), Some("bbbb"));
    // Released only by its owner.
    store.release_name("web", "aaaa").unwrap();
    assert_eq!(store.id_of_name("web").as_deref(), Some("bbbb"));
    store.release_name("web", "bbbb").unwrap();
    assert_eq!(store.id_of_name("web"), None);
    for bad in ["", "x", "-a", "a/b", ".."] {
        assert!(store.create_named("cccc", Some(bad)).is_err(), "{bad:?}");
    }
    assert!(is_does_not_exist(&store.find("zzzz").unwrap_err()));
}
