//! The emitted script against an untrusted image and a careless caller (issue 10): a
//! rootfs whose symlinks point out of it, descriptors the caller left open, an image whose
//! own tools are traps, a top shell killed with SIGKILL, -t without a terminal, a host
//! booted on its initramfs. Each attack runs for real, as root, and then the host is
//! checked unchanged: its `/`, `/etc` and `/dev`, its mount table, and no cgroup or
//! staging directory of the run's own left behind.

mod common;

use common::*;
use std::ffi::OsString;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn rootfs_args(root: &Path, rest: &[&str]) -> Vec<OsString> {
    let mut v = vec![OsString::from("--rootfs"), root.as_os_str().to_owned()];
    v.extend(os(rest));
    v
}

/// Run `cmd` (a script run) with its own TMPDIR and stdin from /dev/null, and check
/// that the host is as before and that the run left none of its own cgroups or
/// staging directories.
fn run_checked(mut cmd: Command, what: &str) -> Output {
    let tmpdir = TempDir::new("tmpdir");
    let before = HostSnapshot::take();
    let child = cmd
        .env("TMPDIR", tmpdir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let owner = child.id();
    let out = child.wait_with_output().expect("wait");
    before.assert_unchanged(what);
    assert_eq!(
        cgroups_of(owner),
        Vec::<PathBuf>::new(),
        "{what} left cgroups"
    );
    let left: Vec<_> = std::fs::read_dir(tmpdir.path())
        .expect("read TMPDIR")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "{what} left {left:?}");
    out
}

fn sh(file: &Path) -> Command {
    let mut c = Command::new("sh");
    c.arg(file);
    c
}

/// One rootfs with one hostile symlink, and what the script must do with it.
struct LinkAttack {
    name: &'static str,
    /// Relative to the rootfs: (path of the link, its target); the path is removed first.
    link: (&'static str, &'static str),
    /// Options besides --rootfs; "SRC" is replaced by a host directory, "FILE" by a file.
    opts: &'static [&'static str],
    /// Some(message part): refused with 125 saying this. None: it works (exit 0), and
    /// `landed` (relative to the rootfs), the mount point made, exists afterwards.
    refused: Option<&'static str>,
    landed: Option<&'static str>,
    terminal: bool,
}

const LINK_ATTACKS: &[LinkAttack] = &[
    LinkAttack {
        name: "proc -> /",
        link: ("proc", "/"),
        opts: &[],
        refused: Some("/proc is a symlink"),
        landed: None,
        terminal: false,
    },
    LinkAttack {
        name: "dev -> /",
        link: ("dev", "/"),
        opts: &[],
        refused: Some("/dev is a symlink"),
        landed: None,
        terminal: false,
    },
    LinkAttack {
        name: "dev -> ../../../..",
        link: ("dev", "../../../.."),
        opts: &[],
        refused: Some("/dev is a symlink"),
        landed: None,
        terminal: false,
    },
    LinkAttack {
        name: "dev/pts -> / with -t",
        link: ("dev/pts", "/"),
        opts: &["-t"],
        refused: Some("/dev/pts is a symlink"),
        landed: None,
        terminal: true,
    },
    LinkAttack {
        name: "data -> / with -v SRC:/data",
        link: ("data", "/"),
        opts: &["-v", "SRC:/data"],
        refused: Some("/data is the container's root"),
        landed: None,
        terminal: false,
    },
    LinkAttack {
        name: "data -> ../../.. with -v SRC:/data",
        link: ("data", "../../.."),
        opts: &["-v", "SRC:/data"],
        refused: Some("/data is the container's root"),
        landed: None,
        terminal: false,
    },
    LinkAttack {
        name: "etcl -> /etc with -v SRC:/etcl/new",
        link: ("etcl", "/etc"),
        opts: &["-v", "SRC:/etcl/new"],
        refused: None,
        landed: Some("etc/new"),
        terminal: false,
    },
    LinkAttack {
        name: "a file volume through pw -> /etc/gocker-no-such-file",
        link: ("pw", "/etc/gocker-no-such-file"),
        opts: &["-v", "FILE:/pw:ro"],
        refused: None,
        landed: Some("etc/gocker-no-such-file"),
        terminal: false,
    },
    LinkAttack {
        name: "data -> srv/data (an image's own link still works)",
        link: ("data", "srv/data"),
        opts: &["-v", "SRC:/data"],
        refused: None,
        landed: Some("srv/data"),
        terminal: false,
    },
    LinkAttack {
        name: "-w through work -> ../../../tmp",
        link: ("work", "../../../tmp"),
        opts: &["-w", "/work/inside"],
        refused: None,
        landed: Some("tmp/inside"),
        terminal: false,
    },
];

