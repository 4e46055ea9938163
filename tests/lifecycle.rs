//! End-to-end tests of issue 15 (containers that outlive the command): the default root's
//! writable places, the copy-on-write root over `--rootfs`, and the completions and man
//! page generated from the clap definitions. The container tests need root; in CI (which
//! is root) they must run, never skip.

mod common;

use common::*;

/// The default root (no `--rootfs`) behaves like a small distribution: `/tmp` and `/root`
/// exist, are writable and private to the container, and the host's `/etc` stays read-only.
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
