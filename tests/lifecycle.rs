//! End-to-end tests of issue 15 (containers that outlive the command): the default root's
//! writable places, the copy-on-write root over `--rootfs` (and `--rootfs-rw`), and the
//! completions and man pages generated from the clap definitions. The container tests need root; in CI (which
//! is root) they must run, never skip.

mod common;

use common::*;

/// What the default-root probe prints: /tmp listed, both written, their modes, and the
/// host's /etc and /usr refusing writes.
const DEFAULT_ROOT_PROBE: &str = "ls /tmp && echo listed; \
     echo t >/tmp/gocker-lifecycle && cat /tmp/gocker-lifecycle; \
     echo r >/root/f && cat /root/f; \
     stat -c '%a' /tmp /root; \
     echo e >/etc/gocker-lifecycle 2>/dev/null && echo etc-written || echo etc-read-only; \
     echo u >/usr/gocker-lifecycle 2>/dev/null && echo usr-written || echo usr-read-only";
const DEFAULT_ROOT_OUT: &str = "listed\nt\nr\n1777\n700\netc-read-only\nusr-read-only\n";

/// The default root (no `--rootfs`) behaves like a small distribution: `/tmp` and `/root`
/// exist, are writable and private to the container, and the host's `/etc` and `/usr`
/// stay read-only; the emitted script builds the same.
#[test]
fn the_default_root_has_a_private_tmp_and_a_writable_root_home() {
    if !need_root("the_default_root_has_a_private_tmp_and_a_writable_root_home") {
        return;
    }
    let before = HostSnapshot::take();
    let o = gocker()
        .args(["run", "/bin/sh", "-c", DEFAULT_ROOT_PROBE])
        .output()
        .expect("run gocker");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), DEFAULT_ROOT_OUT, "{}", stderr(&o));
    let t = TempDir::new("default-root");
    let script = t.path().join("c.sh");
    emit_to(&os(&["/bin/sh", "-c", DEFAULT_ROOT_PROBE]), &script);
    let o = std::process::Command::new("sh")
        .arg(&script)
        .output()
        .expect("run the script");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), DEFAULT_ROOT_OUT, "script: {}", stderr(&o));
    // Private: what the container wrote in its /tmp is not in the host's.
    for p in [
        "/tmp/gocker-lifecycle",
        "/etc/gocker-lifecycle",
        "/usr/gocker-lifecycle",
    ] {
        assert!(
            !std::path::Path::new(p).exists(),
            "{p} appeared on the host"
        );
    }
    before.assert_unchanged("the default root");
}

/// Every command gocker has, from the clap definition the completions are made from.
fn subcommands() -> Vec<String> {
    use clap::CommandFactory;
    gocker::frontend::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect()
}

/// `gocker completions bash|zsh|fish` prints a script that names every command; the bash
/// one loads in bash and registers itself for `gocker`.
#[test]
fn completions_name_every_command() {
    let subs = subcommands();
    assert!(subs.iter().any(|s| s == "run") && subs.iter().any(|s| s == "completions"));
    for shell in ["bash", "zsh", "fish"] {
        let o = gocker()
            .args(["completions", shell])
            .output()
            .expect("run gocker completions");
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let text = stdout(&o);
        for s in &subs {
            assert!(text.contains(s.as_str()), "{shell} completion lacks {s}");
        }
    }
    let o = gocker().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(125),
        "an unknown shell is a usage error"
    );
    let t = TempDir::new("completions");
    let file = t.path().join("gocker.bash");
    let o = gocker().args(["completions", "bash"]).output().unwrap();
    std::fs::write(&file, &o.stdout).unwrap();
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg("source \"$1\" && complete -p gocker")
        .arg("bash")
        .arg(&file)
        .output()
        .expect("run bash");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("gocker"), "{}", stdout(&o));
}

/// `gocker man` renders gocker(1) (checked with `man -l` where man is installed), and
/// `gocker man --dir` writes one page per command.
#[test]
fn the_man_pages_render() {
    let o = gocker().arg("man").output().expect("run gocker man");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let page = stdout(&o);
    assert!(
        page.lines().any(|l| l.starts_with(".TH gocker 1")),
        "{page}"
    );
    let t = TempDir::new("man");
    let dir = t.path().join("man1");
    let o = gocker().arg("man").arg("--dir").arg(&dir).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for s in std::iter::once("gocker".to_string())
        .chain(subcommands().iter().map(|s| format!("gocker-{s}")))
    {
        let p = dir.join(format!("{s}.1"));
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(text.contains(&format!(".TH {s} 1")), "{}", p.display());
    }
    if let Some(man) = tool("man", "the_man_pages_render") {
        let o = std::process::Command::new(man)
            .arg("-l")
            .arg(dir.join("gocker-run.1"))
            .env("MANPAGER", "cat")
            .env("COLUMNS", "100")
            .output()
            .expect("run man -l");
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let text = stdout(&o);
        assert!(
            text.contains("gocker-run") && text.contains("--rootfs"),
            "{text}"
        );
        assert!(
            text.contains("Examples"),
            "the examples are in the page: {text}"
        );
    }
}