#[test]
fn rootfs_symlinks_never_lead_out() {
    let test = "rootfs_symlinks_never_lead_out";
    if !need_root(test) {
        return;
    }
    let script_tool = if LINK_ATTACKS.iter().any(|a| a.terminal) {
        tool("script", test)
    } else {
        None
    };
    let src = TempDir::new("src");
    std::fs::write(src.path().join("from-the-host"), "volume\n").expect("write volume file");
    let file = src.path().join("from-the-host");
    let work = TempDir::new("links");
    let mut failures = Vec::new();
    for a in LINK_ATTACKS {
        if a.terminal && script_tool.is_none() {
            continue;
        }
        let rootfs = busybox_rootfs();
        let link = rootfs.path().join(a.link.0);
        let _ = std::fs::remove_dir_all(&link);
        let _ = std::fs::remove_file(&link);
        symlink(a.link.1, &link).expect("make the hostile link");
        let mut opts: Vec<String> = a
            .opts
            .iter()
            .map(|o| {
                o.replace("SRC", &src.path().display().to_string())
                    .replace("FILE", &file.display().to_string())
            })
            .collect();
        opts.extend(["/bin/busybox".into(), "true".into()]);
        // What lands is looked for in the rootfs: written into directly (--rootfs-rw).
        if a.landed.is_some() {
            opts.insert(0, "--rootfs-rw".into());
        }
        let opts: Vec<&str> = opts.iter().map(String::as_str).collect();
        let script = work.path().join("link.sh");
        emit_to(&rootfs_args(rootfs.path(), &opts), &script);
        let out = if a.terminal {
            // -t needs a terminal on stdin: script(1) gives it one.
            let mut c = Command::new(script_tool.as_ref().unwrap());
            c.args(["-qec"])
                .arg(format!("sh {}", script.display()))
                .arg("/dev/null");
            run_checked(c, a.name)
        } else {
            run_checked(sh(&script), a.name)
        };
        let said = format!("{}{}", stdout(&out), stderr(&out));
        match a.refused {
            Some(why) => {
                if out.status.code() != Some(125) || !said.contains(why) {
                    failures.push(format!(
                        "{}: want 125 saying {why:?}, got {:?}: {said}",
                        a.name,
                        out.status.code()
                    ));
                }
            }
            None => {
                let landed = rootfs.path().join(a.landed.unwrap());
                if out.status.code() != Some(0) || !landed.exists() {
                    failures.push(format!(
                        "{}: want exit 0 and {} made, got {:?} ({}): {said}",
                        a.name,
                        landed.display(),
                        out.status.code(),
                        landed.exists()
                    ));
                }
            }
        }
    }
    assert!(
        !Path::new("/etc/new").exists() && !Path::new("/etc/gocker-no-such-file").exists(),
        "a volume target was made on the host"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The shells the script must run under.
fn shells(test: &str) -> Vec<Vec<OsString>> {
    let mut v = Vec::new();
    for prefix in [&["dash"][..], &["bash"], &["busybox", "sh"]] {
        if let Some(p) = tool(prefix[0], test) {
            let mut argv = vec![p.into_os_string()];
            argv.extend(prefix[1..].iter().map(OsString::from));
            v.push(argv);
        }
    }
    v
}

#[test]
fn only_stdin_stdout_and_stderr_reach_the_command() {
    let test = "only_stdin_stdout_and_stderr_reach_the_command";
    if !need_root(test) {
        return;
    }
    let rootfs = busybox_rootfs();
    let work = TempDir::new("fds");
    let secret = work.path().join("secret");
    std::fs::write(&secret, "host secret\n").expect("write secret");
    let script = work.path().join("fds.sh");
    // The command, PID 1, names each descriptor above 2 it holds (stat, which opens
    // none, of /proc/1/fdinfo/N).
    let probe = "n=3; while [ $n -lt 1024 ]; do [ ! -e /proc/1/fdinfo/$n ] || echo $n; n=$((n + 1)); done; echo checked";
    emit_to(
        &rootfs_args(rootfs.path(), &["/bin/sh", "-c", probe]),
        &script,
    );
    for shell in shells(test) {
        // bash opens them (dash cannot name 10 and above): 3..12 on the secret, on the
        // host's / and on a directory of the host's, then runs the script's shell.
        let mut c = Command::new("bash");
        c.arg("-c")
            .arg(
                "exec 3<\"$1\" 4</ 5<\"$1\" 6</etc 7<\"$1\" 8</ 9</ 10<\"$1\" 11</ 12</; shift; exec \"$@\"",
            )
            .arg("bash")
            .arg(&secret)
            .args(&shell)
            .arg(&script);
        let out = run_checked(c, "a script given descriptors");
        assert_eq!(out.status.code(), Some(0), "{shell:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "checked\n", "under {shell:?}");
    }
}

/// A rootfs whose every busybox link (umount, env, setpriv, mkdir, start-stop-daemon,
/// sh...) is a trap: a script that would mark the rootfs and the host if it ran.
#[test]
fn the_images_own_tools_never_run() {
    let test = "the_images_own_tools_never_run";
    if !need_root(test) {
        return;
    }
    let rootfs = busybox_rootfs();
    let work = TempDir::new("traps");
    let host_marks = work.path().join("marks");
    std::fs::create_dir(&host_marks).expect("make the marks directory");
    let mut traps = 0;
    for dir in ["bin", "sbin", "usr/bin", "usr/sbin"] {
        let Ok(rd) = std::fs::read_dir(rootfs.path().join(dir)) else {
            continue;
        };
        for e in rd.flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if name == "busybox" || !path.is_symlink() {
                continue;
            }
            std::fs::remove_file(&path).expect("remove applet link");
            std::fs::write(
                &path,
                format!(
                    "#!/bin/busybox sh\n/bin/busybox touch /gocker-trap-{name} {}/{name} /proc/1/root/gocker-trap-{name} 2>/dev/null\nexit 0\n",
                    host_marks.display()
                ),
            )
            .expect("write trap");
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .expect("chmod trap");
            traps += 1;
        }
    }
    assert!(traps > 100, "only {traps} applet links replaced");
    let script = work.path().join("traps.sh");
    emit_to(
        &rootfs_args(
            rootfs.path(),
            &[
                "--pids-limit",
                "20",
                "-w",
                "/made/here",
                "/bin/busybox",
                "echo",
                "works",
            ],
        ),
        &script,
    );
    for shell in shells(test) {
        let mut c = Command::new(&shell[0]);
        c.args(&shell[1..]).arg(&script);
        let out = run_checked(c, "a script for a trapped image");
        assert_eq!(out.status.code(), Some(0), "{shell:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "works\n", "under {shell:?}");
    }
    let marks: Vec<_> = std::fs::read_dir(&host_marks)
        .expect("read marks")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(marks.is_empty(), "the image's programs ran: {marks:?}");
    let in_root: Vec<_> = std::fs::read_dir(rootfs.path())
        .expect("read rootfs")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("gocker-trap-"))
        .collect();
    assert!(in_root.is_empty(), "the image's programs ran: {in_root:?}");
    assert!(
        !std::fs::read_dir("/")
            .expect("read /")
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("gocker-trap-")),
        "the image's programs wrote to the host's /"
    );
}

/// A busybox the script cannot trust after pivot_root is refused before anything is
/// made: one that is dynamically linked (it would load the image's ld.so), one whose sh
/// does not prefer its applets (it would run the image's umount), one without an applet.
#[test]
fn an_unfit_busybox_is_refused() {
    let test = "an_unfit_busybox_is_refused";
    if !need_root(test) {
        return;
    }
    let (Some(real), Some(cat), Some(dash)) =
        (tool("busybox", test), tool("cat", test), tool("dash", test))
    else {
        return;
    };
    let rootfs = busybox_rootfs();
    let work = TempDir::new("unfit");
    let bin = work.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir bin");
    let script = work.path().join("unfit.sh");
    emit_to(
        &rootfs_args(rootfs.path(), &["/bin/busybox", "true"]),
        &script,
    );
    let list = format!("{} --list", real.display());
    let cases = [
        (
            // Its sh (and everything else) is the dynamically linked cat.
            format!(
                "[ \"$1\" = --list ] && exec {list}\nexec {} /proc/self/maps\n",
                cat.display()
            ),
            "is dynamically linked",
        ),
        (
            // Its sh is dash, which looks every name up on PATH.
            format!(
                "[ \"$1\" = --list ] && exec {list}\nshift\nexec {} \"$@\"\n",
                dash.display()
            ),
            "does not run its own applets",
        ),
        (
            format!(
                "[ \"$1\" = --list ] && {{ {list} | grep -vx start-stop-daemon; exit; }}\nexec {} \"$@\"\n",
                real.display()
            ),
            "has no start-stop-daemon applet",
        ),
    ];
    for (body, why) in cases {
        let fake = bin.join("busybox");
        std::fs::write(&fake, format!("#!/bin/sh\n{body}")).expect("write fake busybox");
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut c = sh(&script);
        c.env("PATH", path);
        let out = run_checked(c, why);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(125), "{why}: {err}");
        assert!(
            err.contains(why) && err.contains("busybox-static"),
            "{why}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

/// The processes in the cgroups of script `owner` (its container's, by its pid).
fn container_processes(owner: u32) -> Vec<String> {
    cgroups_of(owner)
        .iter()
        .flat_map(|d| {
            std::fs::read_to_string(d.join("cgroup.procs"))
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn sigkill_of_the_top_shell_kills_the_container() {
    let test = "sigkill_of_the_top_shell_kills_the_container";
    if !need_root(test) {
        return;
    }
    let rootfs = busybox_rootfs();
    let work = TempDir::new("kill");
    let script = work.path().join("kill.sh");
    // A container that forks too: a shell waiting on a sleep.
    emit_to(
        &rootfs_args(
            rootfs.path(),
            &[
                "--pids-limit",
                "10",
                "/bin/sh",
                "-c",
                "sleep 1000; echo never",
            ],
        ),
        &script,
    );
    let mut top = sh(&script)
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn the script");
    let owner = top.id();
    wait_for("the container's shell and its sleep", || {
        (container_processes(owner).len() >= 2).then_some(())
    });
    top.kill().expect("SIGKILL the top shell");
    top.wait().expect("reap the top shell");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !container_processes(owner).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the container outlived its script's top shell: {:?}",
            container_processes(owner)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // What no trap can remove: the cgroup, now empty, which the next gocker run sweeps
    // (its owner is gone); this test removes it itself.
    let left = cgroups_of(owner);
    assert!(
        !left.is_empty(),
        "the cgroup went away: the test saw nothing"
    );
    for dir in left {
        std::fs::remove_dir(&dir).expect("remove the empty cgroup");
    }
}

#[test]
fn terminal_without_a_terminal_is_refused() {
    let test = "terminal_without_a_terminal_is_refused";
    if !need_root(test) {
        return;
    }
    let rootfs = busybox_rootfs();
    let work = TempDir::new("notty");
    let script = work.path().join("tty.sh");
    emit_to(
        &rootfs_args(rootfs.path(), &["-it", "/bin/busybox", "cat"]),
        &script,
    );
    let out = run_checked(sh(&script), "-t with stdin from /dev/null");
    assert_eq!(out.status.code(), Some(125));
    let err = stderr(&out);
    assert!(err.contains("the input device is not a TTY"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// The function `name` of a rendered script, as text.
fn function(script: &str, name: &str) -> String {
    let start = script
        .find(&format!("\n{name}() {{\n"))
        .unwrap_or_else(|| panic!("no {name}() in the script"));
    let end = start + script[start..].find("\n}\n").expect("end of function") + 3;
    script[start..end].to_string()
}

#[test]
fn initramfs_root_is_detected_from_the_mount_table() {
    let work = TempDir::new("initramfs");
    let script = work.path().join("s.sh");
    emit_to(&os(&["/bin/sh"]), &script);
    let text = std::fs::read_to_string(&script).expect("read script");
    let f = function(&text, "root_is_initramfs");
    let cases = [
        ("rootfs / rootfs rw 0 0\nproc /proc proc rw 0 0\n", true),
        // A root mounted over the initramfs (every host that switched root).
        ("rootfs / rootfs rw 0 0\n/dev/vda1 / ext4 rw 0 0\n", false),
        ("/dev/vda1 / ext4 rw 0 0\ntmpfs /run tmpfs rw 0 0\n", false),
        ("", false),
    ];
    for (mounts, want) in cases {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("{f}\nroot_is_initramfs"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(mounts.as_bytes())?;
                c.wait()
            })
            .expect("run root_is_initramfs");
        assert_eq!(out.success(), want, "{mounts:?}");
    }
    // This host is not one.
    let host = std::fs::File::open("/proc/self/mounts").expect("open mounts");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{f}\nroot_is_initramfs"))
        .stdin(host)
        .status()
        .expect("run root_is_initramfs");
    assert!(!out.success());
}

/// The no-pivot way (mount --move onto /, chroot) that a host on its initramfs takes,
/// forced on this host: the container is the same, and the host unchanged.
#[test]
fn the_no_pivot_way_builds_the_same_container() {
    let test = "the_no_pivot_way_builds_the_same_container";
    if !need_root(test) {
        return;
    }
    let rootfs = busybox_rootfs();
    let work = TempDir::new("nopivot");
    let script = work.path().join("np.sh");
    let probe = "ls /; pwd; cat /proc/self/cgroup | grep -c /gocker/; ls /proc/$$/fd; hostname";
    emit_to(
        &rootfs_args(
            rootfs.path(),
            &["--pids-limit", "20", "-w", "/w", "/bin/sh", "-c", probe],
        ),
        &script,
    );
    let text = std::fs::read_to_string(&script).expect("read script");
    let pivot = run_checked(sh(&script), "the script");
    let forced = text.replace(
        "if root_is_initramfs </proc/self/mounts; then",
        "if :; then",
    );
    assert_ne!(forced, text, "the initramfs test is not where it was");
    std::fs::write(&script, forced).expect("write forced script");
    let no_pivot = run_checked(sh(&script), "the forced no-pivot script");
    assert_eq!(no_pivot.status.code(), Some(0), "{}", stderr(&no_pivot));
    assert_eq!(stdout(&no_pivot), stdout(&pivot));
    assert!(
        stderr(&no_pivot).contains("moving the new root onto / and chroot instead"),
        "{}",
        stderr(&no_pivot)
    );
}

/// Debian's busybox runs its own applet for a name such as `sh` when its env, setpriv or
/// chroot execs it: the script's last hop must not. The image's `sh` here is not
/// busybox, and the command's argv[0] stays the bare name it was given.
#[test]
fn a_bare_applet_name_runs_the_images_program() {
    let test = "a_bare_applet_name_runs_the_images_program";
    if !need_root(test) {
        return;
    }
    let rootfs = busybox_rootfs();
    let sh_path = rootfs.path().join("bin/sh");
    std::fs::remove_file(&sh_path).expect("remove the image's sh link");
    std::fs::write(
        &sh_path,
        "#!/bin/busybox sh\necho \"the image's sh, argv[0] $(/bin/busybox tr '\\0' ' ' </proc/self/cmdline)\"\n",
    )
    .expect("write the image's sh");
    std::fs::set_permissions(
        &sh_path,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let work = TempDir::new("applet");
    let script = work.path().join("applet.sh");
    emit_to(&rootfs_args(rootfs.path(), &["sh", "-x", "A=B"]), &script);
    let native = gocker()
        .arg("run")
        .args(rootfs_args(rootfs.path(), &["sh", "-x", "A=B"]))
        .output()
        .expect("gocker run");
    for shell in shells(test) {
        let mut c = Command::new(&shell[0]);
        c.args(&shell[1..]).arg(&script);
        let out = run_checked(c, "a script whose command is sh");
        assert_eq!(out.status.code(), Some(0), "{shell:?}: {}", stderr(&out));
        assert!(
            stdout(&out).starts_with("the image's sh"),
            "under {shell:?}: {}",
            stdout(&out)
        );
        assert_eq!(stdout(&out), stdout(&native), "under {shell:?}");
    }
    // argv[0] is the name given, not the file found.
    let cmd = ["cat", "/proc/self/cmdline"];
    emit_to(&rootfs_args(rootfs.path(), &cmd), &script);
    for shell in shells(test) {
        let mut c = Command::new(&shell[0]);
        c.args(&shell[1..]).arg(&script);
        let out = run_checked(c, "a script whose command is cat");
        assert_eq!(stdout(&out), "cat\0/proc/self/cmdline\0", "under {shell:?}");
    }
}

/// The host view's staging directory goes on every way out a shell can catch: here
/// SIGTERM to the top shell (which, not forwarding it, acts once the container is done).
#[test]
fn the_staging_directory_goes_on_sigterm() {
    let test = "the_staging_directory_goes_on_sigterm";
    if !need_root(test) {
        return;
    }
    let work = TempDir::new("term");
    let script = work.path().join("term.sh");
    emit_to(&os(&["/bin/sh", "-c", "sleep 1"]), &script);
    let tmpdir = TempDir::new("tmpdir");
    let mut top = sh(&script)
        .env("TMPDIR", tmpdir.path())
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn the script");
    wait_for("the staging directory", || {
        std::fs::read_dir(tmpdir.path())
            .ok()?
            .next()
            .is_some()
            .then_some(())
    });
    std::thread::sleep(Duration::from_millis(200));
    let sent = Command::new("kill")
        .args(["-TERM", &top.id().to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success());
    let status = top.wait().expect("wait for the script");
    assert_eq!(status.code(), Some(143));
    let left: Vec<_> = std::fs::read_dir(tmpdir.path())
        .expect("read TMPDIR")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left {left:?}");
}

/// A command that cannot run fails as under gocker run, with the same status and words:
/// not found, a directory, not executable, neither ELF nor #! (execve's ENOEXEC, which
/// busybox's execvp would hand to the image's /bin/sh instead).
#[test]
fn command_failures_match_run() {
    let test = "command_failures_match_run";
    if !need_root(test) {
        return;
    }
    let rootfs = busybox_rootfs();
    let r = rootfs.path();
    let exe = |p: &Path, text: &str, mode: u32| {
        std::fs::write(p, text).expect("write file");
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(mode))
            .expect("chmod");
    };
    exe(&r.join("no-shebang"), "echo ran\n", 0o755);
    exe(&r.join("empty"), "", 0o755);
    exe(&r.join("not-exec"), "#!/bin/sh\necho ran\n", 0o644);
    exe(
        &r.join("bin/not-exec-on-path"),
        "#!/bin/sh\necho ran\n",
        0o644,
    );
    std::fs::create_dir(r.join("bin/a-dir")).expect("mkdir");
    let work = TempDir::new("fails");
    let script = work.path().join("fail.sh");
    for cmd in [
        "/no-shebang",
        "/empty",
        "/not-exec",
        "not-exec-on-path",
        "a-dir",
        "/etc",
        "no-such-command",
        "/no/such/file",
    ] {
        let native = gocker()
            .arg("run")
            .args(rootfs_args(r, &[cmd]))
            .output()
            .expect("gocker run");
        emit_to(&rootfs_args(r, &[cmd]), &script);
        let out = run_checked(sh(&script), cmd);
        assert_eq!(
            out.status.code(),
            native.status.code(),
            "{cmd}: {}",
            stderr(&out)
        );
        assert!(matches!(out.status.code(), Some(126 | 127)), "{cmd}");
        let said = stderr(&out);
        let want = stderr(&native);
        assert_eq!(
            said.strip_prefix("gocker script: "),
            want.strip_prefix("gocker: "),
            "{cmd}"
        );
        assert!(!stdout(&out).contains("ran"), "{cmd} ran");
    }
}

/// A caller holding inheritable capabilities (here CAP_SYS_ADMIN and CAP_SYS_MODULE, as
/// `setpriv --inh-caps` leaves them) gives the container none of them: its sets end as
/// without them, Docker's default bounding set, inheritable and ambient empty.
#[test]
fn the_callers_inheritable_capabilities_do_not_reach_the_container() {
    let test = "the_callers_inheritable_capabilities_do_not_reach_the_container";
    if !need_root(test) {
        return;
    }
    let Some(setpriv) = tool("setpriv", test) else {
        return;
    };
    let rootfs = busybox_rootfs();
    let work = TempDir::new("inh");
    let script = work.path().join("caps.sh");
    emit_to(
        &rootfs_args(
            rootfs.path(),
            &["/bin/busybox", "grep", "^Cap", "/proc/self/status"],
        ),
        &script,
    );
    let plain = run_checked(sh(&script), "the script");
    let mut c = Command::new(setpriv);
    c.args(["--inh-caps", "+sys_admin,+sys_module", "--", "sh"])
        .arg(&script);
    let given = run_checked(c, "the script with inheritable capabilities");
    assert_eq!(given.status.code(), Some(0), "{}", stderr(&given));
    assert_eq!(stdout(&given), stdout(&plain));
    assert!(
        stdout(&given).contains("CapInh:\t0000000000000000\n")
            && stdout(&given).contains("CapAmb:\t0000000000000000\n")
            && stdout(&given).contains("CapPrm:\t00000000a80425fb\n"),
        "{}",
        stdout(&given)
    );
}

#[test]
fn read_only_volumes_are_read_only_all_the_way_down() {
    let test = "read_only_volumes_are_read_only_all_the_way_down";
    if !need_root(test) {
        return;
    }
    let rootfs = busybox_rootfs();
    let work = TempDir::new("ro-down");
    let src = work.path().join("src");
    // Mounts below the volume's source, one with a name mountinfo escapes (\040): a
    // remount of the bind alone never reached them. They are made in a mount namespace
    // of the test's own, so that no other test sees the host's mount table change.
    let subs = [src.join("sub"), src.join("sub dir")];
    for s in &subs {
        std::fs::create_dir_all(s).expect("mkdir");
    }
    let script = work.path().join("ro.sh");
    let vol = format!("{}:/v:ro", src.display());
    let probe = "for d in /v /v/sub '/v/sub dir'; do touch \"$d/x\" 2>/dev/null && echo \"$d writable\"; done; echo checked";
    emit_to(
        &rootfs_args(rootfs.path(), &["-v", &vol, "/bin/sh", "-c", probe]),
        &script,
    );
    let mut c = Command::new("unshare");
    c.args(["-m", "--propagation", "private", "sh", "-c"])
        .arg("mount -t tmpfs gocker-test \"$1\" && mount -t tmpfs gocker-test \"$2\" && exec sh \"$3\"")
        .arg("sh")
        .args(&subs)
        .arg(&script);
    let out = run_checked(c, "a script with a :ro volume over submounts");
    assert_eq!(stdout(&out), "checked\n", "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(0));
    for s in &subs {
        assert!(!s.join("x").exists(), "{} was written", s.display());
    }
}

#[test]
fn a_root_left_stacked_on_slash_is_refused() {
    let test = "a_root_left_stacked_on_slash_is_refused";
    if !need_root(test) {
        return;
    }
    let rootfs = busybox_rootfs();
    let work = TempDir::new("stacked");
    let script = work.path().join("stacked.sh");
    emit_to(&rootfs_args(rootfs.path(), &["/bin/echo", "ran"]), &script);
    // The detach of the old root, as if it had taken off something else: the host's root
    // stays stacked on the container's /, where /.. leads.
    let text = std::fs::read_to_string(&script).expect("read script");
    assert_eq!(text.matches("\n\tumount -l .\n").count(), 1, "one detach");
    std::fs::write(
        &script,
        text.replace("\n\tumount -l .\n", "\n\t: umount -l .\n"),
    )
    .expect("write script");
    let out = run_checked(sh(&script), "a script whose old root stays");
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "the command ran: {}", stdout(&out));
    assert!(
        stderr(&out).contains("/.. is not the container's root"),
        "{}",
        stderr(&out)
    );
}
