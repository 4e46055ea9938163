//! Unit tests of the renderer: the canonical scripts, quoting, mount steps.

use super::model::*;
use super::quote::*;
use super::*;
use crate::cgroup::Version;
use crate::frontend::cli::{CgroupArg, RunArgs};
use crate::frontend::cli::{Cli, Command};
use crate::host::HostFacts;
use crate::mounts::HostDir;
use crate::mounts::Mount;
use crate::spec::{DEFAULT_PATH, Root};
use crate::testutil::TempDir;
use clap::Parser;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A host that accepts any limit the generated scripts use, with a fixed environment
/// and a fixed host view, so that renders do not depend on this machine.
fn host() -> HostFacts<'static> {
    HostFacts::known(
        64,
        1 << 40,
        vec![("FROMHOST".into(), "yes".into())],
        vec![
            HostDir::Dir("/usr".into()),
            HostDir::Link("/bin".into(), "usr/bin".into()),
            HostDir::Dir("/etc".into()),
        ],
    )
}

/// Parse an `emit-script` command line as gocker does.
fn parse(args: &[OsString]) -> (Option<CgroupArg>, RunArgs) {
    let mut v: Vec<OsString> = vec!["gocker".into(), "emit-script".into()];
    v.extend(args.iter().cloned());
    match Cli::try_parse_from(crate::frontend::cli::normalize_args(v))
        .unwrap()
        .command
    {
        Command::EmitScript(e) => (e.cgroup, e.run),
        other => panic!("not emit-script: {other:?}"),
    }
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// Render `args` the way `emit` does, with the cgroup version `--cgroup` gives (v1
/// when absent). A `--rootfs` that does not exist here (the lessons' /tmp/busybox) is
/// validated against a temporary directory and then put back, so the canonical
/// scripts render on any machine.
fn render_args(args: &[OsString]) -> String {
    let (cg, mut run) = parse(args);
    let tmp = TempDir::new("render");
    let wanted = run.rootfs.clone();
    if let Some(r) = &wanted
        && !r.is_dir()
    {
        run.rootfs = Some(tmp.path().to_path_buf());
    }
    let mut spec = run.to_spec(&host()).unwrap();
    if let Some(r) = wanted
        && run.rootfs.as_deref() == Some(tmp.path())
    {
        spec.root = match spec.root {
            Root::Overlay(_) => Root::Overlay(r),
            _ => Root::Dir(r),
        };
    }
    let version = match cg {
        Some(CgroupArg::V2) => Version::V2,
        _ => Version::V1,
    };
    render(&spec, version, &run.header_words(&spec, version)).unwrap()
}

fn render_strs(args: &[&str]) -> String {
    render_args(&os(args))
}

/// The shell's reading of one word as `quote_bytes` writes them: bare bytes, '...'
/// segments, \' and "$(printf '\NNN...')". Enough to check the filter round-trips.
fn unquote(word: &str) -> Vec<u8> {
    let b = word.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\'' {
            let end = i + 1 + b[i + 1..].iter().position(|&c| c == b'\'').unwrap();
            out.extend(&b[i + 1..end]);
            i = end + 1;
        } else if b[i..].starts_with(b"\\'") {
            out.push(b'\'');
            i += 2;
        } else if b[i..].starts_with(b"\"$(printf '") {
            let start = i + "\"$(printf '".len();
            let end = start + word[start..].find("')\"").unwrap();
            for oct in word[start..end].split('\\').filter(|s| !s.is_empty()) {
                out.push(u8::from_str_radix(oct, 8).unwrap());
            }
            i = end + "')\"".len();
        } else {
            assert!(
                is_bare(b[i]),
                "unquoted byte {:?} in {word:?}",
                b[i] as char
            );
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// Split a header line into words (no word there holds a space outside quotes).
fn header_words(line: &str) -> Vec<OsString> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                cur.push(c);
            }
            ' ' if !quoted => words.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    words.push(cur);
    words
        .into_iter()
        .filter(|w| !w.is_empty())
        .map(|w| OsString::from_vec(unquote(&w)))
        .collect()
}

use std::os::unix::ffi::OsStringExt;

#[test]
fn quoting_table() {
    let table: &[(&[u8], &str)] = &[
        (b"", "''"),
        (b"/bin/sh", "/bin/sh"),
        (b"KEY=a,b:c@d%e+f", "KEY=a,b:c@d%e+f"),
        (b"a b", "'a b'"),
        (b"it's", "'it'\\''s'"),
        (b"'", "\\'"),
        (b"a\nb", "'a\nb'"),
        (b"$(x)", "'$(x)'"),
        (b"`id`", "'`id`'"),
        (b"\"", "'\"'"),
        (b"*", "'*'"),
        (b"~", "'~'"),
        (b"{#", "'{#'"),
        (b"{{ x }}", "'{{ x }}'"),
        (b"%}", "'%}'"),
        ("héllo".as_bytes(), "'héllo'"),
        (b"x\xffy", "'x'\"$(printf '\\377')\"'y'"),
        (b"\xfe\xff", "\"$(printf '\\376\\377')\""),
    ];
    for (raw, want) in table {
        let got = quote_bytes(raw);
        assert_eq!(&got, want, "quote of {:?}", String::from_utf8_lossy(raw));
        assert_eq!(&unquote(&got), raw, "round trip of {got}");
    }
}

#[test]
fn quoting_round_trips_every_byte() {
    let all: Vec<u8> = (1..=255).collect();
    for chunk in all.chunks(7) {
        assert_eq!(unquote(&quote_bytes(chunk)), chunk);
    }
}

#[test]
fn same_options_same_bytes() {
    let args = [
        "--rootfs",
        "/tmp/busybox",
        "--cpus",
        "1",
        "-m",
        "64",
        "/bin/sh",
    ];
    assert_eq!(render_strs(&args), render_strs(&args));
    // Go-style spelling of the same options: the same script, header included.
    let go = ["-rootfs=/tmp/busybox", "-cpus=1", "-m=64", "/bin/sh"];
    assert_eq!(render_strs(&args), render_strs(&go));
}

/// The lines of `script` without the `# Generated by:` line, which names the options.
fn body(script: &str) -> Vec<&str> {
    script
        .lines()
        .filter(|l| !l.starts_with("# Generated by:"))
        .collect()
}

/// True when `base` is `with` with some lines taken out: `with` only adds.
fn only_adds(base: &[&str], with: &[&str]) -> bool {
    let mut it = with.iter();
    base.iter().all(|b| it.any(|w| w == b))
}

#[test]
fn one_more_option_only_adds_lines() {
    let vol = TempDir::new("vol");
    let v = format!("{}:/data:ro", vol.path().display());
    for rootfs in [&["--rootfs", "/tmp/busybox"][..], &[][..]] {
        for cg in ["v1", "v2"] {
            let mut base = vec!["--cgroup", cg];
            base.extend(rootfs);
            let plain = render_strs(&[&base[..], &["/bin/sh"]].concat());
            for extra in [
                &["--cpus", "1"][..],
                &["-m", "64"],
                &["--pids-limit", "10"],
                &["-e", "A=1"],
                &["-v", &v],
                &["-w", "/work"],
                &["--cpus", "0.5", "-m", "64", "--pids-limit", "10"],
            ] {
                let with = render_strs(&[&base[..], extra, &["/bin/sh"]].concat());
                assert!(
                    only_adds(&body(&plain), &body(&with)),
                    "{extra:?} ({cg}, {rootfs:?}) changed lines:\n{}",
                    changed(&plain, &with)
                );
            }
            // A limit added to another limit only adds, too.
            let cpu = render_strs(&[&base[..], &["--cpus", "1", "/bin/sh"]].concat());
            let cpu_mem =
                render_strs(&[&base[..], &["--cpus", "1", "-m", "64", "/bin/sh"]].concat());
            assert!(only_adds(&body(&cpu), &body(&cpu_mem)));
        }
    }
}

#[test]
fn hostname_changes_only_the_lines_that_name_it() {
    let a = render_strs(&["--rootfs", "/tmp/busybox", "/bin/sh"]);
    let b = render_strs(&["--rootfs", "/tmp/busybox", "--hostname", "box", "/bin/sh"]);
    let (a, b) = (body(&a), body(&b));
    assert_eq!(a.len(), b.len());
    let diff: Vec<_> = a.iter().zip(&b).filter(|(x, y)| x != y).collect();
    assert_eq!(
        diff,
        [
            (&"\thostname gocker", &"\thostname box"),
            (&"\t\tHOSTNAME=gocker \\", &"\t\tHOSTNAME=box \\")
        ]
    );
}

/// For assertion messages: the lines of `b` that `a` lacks and the reverse.
fn changed(a: &str, b: &str) -> String {
    let (a, b) = (body(a), body(b));
    let gone = a
        .iter()
        .filter(|l| !b.contains(l))
        .map(|l| format!("- {l}"));
    let new = b
        .iter()
        .filter(|l| !a.contains(l))
        .map(|l| format!("+ {l}"));
    gone.chain(new).collect::<Vec<_>>().join("\n")
}

#[test]
fn no_limits_no_cgroup_lines() {
    let s = render_strs(&["--rootfs", "/tmp/busybox", "/bin/sh"]);
    assert!(!s.contains("/sys/fs/cgroup"), "{s}");
    assert!(
        !s.contains("--cgroup"),
        "no cgroup version in the header: {s}"
    );
}

#[test]
fn limit_files_are_echoed_verbatim_in_order() {
    let args = ["--cpus", "0.5", "-m", "64", "--pids-limit", "10", "/bin/sh"];
    for (cg, version) in [("v1", Version::V1), ("v2", Version::V2)] {
        let s = render_strs(&[&["--cgroup", cg][..], &args].concat());
        let (_, run) = parse(&os(&args));
        let spec = run.to_spec(&host()).unwrap();
        let mut at = 0;
        for l in cgroup::limit_files(&spec.limits, version) {
            let controllers = cgroup::needed_controllers(&spec.limits);
            let (var, file) = (dir_var(version, l.controller, &controllers), l.file);
            let guard = if l.if_present {
                format!("[ ! -e \"${var}\"/{file} ] || ")
            } else {
                String::new()
            };
            let line = format!(
                "\t{guard}echo {} >\"${var}\"/{file}\n",
                quote_bytes(l.value.as_bytes()),
            );
            let found = s[at..]
                .find(&line)
                .unwrap_or_else(|| panic!("{line:?} in\n{s}"));
            at += found + line.len();
        }
        let dir = match version {
            Version::V1 => "cg_memory=/sys/fs/cgroup/memory/gocker/$id",
            Version::V2 => "cg=/sys/fs/cgroup/gocker/$id",
        };
        assert!(s.contains(dir), "{s}");
    }
    let v1 = render_strs(&[&["--cgroup", "v1"][..], &args].concat());
    assert!(v1.contains("echo 50000 >\"$cg\"/cpu.cfs_quota_us\n"));
    assert!(v1.find("cpu.cfs_quota_us") < v1.find("cpu.cfs_period_us"));
    let v2 = render_strs(&[&["--cgroup", "v2"][..], &args].concat());
    assert!(v2.contains("echo '50000 100000' >\"$cg\"/cpu.max\n"));
    assert!(v2.contains("echo +pids >/sys/fs/cgroup/gocker/cgroup.subtree_control\n"));
}

#[test]
fn mount_words_are_mount_args() {
    let vol = TempDir::new("vol");
    let v = format!("{}:/data:ro", vol.path().display());
    let (_, run) = parse(&os(&["-t", "-v", &v, "/bin/sh"]));
    let spec = run.to_spec(&host()).unwrap();
    let mut n = 0;
    for m in &spec.mounts {
        for c in m.calls() {
            let words: Vec<String> = mount_words(&c)
                .iter()
                .map(|w| match w {
                    Word::Text(t) => t.to_string_lossy().into_owned(),
                    Word::Inside(p) => format!("R{}", p.display()),
                })
                .collect();
            assert_eq!(words, c.mount_args_under("R"));
            n += 1;
        }
    }
    assert!(n > 20);
    // A path that is not UTF-8 keeps its bytes.
    let odd = vol.path().join(OsStr::from_bytes(b"x\xff"));
    std::fs::create_dir(&odd).unwrap();
    let m = Mount::volume(odd.clone(), "/data".into(), true, true);
    let words = mount_words(&m.calls()[0]);
    assert_eq!(words[1], Word::Text(odd.into_os_string()));
    assert_eq!(words[2], Word::Inside("/data".into()));
}

#[test]
fn container_paths_are_found_inside_the_root_never_joined() {
    let vol = TempDir::new("vol");
    let v = format!("{}:/data:ro", vol.path().display());
    for args in [
        &[
            "--rootfs",
            "/tmp/busybox",
            "-t",
            "-v",
            &v,
            "-w",
            "/w",
            "/bin/sh",
        ][..],
        &["-v", &v, "/bin/sh"],
    ] {
        let s = render_strs(args);
        // A path string under "$root" would follow the image's symlinks on the host.
        assert!(!s.contains("\"$root\"/"), "{s}");
        assert!(!s.contains("\"$root\"'"), "{s}");
        // Every use of $t follows, in the same paragraph, a function that found it.
        let mut found = false;
        for line in s.lines() {
            let l = line.trim_start();
            if l.is_empty() {
                found = false;
            } else if ["in_root ", "fs_target ", "volume_target ", "new_entry "]
                .iter()
                .any(|f| l.starts_with(f))
            {
                found = true;
            } else if l.contains("\"$t\"") && !l.starts_with('#') {
                assert!(found, "{line:?} uses $t that nothing found");
            }
        }
        assert!(s.contains("\tfs_target /proc\n"), "{s}");
        assert!(s.contains("\tvolume_target /data\n"), "{s}");
    }
}

#[test]
fn the_command_is_looked_up_on_the_containers_path() {
    let s = render_strs(&["--rootfs", "/tmp/busybox", "/bin/sh"]);
    assert!(
        s.contains(&format!("\tfind_command \"$1\" {DEFAULT_PATH}\n")),
        "{s}"
    );
    let s = render_strs(&["--rootfs", "/tmp/busybox", "-e", "PATH=/opt/x y", "sh"]);
    assert!(s.contains("\tfind_command \"$1\" '/opt/x y'\n"), "{s}");
}

#[test]
fn hostile_values_stay_data() {
    let hostile = [
        "$(touch /tmp/pwned)",
        "`touch /tmp/pwned`",
        "'",
        "\"",
        "*",
        "a\nb",
        "",
        "{#",
        "{{",
        "%}",
        "{% endfor %}",
        "héllo",
        "a b",
    ];
    let mut args = vec!["--rootfs", "/tmp/busybox", "-e", "X=$(id)\n'", "printf"];
    args.extend(hostile);
    let s = render_strs(&args);
    let argv = hostile.iter().map(|h| quote_bytes(h.as_bytes()));
    let want = format!("\t\tprintf {}\n", argv.collect::<Vec<_>>().join(" "));
    assert!(s.contains(&want), "{want}\nnot in\n{s}");
    assert!(s.contains("\t\t'X=$(id)\n'\\' \\\n"), "{s}");
    // The header keeps hostile arguments inside comments: no line of it is code.
    let header_end = s.find("\nset -eu\n").unwrap();
    for l in s[..header_end].lines() {
        assert!(l.starts_with('#'), "header line {l:?} is not a comment");
    }
}

#[test]
fn header_reproduces_the_script() {
    let vol = TempDir::new("vol");
    let v = format!("{}:/data", vol.path().display());
    let args = [
        "-it",
        "-rootfs=/tmp/busybox",
        "-cpus=0.5",
        "--cgroup=v2",
        "-e",
        "K=a b",
        "-v",
        &v,
        "--hostname",
        "box",
        "-w",
        "/w",
        "--",
        "-weird",
        "arg",
    ];
    let s = render_strs(&args);
    let line = s.lines().next().unwrap();
    let rest = line
        .strip_prefix("# Generated by: gocker emit-script ")
        .unwrap();
    assert_eq!(render_args(&header_words(rest)), s);
}

#[test]
fn generated_scripts_are_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("generated");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension() != Some(OsStr::new("sh")) || path.ends_with("regenerate.sh") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("# Generated by: gocker emit-script "))
            .unwrap_or_else(|| panic!("{} has no '# Generated by:' line", path.display()));
        // Lesson-mode scripts are lesson.rs's, Chinese ones zh.rs's (over this rendering);
        // tests/script.rs checks every script.
        if line.starts_with("--lesson") || line.starts_with("--lang") {
            continue;
        }
        let fresh = render_args(&header_words(line));
        assert!(
            fresh == text,
            "{} is stale: regenerate it with `sh generated/regenerate.sh`\n{}",
            path.display(),
            changed(&text, &fresh)
        );
        n += 1;
    }
    assert!(
        n >= 4,
        "expected the canonical scripts in {}",
        dir.display()
    );
}

#[test]
fn the_spec_decides_no_new_privs_and_rlimits_are_refused_not_dropped() {
    let (_, run) = parse(&os(&["/bin/true"]));
    let mut spec = run.to_spec(&host()).unwrap();
    let with = render(&spec, Version::V2, &[]).unwrap();
    assert!(with.contains(" --no-new-privs -- \\\n"), "{with}");
    spec.no_new_privs = false;
    let without = render(&spec, Version::V2, &[]).unwrap();
    assert!(!without.contains(" --no-new-privs -- "), "{without}");
    spec.rlimits.push(crate::spec::Rlimit {
        resource: libc::RLIMIT_NOFILE,
        soft: 1024,
        hard: 1024,
    });
    let e = render(&spec, Version::V2, &[]).expect_err("rlimits have no host tool here");
    assert_eq!(crate::error::exit_code_of(&e), 125);
    assert!(format!("{e}").contains("rlimits"), "{e}");
}