/// Every command's `--help` ends with examples.
#[test]
fn every_command_has_examples_in_its_help() {
    for s in subcommands() {
        let o = gocker().args([s.as_str(), "--help"]).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{s}: {}", stderr(&o));
        let text = stdout(&o);
        assert!(
            text.contains("Examples:\n  gocker "),
            "{s} --help has no examples:\n{text}"
        );
    }
}

/// Every entry under `dir`, with what a write, delete or chmod through it would change:
/// kind, mode, owner, size, mtime and ctime (nanoseconds), a symlink's target and a
/// file's bytes. Equal listings: the directory was not touched.
fn listing(dir: &std::path::Path) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(p) = todo.pop() {
        let m = std::fs::symlink_metadata(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let rel = p.strip_prefix(dir).unwrap().display().to_string();
        let extra = if m.file_type().is_symlink() {
            std::fs::read_link(&p).unwrap().display().to_string()
        } else if m.is_file() {
            let bytes = std::fs::read(&p).unwrap();
            format!("{:?}", std::hash::BuildHasher::hash_one(
                &std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default(),
                &bytes,
            ))
        } else {
            String::new()
        };
        out.push(format!(
            "{rel} {:o} {}:{} {} {}.{} {}.{} {extra}",
            m.mode(),
            m.uid(),
            m.gid(),
            m.size(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec()
        ));
        if m.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                todo.push(e.unwrap().path());
            }
        }
    }
    out.sort();
    out
}

/// Layer directories in $TMPDIR named after gocker process `pid` (`gocker-layer.<pid>.*`,
/// where an earlier design kept them): there must never be any.
fn layers_of(pid: u32) -> Vec<std::path::PathBuf> {
    let prefix = format!("gocker-layer.{pid}.");
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect()
}

/// What the writer containers do to their root: write, overwrite, append, delete a file
/// and a directory tree, chmod, chown, rename a directory, make a link and a node.
const WRITES: &str = "echo new >/new-file && echo changed >/etc/passwd && echo more >>/etc/group \
    && rm /bin/ls && rm -r /usr && chmod 700 /etc && chmod 4755 /bin/busybox && chown 1:1 /tmp \
    && mv /etc /etc2 && ln -s /nowhere /dangling && mkdir -p /a/b/c && : >/a/b/c/f \
    && touch -d @0 /bin && echo done";

/// The rootfs directory is byte for byte what it was (entries, modes, owners, times,
/// contents) after containers of `gocker run` and of the emitted script wrote, deleted,
/// chmodded and renamed inside, and each saw its own changes; no layer is left.
#[test]
fn the_rootfs_directory_is_never_written() {
    if !need_root("the_rootfs_directory_is_never_written") {
        return;
    }
    let r = busybox_rootfs();
    let before = listing(r.path());
    let see = "; [ -e /new-file ] && [ ! -e /bin/ls ] && [ ! -e /usr ] && [ -d /etc2 ] \
        && [ \"$(stat -c %a /bin/busybox)\" = 4755 ] && echo seen";
    let probe = format!("{WRITES}{see}");
    let child = gocker()
        .args(["run", "--rootfs"])
        .arg(r.path())
        .args(["/bin/sh", "-c", &probe])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn gocker");
    let pid = child.id();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "done\nseen\n", "{}", stderr(&o));
    assert_eq!(
        listing(r.path()),
        before,
        "gocker run changed the rootfs directory"
    );
    assert_eq!(
        layers_of(pid),
        Vec::<std::path::PathBuf>::new(),
        "layer left behind"
    );
    // A second container starts from the same image: nothing of the first one's changes.
    let o = run_in(
        r.path(),
        &[
            "/bin/sh",
            "-c",
            "[ -e /bin/ls ] && [ ! -e /new-file ] && [ -d /etc ] && echo pristine",
        ],
    );
    assert_eq!(stdout(&o), "pristine\n", "{}", stderr(&o));
    // The emitted script, under each shell: the same.
    let t = TempDir::new("cow-script");
    let script = t.path().join("c.sh");
    let mut args = os(&["--rootfs"]);
    args.push(r.path().into());
    args.extend(os(&["/bin/sh", "-c", &probe]));
    emit_to(&args, &script);
    for sh in ["dash", "bash"] {
        let o = std::process::Command::new(sh)
            .arg(&script)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{sh}: {}", stderr(&o));
        assert_eq!(stdout(&o), "done\nseen\n", "{sh}: {}", stderr(&o));
        assert_eq!(
            listing(r.path()),
            before,
            "the script under {sh} changed the rootfs"
        );
    }
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("gocker-layer."))
        .filter(|e| {
            // Only layers of shells that are gone: another test's may be in use.
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = name.split('.').nth(1).unwrap_or("").to_string();
            !std::path::Path::new(&format!("/proc/{pid}")).exists()
        })
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "the script left {left:?}");
}

