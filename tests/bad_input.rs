//! Bad input: each case gets a clear one-line error, the right exit code, and leaves no
//! partial container behind. `emit-script` refuses the same inputs the same way.

mod common;

use common::*;
use std::process::Output;

fn one_line_error(o: &Output, code: i32, needle: &str, case: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "{case}: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{case}: one line: {err:?}"
    );
    assert!(err.starts_with("gocker: "), "{case}: {err:?}");
    assert!(
        err.to_lowercase().contains(&needle.to_lowercase()),
        "{case}: expected {needle:?} in {err:?}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{case}: {err}"
    );
}

/// (args after `run`, the text the error must contain). All refused with 125 before
/// anything is created, so they need no root and behave the same for emit-script.
fn spec_refusals(rootfs: &str, file: &str, dir: &str) -> Vec<(Vec<String>, &'static str)> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let r = |extra: &[&str]| {
        let mut v = s(&["--rootfs", rootfs]);
        v.extend(s(extra));
        v
    };
    vec![
        (
            s(&["--rootfs", "/no/such/gocker/rootfs", "sh"]),
            "/no/such/gocker/rootfs",
        ),
        (s(&["--rootfs", file, "sh"]), "not a directory"),
        (r(&["--cpus", "0", "sh"]), "--cpus"),
        (r(&["--cpus", "-1", "sh"]), "--cpus"),
        (r(&["--cpus", "lots", "sh"]), "not a number"),
        (r(&["--cpus", "100000", "sh"]), "cpu"),
        (r(&["-m", "lots", "sh"]), "not a size"),
        (r(&["-m", "0", "sh"]), "minimum"),
        (r(&["-m", "1k", "sh"]), "minimum"),
        (r(&["-m", "100000g", "sh"]), "host"),
        (r(&["--pids-limit", "0", "sh"]), "--pids-limit"),
        (r(&["-v", "/only-one-part", "sh"]), "-v"),
        (r(&["-v", "relative:/data", "sh"]), "absolute"),
        (r(&["-v", &format!("{dir}:relative"), "sh"]), "absolute"),
        (
            r(&["-v", "/no/such/gocker/src:/data", "sh"]),
            "/no/such/gocker/src",
        ),
        (r(&["-v", &format!("{dir}:/data:rx"), "sh"]), "-v"),
        (r(&["-e", "=value", "sh"]), "-e"),
        (r(&["-e", "A B=1", "sh"]), "-e"),
        (r(&["--hostname", "bad_name!", "sh"]), "hostname"),
        (r(&["--hostname", "", "sh"]), "hostname"),
        (r(&["-w", "relative", "sh"]), "absolute"),
        (r(&[""]), "empty"),
    ]
}

/// Every path under `dir`, with its kind: what a refused run must not change.
fn tree(dir: &std::path::Path) -> Vec<String> {
    let o = std::process::Command::new("find")
        .arg(dir)
        .args(["-printf", "%y %p\\n"])
        .output()
        .expect("run find");
    let mut v: Vec<String> = stdout(&o).lines().map(String::from).collect();
    v.sort();
    v
}