/// `--rootfs-rw` is the lesson's way: the container writes into the rootfs directory.
#[test]
fn rootfs_rw_writes_into_the_directory() {
    if !need_root("rootfs_rw_writes_into_the_directory") {
        return;
    }
    let r = busybox_rootfs();
    let o = gocker()
        .args(["run", "--rootfs-rw", "--rootfs"])
        .arg(r.path())
        .args([
            "/bin/sh",
            "-c",
            "echo direct >/written; head -1 /proc/mounts",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stdout(&o).contains("overlay"), "{}", stdout(&o));
    assert_eq!(
        std::fs::read_to_string(r.path().join("written")).unwrap(),
        "direct\n"
    );
    let o = gocker()
        .args(["run", "--rootfs-rw", "true"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(125),
        "--rootfs-rw without --rootfs is refused"
    );
    assert!(
        stderr(&o).contains("--rootfs-rw needs --rootfs"),
        "{}",
        stderr(&o)
    );
}

/// Two containers on one rootfs at the same time: neither sees the other's writes, not
/// at the same path, and not anywhere in its tree (the upper layers are outside the
/// rootfs, out of reach). A volume only synchronises them.
#[test]
fn two_containers_on_one_rootfs_do_not_see_each_others_writes() {
    if !need_root("two_containers_on_one_rootfs_do_not_see_each_others_writes") {
        return;
    }
    let r = busybox_rootfs();
    let sync = TempDir::new("cow-sync");
    let vol = format!("{}:/sync", sync.path().display());
    let wait = |f: &str| {
        format!(
            "i=0; while [ ! -e /sync/{f} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; "
        )
    };
    let a = format!(
        "echo secret-of-a >/shared; : >/sync/a-wrote; {}cat /shared",
        wait("b-done")
    );
    let b = format!(
        "{}[ -e /shared ] && echo sees-a || echo alone; \
         find / -xdev -type f -exec grep -l secret-of-a {{}} + 2>/dev/null; \
         echo b >/shared; : >/sync/b-done",
        wait("a-wrote")
    );
    let spawn = |script: &str| {
        gocker()
            .args(["run", "-v", &vol, "--rootfs"])
            .arg(r.path())
            .args(["/bin/sh", "-c", script])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let ca = spawn(&a);
    let cb = spawn(&b);
    let (oa, ob) = (
        ca.wait_with_output().unwrap(),
        cb.wait_with_output().unwrap(),
    );
    assert_eq!(stdout(&ob), "alone\n", "b: {}", stderr(&ob));
    assert_eq!(stdout(&oa), "secret-of-a\n", "a: {}", stderr(&oa));
    assert!(!r.path().join("shared").exists());
}

/// A rootfs whose path looks like overlayfs options is only ever the one directory, under
/// run and under the script. With the path in the option string, `lowerdir=…/x:/SECRET`
/// would stack a host directory into the container's root, and `lowerdir=…/y,lowerdir=
/// /SECRET` would make the host directory the root (the last lowerdir wins).
#[test]
fn a_rootfs_path_that_looks_like_overlay_options_adds_no_layer() {
    if !need_root("a_rootfs_path_that_looks_like_overlay_options_adds_no_layer") {
        return;
    }
    let t = TempDir::new("cow-hostile");
    let secret = t.path().join("secret");
    std::fs::create_dir(&secret).unwrap();
    std::fs::write(secret.join("host-secret"), "secret").unwrap();
    let s = secret.display();
    for (decoy, real) in [
        (
            t.path().join("x"),
            format!("{}:{s}", t.path().join("x").display()),
        ),
        (
            t.path().join("y"),
            format!("{},lowerdir={s}", t.path().join("y").display()),
        ),
    ] {
        // The decoy is what the first half of the injected string names, so that a mount
        // of the string would succeed.
        let real = std::path::PathBuf::from(real);
        for dir in [&decoy, &real] {
            let o = gocker()
                .args(["rootfs", "busybox"])
                .arg(dir)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", stderr(&o));
        }
        let probe = "[ -e /host-secret ] && echo host-reached || echo own-root; echo w >/w";
        let o = gocker()
            .args(["run", "--rootfs"])
            .arg(&real)
            .args(["/bin/sh", "-c", probe])
            .output()
            .unwrap();
        assert_eq!(
            stdout(&o),
            "own-root\n",
            "{}: {}",
            real.display(),
            stderr(&o)
        );
        let script = t.path().join("c.sh");
        let mut args = os(&["--rootfs"]);
        args.push(real.clone().into());
        args.extend(os(&["/bin/sh", "-c", probe]));
        emit_to(&args, &script);
        let o = std::process::Command::new("sh")
            .arg(&script)
            .output()
            .unwrap();
        assert_eq!(
            stdout(&o),
            "own-root\n",
            "script, {}: {}",
            real.display(),
            stderr(&o)
        );
        for d in [&decoy, &real, &secret] {
            assert!(!d.join("w").exists(), "a write landed in {}", d.display());
        }
    }
}

/// The layer is nowhere on the host, even while containers run and when gocker is
/// SIGKILLed: no directory in $TMPDIR, no mount over the rootfs in the host's mount table,
/// the rootfs directory's listing unchanged.
#[test]
fn a_layer_is_never_on_the_host_even_when_gocker_is_killed() {
    if !need_root("a_layer_is_never_on_the_host_even_when_gocker_is_killed") {
        return;
    }
    let r = busybox_rootfs();
    let before = listing(r.path());
    let mounted_on_rootfs = || {
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let root = r.path().to_string_lossy().into_owned();
        mounts
            .lines()
            .filter(|l| l.split(' ').nth(4).is_some_and(|m| m.starts_with(&root)))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let (mut live, _) = start_sleeping(r.path(), &[], "30");
    let (mut killed, pid1) = start_sleeping(r.path(), &[], "30");
    let (live_pid, killed_pid) = (live.id(), killed.id());
    for pid in [live_pid, killed_pid] {
        assert!(layers_of(pid).is_empty(), "a layer directory on the host");
    }
    assert_eq!(
        mounted_on_rootfs(),
        Vec::<String>::new(),
        "a mount on the host"
    );
    assert_eq!(
        listing(r.path()),
        before,
        "the rootfs changed while containers ran"
    );
    killed.kill().unwrap();
    killed.wait().unwrap();
    wait_for("the container's death", || {
        (!std::path::Path::new(&format!("/proc/{pid1}")).exists()).then_some(())
    });
    assert!(layers_of(killed_pid).is_empty());
    assert_eq!(mounted_on_rootfs(), Vec::<String>::new());
    live.kill().unwrap();
    live.wait().unwrap();
    assert_eq!(listing(r.path()), before, "the rootfs changed");
}

/// The lesson's script stays the lesson's: the rootfs bound onto itself, no overlay.
#[test]
fn the_lesson_script_has_no_overlay() {
    let o = gocker()
        .args([
            "emit-script",
            "--lesson",
            "--cgroup",
            "v1",
            "-rootfs=/",
            "-cpus=1",
            "/bin/sh",
        ])
        .output()
        .unwrap();
    // "/" is refused as a rootfs; any real directory will do.
    assert_eq!(o.status.code(), Some(125));
    let t = TempDir::new("lesson-root");
    let o = gocker()
        .args(["emit-script", "--lesson", "--cgroup", "v1", "-cpus=1"])
        .arg(format!("-rootfs={}", t.path().display()))
        .arg("/bin/sh")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("mount --rbind . ."), "{text}");
    assert!(
        !text.contains("overlay") && !text.contains("rootfs-rw"),
        "{text}"
    );
}

/// The layer is memory (a tmpfs of the container's): what the container writes into its
/// root counts against `-m`, so a container cannot fill the host's memory through it.
#[test]
fn writes_into_the_layer_count_against_the_memory_limit() {
    let test = "writes_into_the_layer_count_against_the_memory_limit";
    if !need_root(test) || !oom_is_certain(test) {
        return;
    }
    let r = busybox_rootfs();
    let o = gocker()
        .args(["run", "-m", "16", "--rootfs"])
        .arg(r.path())
        .args([
            "/bin/sh",
            "-c",
            "head -c 64m /dev/zero >/big; echo survived",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(137), "{} {}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("memory limit (16 MiB)"),
        "{}",
        stderr(&o)
    );
    assert!(!r.path().join("big").exists());
}