#[test]
fn spec_level_refusals_for_run_and_emit_script() {
    let rootfs = TempDir::new("badroot");
    let dir = TempDir::new("vol");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    // A rootfs with the shape of one, so that a run that went too far would make its
    // workdir, volume mount points or /dev in it.
    for d in ["bin", "etc", "proc", "dev", "tmp"] {
        std::fs::create_dir(rootfs.path().join(d)).unwrap();
    }
    let tmpdir = TempDir::new("tmpdir");
    let cases = spec_refusals(
        rootfs.path().to_str().unwrap(),
        file.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    );
    let files_before = (tree(rootfs.path()), tree(dir.path()));
    let mounts = mountinfo();
    for (args, needle) in cases {
        for sub in ["run", "emit-script"] {
            let child = gocker()
                .arg(sub)
                .args(&args)
                .env("TMPDIR", tmpdir.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let pid = child.id();
            let o = child.wait_with_output().unwrap();
            let case = format!("{sub} {args:?}");
            one_line_error(&o, 125, needle, &case);
            assert!(o.stdout.is_empty(), "{case}: printed {:?}", stdout(&o));
            // Refused before anything exists: no cgroup, no mount, no file.
            assert!(
                cgroups_of(pid).is_empty(),
                "{case}: made {:?}",
                cgroups_of(pid)
            );
            assert_eq!(mountinfo(), mounts, "{case}: the host's mounts changed");
            assert_eq!(
                (tree(rootfs.path()), tree(dir.path())),
                files_before,
                "{case}: files changed"
            );
            assert_eq!(
                tree(tmpdir.path()).len(),
                1,
                "{case}: staged {:?}",
                tree(tmpdir.path())
            );
        }
    }
}

#[test]
fn no_command_is_a_usage_error() {
    for sub in ["run", "emit-script"] {
        let o = gocker().args([sub, "--cpus", "1"]).output().unwrap();
        assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
        assert!(stderr(&o).contains("COMMAND"), "{}", stderr(&o));
    }
}

#[test]
fn commands_that_cannot_run_inside_the_rootfs() {
    if !need_root("commands_that_cannot_run_inside_the_rootfs") {
        return;
    }
    let r = busybox_rootfs();
    std::fs::write(r.path().join("not-exec"), "#!/bin/sh\n").unwrap();
    let empty = TempDir::new("emptyroot");
    let cases: Vec<(&std::path::Path, Vec<&str>, i32, &str)> = vec![
        (r.path(), vec!["no-such-command"], 127, "not found"),
        (r.path(), vec!["/no/such/path"], 127, "/no/such/path"),
        (r.path(), vec!["/etc"], 126, "directory"),
        (r.path(), vec!["/not-exec"], 126, "permission denied"),
        (
            r.path(),
            vec!["-m", "64", "/not-exec"],
            126,
            "permission denied",
        ),
        // A rootfs without a shell: the lesson's /bin/sh is simply not there.
        (empty.path(), vec!["/bin/sh"], 127, "/bin/sh"),
        (
            r.path(),
            vec!["-w", "/etc/passwd", "true"],
            125,
            "/etc/passwd",
        ),
    ];
    let mounts = mountinfo();
    for (root, args, code, needle) in cases {
        let child = gocker()
            .arg("run")
            .arg("--rootfs")
            .arg(root)
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let o = child.wait_with_output().unwrap();
        one_line_error(&o, code, needle, &format!("{args:?}"));
        assert!(cgroups_of(pid).is_empty(), "{args:?}: cgroup left");
    }
    assert_eq!(mountinfo(), mounts);
    assert!(!empty.path().join(".pivot_root").exists());
}

#[test]
fn non_root_users_are_told_what_is_needed() {
    let test = "non_root_users_are_told_what_is_needed";
    if !need_root(test) {
        return;
    }
    let Some(setpriv) = tool("setpriv", test) else {
        return;
    };
    let r = busybox_rootfs();
    // nobody may not reach the build directory: a copy of the static binary it can run.
    let bin_dir = TempDir::new("nobody");
    let bin = bin_dir.path().join("gocker");
    std::fs::copy(env!("CARGO_BIN_EXE_gocker"), &bin).unwrap();
    let mounts = mountinfo();
    let before = tree(r.path());
    // setpriv (util-linux) drops to nobody with no capabilities.
    let child = std::process::Command::new(setpriv)
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(&bin)
        .args(["run", "-m", "64", "--rootfs"])
        .arg(r.path())
        .arg("true")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let o = child.wait_with_output().unwrap();
    // The privileges by name, not the word "root" (which the rootfs path holds too).
    one_line_error(
        &o,
        125,
        "gocker run needs root (CAP_SYS_ADMIN",
        "non-root run",
    );
    assert!(
        stderr(&o).contains("euid 65534 is not root"),
        "{}",
        stderr(&o)
    );
    assert!(
        cgroups_of(pid).is_empty(),
        "cgroup made: {:?}",
        cgroups_of(pid)
    );
    assert_eq!(mountinfo(), mounts);
    assert_eq!(tree(r.path()), before);
}
