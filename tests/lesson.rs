//! End-to-end tests of `gocker emit-script --lesson`, the script of lesson 18 only: it fits
//! its line budget, every lesson identifier its comments (and the full script's) cite is in
//! the seed lesson, the Chinese rendering has the English one's code byte for byte, it
//! passes shellcheck, and a table of probes gives the same output through `gocker run` and
//! through the lesson script under dash, bash and busybox sh, with nothing left behind.
//!
//! The seed lesson is read from `../shared/seed/` beside the repository; a test that needs
//! it fails when it is missing, unless `GOCKER_SKIP=feature:seed-lesson` asks to skip.

mod common;

use common::*;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The lesson's command line (`gocker run -it -rootfs=/tmp/busybox -cpus=1 /bin/sh`).
const LESSON_ARGS: &[&str] = &["-it", "-rootfs=/tmp/busybox", "-cpus=1", "/bin/sh"];

/// The most lines of code the lesson's own container may take: one screen.
const BUDGET: usize = 60;

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// `gocker emit-script ARGS`, its stdout; panics when it fails.
fn emit(args: &[OsString]) -> String {
    let out = gocker()
        .arg("emit-script")
        .args(args)
        .output()
        .expect("run gocker emit-script");
    assert!(
        out.status.success(),
        "emit-script {args:?} failed: {}",
        stderr(&out)
    );
    stdout(&out)
}

/// The lesson's arguments with its /tmp/busybox replaced by `root`, which exists.
fn lesson_args(root: &Path, extra: &[&str]) -> Vec<OsString> {
    let mut v = os(extra);
    for a in LESSON_ARGS {
        v.push(match *a {
            "-rootfs=/tmp/busybox" => format!("-rootfs={}", root.display()).into(),
            a => a.into(),
        });
    }
    v
}

/// The lines that are code: not empty, not a comment.
fn code_lines(script: &str) -> Vec<&str> {
    script
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect()
}

#[test]
fn the_lessons_container_fits_one_screen() {
    let root = TempDir::new("budget");
    for cg in ["v1", "v2"] {
        for lang in ["en", "zh"] {
            let s = emit(&lesson_args(
                root.path(),
                &["--lesson", "--lang", lang, "--cgroup", cg],
            ));
            let n = code_lines(&s).len();
            assert!(
                n <= BUDGET,
                "{cg} {lang}: {n} lines of code, more than {BUDGET}:\n{s}"
            );
            // Its steps, each there once the lesson's way.
            for step in [
                "unshare --mount --uts --ipc --pid --net --propagation private",
                "mount --rbind . .",
                "pivot_root . .",
                "umount -l .",
                "mount -t proc -o nosuid,nodev,noexec proc /proc",
                "hostname lagoudocker",
                "exec \"$@\"",
                "echo 0 >\"$cg\"/cgroup.procs",
            ] {
                let n = code_lines(&s).iter().filter(|l| l.contains(step)).count();
                assert_eq!(n, 1, "{cg} {lang}: {step:?} in\n{s}");
            }
        }
    }
}

#[test]
fn lesson_mode_refuses_what_the_lesson_lacks() {
    let root = TempDir::new("refuse");
    let r = root.path().to_str().unwrap();
    for extra in [
        &["-e", "A=1"][..],
        &["-w", "/w"],
        &["--pids-limit", "5"],
        &["-v", "/tmp:/data"],
    ] {
        let out = gocker()
            .args(["emit-script", "--lesson", "--cgroup", "v1", "--rootfs", r])
            .args(extra)
            .arg("/bin/sh")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(125), "{extra:?}");
        assert!(out.stdout.is_empty(), "{extra:?} printed a script");
        assert!(stderr(&out).contains("--lesson"), "{}", stderr(&out));
    }
    // No rootfs: the lesson always has one.
    let out = gocker()
        .args(["emit-script", "--lesson", "/bin/sh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    // --lang is en or zh (zh without --lesson: the full script in Chinese, see
    // chinese_and_english_have_the_same_code).
    let out = gocker()
        .args(["emit-script", "--lang", "fr", "/bin/sh"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "--lang fr printed a script");
}

#[test]
fn hostname_is_the_lessons_unless_given() {
    let root = TempDir::new("host");
    let s = emit(&lesson_args(root.path(), &["--lesson", "--cgroup", "v1"]));
    assert!(s.contains("\thostname lagoudocker\n"), "{s}");
    assert!(s.contains(" HOSTNAME=lagoudocker "), "{s}");
    assert!(!s.lines().next().unwrap().contains("--hostname"));
    let s = emit(&lesson_args(
        root.path(),
        &["--lesson", "--cgroup", "v1", "--hostname", "box"],
    ));
    assert!(s.contains("\thostname box\n"), "{s}");
    assert!(s.lines().next().unwrap().contains("--hostname box"));
}

/// The seed lesson, beside the repository.
fn seed_lesson(test: &str) -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seed/lesson-18-gocker.md");
    let text = std::fs::read_to_string(&path).ok();
    skip_unless(
        text.is_some(),
        "seed-lesson",
        test,
        &format!("the seed lesson is not at {}", path.display()),
    )
    .then(|| text.unwrap())
}

/// The identifiers of Go code a comment line cites: package-qualified names
/// (`syscall.PivotRoot`, `cmd.Start`) and camel-case names (`pivotRoot`, `RunCommand`),
/// and `NAME()` after "the lesson's" (`the lesson's child()`).
fn cited(comment: &str) -> Vec<String> {
    const PACKAGES: [&str; 8] = [
        "syscall.",
        "exec.",
        "os.",
        "cmd.",
        "cgroup.",
        "cgroups.",
        "ioutil.",
        "filepath.",
    ];
    let mut out = Vec::new();
    let words = comment.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'));
    for w in words {
        let w = w.trim_matches('.');
        if w.is_empty() {
            continue;
        }
        let qualified = PACKAGES.iter().any(|p| {
            w.strip_prefix(p)
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
        });
        let first_lower = w.starts_with(|c: char| c.is_ascii_lowercase());
        let camel = !w.contains('.')
            && !w.contains('_')
            && w.chars().skip(1).any(|c| c.is_ascii_uppercase())
            && w.chars().any(|c| c.is_ascii_lowercase())
            && (first_lower || w.chars().filter(|c| c.is_ascii_uppercase()).count() >= 2);
        if qualified || camel {
            out.push(w.to_string());
        }
    }
    let lower = comment.to_ascii_lowercase();
    let mut at = 0;
    while let Some(i) = lower[at..].find("the lesson's ") {
        at += i + "the lesson's ".len();
        let rest = &comment[at..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
            .collect();
        if rest[name.len()..].starts_with("()") {
            // A function of the lesson's is in its code as `NAME(`.
            out.push(format!("{name}("));
        }
    }
    out
}

#[test]
fn cited_identifiers_are_the_lessons_own() {
    let test = "cited_identifiers_are_the_lessons_own";
    let Some(seed) = seed_lesson(test) else {
        return;
    };
    // The checker itself: names from another program are caught.
    assert!(cited("# The lesson's child(): cmd.Run, then wait").contains(&"cmd.Run".into()));
    assert!(cited("# The lesson's child(): x").contains(&"child(".into()));
    let root = TempDir::new("cite");
    let mut scripts: Vec<(String, String)> = Vec::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("generated");
    for e in std::fs::read_dir(&dir).expect("read generated/") {
        let path = e.expect("dir entry").path();
        if path.extension().is_some_and(|x| x == "sh") && !path.ends_with("regenerate.sh") {
            let text = std::fs::read_to_string(&path).expect("read script");
            scripts.push((path.display().to_string(), text));
        }
    }
    for lang in ["en", "zh"] {
        let s = emit(&lesson_args(root.path(), &["--lesson", "--lang", lang]));
        scripts.push((format!("lesson script ({lang})"), s));
    }
    let mut bad = Vec::new();
    for (name, text) in &scripts {
        let mut all = Vec::new();
        for line in text.lines().filter(|l| l.trim_start().starts_with('#')) {
            if line.starts_with("# Generated by:") {
                continue;
            }
            for id in cited(line) {
                if !seed.contains(&id) {
                    bad.push(format!("{name}: {id:?} is not in the lesson: {line:?}"));
                }
                all.push(id);
            }
        }
        if text.contains("# Generated by: gocker emit-script --lesson") {
            for must in [
                "RunCommand",
                "InitCommand",
                "pivotRoot",
                "readCommandArray",
                "SetCPULimit",
                "cmd.Start",
                "cmd.Wait",
                "syscall.PivotRoot",
                "syscall.Sethostname",
                "syscall.Exec",
            ] {
                if !all.iter().any(|a| a == must) {
                    bad.push(format!("{name} does not cite {must}"));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn chinese_and_english_have_the_same_code() {
    let root = TempDir::new("zh");
    let r = root.path().to_str().unwrap();
    for extra in [
        &["--cgroup", "v1"][..],
        &["--cgroup", "v2"],
        &["--cgroup", "v1", "-m", "64"],
        &["--cgroup", "v2", "-m", "64", "--cpus", "0.5"],
        &["--hostname", "box", "-i"],
        &[],
    ] {
        let mut args = os(&["--rootfs", r]);
        args.extend(os(extra));
        args.extend(os(&["/bin/sh", "-c", "echo 'a b'"]));
        let mut en = os(&["--lesson"]);
        en.extend(args.iter().cloned());
        let mut zh = os(&["--lesson", "--lang", "zh"]);
        zh.extend(args.iter().cloned());
        let (en, zh) = (emit(&en), emit(&zh));
        assert_ne!(en, zh, "{extra:?}: the comments are not translated");
        assert_eq!(code_lines(&en), code_lines(&zh), "{extra:?}");
        let han = zh.chars().filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c));
        assert!(han.count() > 300, "{extra:?}: little Chinese in\n{zh}");
    }
    full_scripts_in_chinese_have_the_english_code(r);
}

/// How many Han characters `text` has.
fn han(text: &str) -> usize {
    text.chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count()
}

/// Option sets of full scripts (no --lesson) in both languages: every-option's, -t, the
/// host view, cgroup v1 and v2. `R` is the rootfs.
const FULL_CASES: &[&[&str]] = &[
    &[
        "--cgroup",
        "v2",
        "--rootfs",
        "R",
        "--cpus",
        "0.5",
        "-m",
        "64",
        "--pids-limit",
        "64",
        "--hostname",
        "box",
        "-e",
        "GREETING=hello",
        "-w",
        "/work",
        "-v",
        "/etc:/mnt/etc:ro",
        "-i",
        "-t",
        "/bin/sh",
    ],
    &[
        "--cgroup",
        "v1",
        "--rootfs",
        "R",
        "--cpus",
        "1",
        "-m",
        "64",
        "--pids-limit",
        "10",
        "-it",
        "/bin/sh",
    ],
    &["--rootfs", "R", "-t", "/bin/sh"],
    &["--rootfs", "R", "/bin/sh", "-c", "echo 'a b'"],
    &["--cgroup", "v1", "-m", "64", "/bin/true"],
    &[
        "--cgroup",
        "v2",
        "--cpus",
        "0.5",
        "-v",
        "/etc:/data",
        "/bin/true",
    ],
];

/// `FULL_CASES[i]` with `R` as `root`.
fn full_case(case: &[&str], root: &str) -> Vec<OsString> {
    case.iter()
        .map(|a| OsString::from(if *a == "R" { root } else { *a }))
        .collect()
}

/// The line's part before `|| trace `, or "trace()" for the body of the script's `trace`:
/// the only code lines whose words differ between the languages.
fn trace_call(line: &str) -> Option<&str> {
    match line.split_once("|| trace ") {
        Some((before, _)) => Some(before),
        None => line.contains("echo \"gocker trace: ").then_some("trace()"),
    }
}

/// A Chinese script's code against the English one's: line for line the same, but for the
/// words of a trace line (its call the same).
fn assert_same_code(en: &str, zh: &str, what: &str) {
    let (en, zh) = (code_lines(en), code_lines(zh));
    assert_eq!(en.len(), zh.len(), "{what}: not as many code lines");
    for (e, z) in en.iter().zip(&zh) {
        if e != z {
            assert!(
                trace_call(e).is_some() && trace_call(e) == trace_call(z),
                "{what}: the code differs:\n{e}\n{z}"
            );
        }
    }
}

/// The comment lines of a Chinese script with no Chinese in them, but for those that stay
/// as they are: the `# Generated by:` line, shellcheck's directives, a bare `#`, and the
/// rows of the step table (names of Go code and system calls).
fn untranslated(zh: &str) -> Vec<&str> {
    zh.lines()
        .filter(|l| {
            let t = l.trim_start();
            let text = t.trim_start_matches('#').trim_start();
            let table_row = text.contains('|')
                && text
                    .split('|')
                    .next()
                    .is_some_and(|n| n.trim().chars().all(|c| c.is_ascii_digit()));
            t.starts_with('#')
                && !t.starts_with("#!")
                && !text.is_empty()
                && !text.starts_with("Generated by:")
                && !text.starts_with("shellcheck ")
                && !table_row
                && han(t) == 0
        })
        .collect()
}

/// `chinese_and_english_have_the_same_code` for full scripts, with `r` as the rootfs.
fn full_scripts_in_chinese_have_the_english_code(r: &str) {
    // generated/ holds the lesson 18 pair in both languages (tests/script.rs keeps all of
    // generated/ fresh).
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("generated");
    for v in ["v1", "v2"] {
        let read = |name: String| {
            std::fs::read_to_string(dir.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"))
        };
        let en = read(format!("lesson18-cgroup-{v}.sh"));
        let zh = read(format!("lesson18-cgroup-{v}.zh.sh"));
        assert_same_code(&en, &zh, &format!("generated/lesson18-cgroup-{v}.zh.sh"));
        assert!(untranslated(&zh).is_empty(), "{v}: {:?}", untranslated(&zh));
    }
    for case in FULL_CASES {
        let args = full_case(case, r);
        let en = emit(&args);
        let mut zh_args = os(&["--lang", "zh"]);
        zh_args.extend(args.iter().cloned());
        let zh = emit(&zh_args);
        assert_eq!(han(&en), 0, "{case:?}: Chinese in the English script");
        assert_same_code(&en, &zh, &format!("{case:?}"));
        let missing = untranslated(&zh);
        assert!(
            missing.is_empty(),
            "{case:?}: comment lines left in English:\n{}",
            missing.join("\n")
        );
        assert!(han(&zh) > 2500, "{case:?}: little Chinese ({})", han(&zh));
        // The header names --lang zh, so that generated/regenerate.sh renders it again.
        assert!(
            zh.starts_with("# Generated by: gocker emit-script --lang zh "),
            "{case:?}"
        );
        // The trace speaks Chinese, with its lesson 18 framing.
        let traces: Vec<&str> = zh.lines().filter(|l| trace_call(l).is_some()).collect();
        assert!(traces.len() >= 6, "{case:?}: {traces:?}");
        assert!(zh.contains("[第 18 课：$2]"), "{case:?}");
        assert!(zh.contains("trace '1 命名空间'"), "{case:?}");
    }
}

#[test]
fn shellcheck_finds_nothing_in_chinese_full_scripts() {
    let test = "shellcheck_finds_nothing_in_chinese_full_scripts";
    let Some(shellcheck) = tool("shellcheck", test) else {
        return;
    };
    let tmp = TempDir::new("zh-sc");
    let r = tmp.path().to_str().unwrap();
    let mut files = Vec::new();
    for (i, case) in FULL_CASES.iter().enumerate() {
        let mut args = os(&["--lang", "zh"]);
        args.extend(full_case(case, r));
        let f = tmp.path().join(format!("zh{i}.sh"));
        std::fs::write(&f, emit(&args)).unwrap();
        files.push(f);
    }
    for shell in ["sh", "dash", "bash"] {
        let out = Command::new(&shellcheck)
            .args(["-S", "warning", "-s", shell])
            .args(&files)
            .output()
            .expect("run shellcheck");
        assert!(
            out.status.success(),
            "shellcheck -S warning -s {shell}:\n{}",
            stdout(&out)
        );
    }
}

#[test]
fn shellcheck_finds_nothing_in_lesson_scripts() {
    let test = "shellcheck_finds_nothing_in_lesson_scripts";
    let Some(shellcheck) = tool("shellcheck", test) else {
        return;
    };
    let tmp = TempDir::new("lesson-sc");
    let r = tmp.path().to_str().unwrap();
    let mut files = Vec::new();
    for (i, extra) in [
        &["--cgroup", "v1", "-it", "--cpus", "1"][..],
        &["--cgroup", "v2", "-it", "--cpus", "1", "-m", "64"],
        &[
            "--cgroup", "v1", "-m", "64", "--cpus", "0.5", "--lang", "zh",
        ],
        &["--hostname", "box"],
    ]
    .iter()
    .enumerate()
    {
        let mut args = os(&["--lesson", "--rootfs", r]);
        args.extend(os(extra));
        args.extend(os(&["printf", "%s\\n", "$(id)", "'", "`x`", "a\nb", ""]));
        args.push(OsString::from_vec(b"x\xffy".to_vec()));
        let f = tmp.path().join(format!("lesson{i}.sh"));
        std::fs::write(&f, emit(&args)).unwrap();
        files.push(f);
    }
    for shell in ["sh", "dash", "bash"] {
        let out = Command::new(&shellcheck)
            .args(["-S", "warning", "-s", shell])
            .args(&files)
            .output()
            .expect("run shellcheck");
        assert!(
            out.status.success(),
            "shellcheck -S warning -s {shell}:\n{}",
            stdout(&out)
        );
    }
}

// ------------------------------------------------------------------ parity with gocker run

/// The container tests compare the host before and after each run, so they take turns.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// One container run: its status and stdout, the container id (a pid) in cgroup paths
/// made comparable.
#[derive(Debug, PartialEq)]
struct Run {
    status: Option<i32>,
    stdout: String,
}

fn normalize(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut l = line.to_string();
        if let Some(i) = l.find("/gocker/") {
            let start = i + "/gocker/".len();
            let end = l[start..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(l.len(), |e| start + e);
            l.replace_range(start..end, "ID");
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// The host's mounts at or below `dir` (other tests on this host mount elsewhere at the
/// same time).
fn mounts_under(dir: &Path) -> Vec<String> {
    let dir = dir.display().to_string();
    mountinfo()
        .into_iter()
        .filter(|m| m.split(' ').nth(1).is_some_and(|p| p.starts_with(&dir)))
        .collect()
}

/// Run `cmd` and check it left nothing behind: no cgroup of its own, no mount at or below
/// `rootfs` on the host.
fn run_clean(mut cmd: Command, what: &str, rootfs: &Path) -> Run {
    let mounts = mounts_under(rootfs);
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let owner = child.id();
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        cgroups_of(owner),
        Vec::<PathBuf>::new(),
        "{what} left these"
    );
    assert_eq!(
        mounts_under(rootfs),
        mounts,
        "{what} changed the host's mounts"
    );
    Run {
        status: out.status.code(),
        stdout: normalize(&stdout(&out)),
    }
}

#[test]
fn lesson_script_and_run_agree_on_every_probe() {
    let test = "lesson_script_and_run_agree_on_every_probe";
    if !need_root(test) {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut shells: Vec<Vec<OsString>> = Vec::new();
    for prefix in [&["dash"][..], &["bash"], &["busybox", "sh"]] {
        if let Some(p) = tool(prefix[0], test) {
            let mut argv = vec![p.into_os_string()];
            argv.extend(prefix[1..].iter().map(OsString::from));
            shells.push(argv);
        }
    }
    let rootfs = busybox_rootfs();
    let work = TempDir::new("lesson-parity");
    let opts = vec![
        OsString::from("--rootfs"),
        rootfs.path().as_os_str().to_owned(),
        "--cpus".into(),
        "0.5".into(),
        "-m".into(),
        "64".into(),
        "--hostname".into(),
        "probe".into(),
    ];
    let sh = |s: &str| os(&["/bin/sh", "-c", s]);
    let hostile_args = [
        "$(touch /tmp/pwned)",
        "`touch /tmp/pwned`",
        "'",
        "\"",
        "*",
        "a\nb",
        "",
        "{#",
        "%}",
        "two  spaces",
    ];
    let mut hostile = os(&["/bin/busybox", "printf", "[%s]\\n"]);
    hostile.extend(os(&hostile_args));
    let hostile_out: String = hostile_args.iter().map(|a| format!("[{a}]\n")).collect();
    let mut listing: Vec<String> = std::fs::read_dir(rootfs.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    listing.sort();
    let listing = listing.join("\n") + "\n";
    type Want = Box<dyn Fn(&Run) -> bool>;
    let exactly = |status: i32, out: String| -> Want {
        Box::new(move |r: &Run| r.status == Some(status) && r.stdout == out)
    };
    let ok_with = |needles: &'static [&'static str]| -> Want {
        Box::new(move |r: &Run| r.status == Some(0) && needles.iter().all(|n| r.stdout.contains(n)))
    };
    // (name, command, what gocker run shows, whether the script must show exactly that)
    let probes: Vec<(&str, Vec<OsString>, Want, bool)> = vec![
        (
            "hostname",
            sh("hostname"),
            exactly(0, "probe\n".into()),
            true,
        ),
        ("pid 1", sh("echo $$"), exactly(0, "1\n".into()), true),
        (
            "processes",
            sh(
                "ps -o pid,comm >/tmp/ps; awk '$1 != 1 && $1 ~ /^[0-9]+$/ { $1 = \"n\" } { print }' /tmp/ps",
            ),
            exactly(0, "PID   COMMAND\n    1 sh\nn ps\n".into()),
            true,
        ),
        ("root listing", sh("ls /"), exactly(0, listing), true),
        (
            "cgroup membership",
            sh("grep -E ':(cpu|memory)[:,]' /proc/self/cgroup | sort"),
            ok_with(&["/gocker/ID\n"]),
            true,
        ),
        (
            "environment",
            sh("env | sort"),
            ok_with(&["HOSTNAME=probe\n", "PATH=", "HOME=/root\n"]),
            true,
        ),
        // The lesson mounts less (no /dev, no read-only /proc/sys): the same root and /proc.
        (
            "mounts",
            sh("cat /proc/mounts"),
            ok_with(&[" / ", "proc /proc proc rw,nosuid,nodev,noexec"]),
            false,
        ),
        ("exit status", sh("exit 7"), exactly(7, String::new()), true),
        (
            "not found",
            os(&["no-such-command"]),
            exactly(127, String::new()),
            true,
        ),
        (
            "not executable",
            os(&["/etc"]),
            exactly(126, String::new()),
            true,
        ),
        (
            "stdin is empty",
            sh("cat; echo end"),
            exactly(0, "end\n".into()),
            true,
        ),
        ("hostile argv", hostile, exactly(0, hostile_out), true),
    ];
    let file = work.path().join("lesson.sh");
    let mut failures = Vec::new();
    for (name, cmd, want, same) in &probes {
        let mut c = gocker();
        c.arg("run")
            .args([
                "--security-opt=seccomp=unconfined",
                "--security-opt=devices=unconfined",
            ])
            .args(&opts)
            .args(cmd);
        let native = run_clean(c, "gocker run", rootfs.path());
        if !want(&native) {
            failures.push(format!("{name}: gocker run gave {native:?}"));
        }
        let mut args = vec![OsString::from("--lesson")];
        args.extend(opts.iter().cloned());
        args.extend(cmd.iter().cloned());
        std::fs::write(&file, emit(&args)).unwrap();
        for shell in &shells {
            let mut c = Command::new(&shell[0]);
            c.args(&shell[1..]).arg(&file);
            let script = run_clean(c, "the lesson script", rootfs.path());
            let agree = if *same {
                script == native
            } else {
                want(&script)
            };
            if !agree {
                failures.push(format!(
                    "{name} under {shell:?}:\n  run:    {native:?}\n  script: {script:?}"
                ));
            }
        }
    }
    assert!(
        !Path::new("/tmp/pwned").exists() && !rootfs.path().join("tmp/pwned").exists(),
        "a hostile argument was executed"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ------------------------------------------------------------------ trace

/// The steps a traced run printed on stderr, as "N NAME".
fn traced_steps(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("gocker trace: "))
        .map(|l| l.split(':').next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn run_trace_and_script_trace_show_the_same_steps_in_order() {
    let test = "run_trace_and_script_trace_show_the_same_steps_in_order";
    if !need_root(test) {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let rootfs = busybox_rootfs();
    let work = TempDir::new("trace");
    let want: Vec<String> = [
        "1 namespaces",
        "2 private",
        "3 root",
        "4 proc",
        "5 pivot_root",
        "6 hostname",
        "7 cgroup",
        "8 exec",
    ]
    .map(String::from)
    .to_vec();
    let want_zh: Vec<String> = WANT_ZH.map(String::from).to_vec();
    let opts = vec![
        OsString::from("--rootfs"),
        rootfs.path().as_os_str().to_owned(),
        "--cpus".into(),
        "0.5".into(),
        "--security-opt=devices=unconfined".into(),
        "/bin/true".into(),
    ];
    let run = |trace: bool, lang: &str| {
        let mut c = gocker();
        c.arg("run");
        if trace {
            c.args(["--trace", "--lang", lang]);
        }
        let out = c.args(&opts).output().expect("run gocker");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stderr(&out)
    };
    assert_eq!(traced_steps(&run(true, "en")), want, "gocker run --trace");
    assert_eq!(
        traced_steps(&run(false, "en")),
        Vec::<String>::new(),
        "gocker run without --trace"
    );
    let run_zh = traced_words(&run(true, "zh"));
    assert_eq!(
        run_zh.iter().map(|w| w.0.clone()).collect::<Vec<_>>(),
        want_zh,
        "gocker run --trace --lang zh"
    );
    let file = work.path().join("full.sh");
    std::fs::write(&file, emit(&opts)).unwrap();
    let file_zh = work.path().join("full.zh.sh");
    let mut zh_opts = os(&["--lang", "zh"]);
    zh_opts.extend(opts.iter().cloned());
    std::fs::write(&file_zh, emit(&zh_opts)).unwrap();
    for shell in [&["dash"][..], &["bash"], &["busybox", "sh"]] {
        let Some(p) = tool(shell[0], test) else {
            continue;
        };
        for (traced, file) in [(true, &file), (false, &file), (true, &file_zh)] {
            let mut c = Command::new(&p);
            c.args(&shell[1..]).arg(file);
            if traced {
                c.env("GOCKER_TRACE", "1");
            } else {
                c.env_remove("GOCKER_TRACE");
            }
            let out = c.output().expect("run the script");
            assert_eq!(out.status.code(), Some(0), "{shell:?}: {}", stderr(&out));
            if file == &file_zh {
                let got = traced_words(&stderr(&out));
                assert_same_trace_words(&run_zh, &got, &format!("{shell:?}"));
                continue;
            }
            let got = traced_steps(&stderr(&out));
            if traced {
                assert_eq!(got, want, "the script under {shell:?} with GOCKER_TRACE=1");
            } else {
                assert!(got.is_empty(), "{shell:?} traced without GOCKER_TRACE");
            }
        }
    }
}

/// The Chinese steps, in order.
const WANT_ZH: [&str; 8] = [
    "1 命名空间",
    "2 私有挂载",
    "3 新的根",
    "4 proc",
    "5 pivot_root",
    "6 主机名",
    "7 cgroup",
    "8 exec",
];

/// The traced lines on stderr as (step, what was done, the lesson's Go code in its frame).
fn traced_words(stderr: &str) -> Vec<(String, String, String)> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("gocker trace: "))
        .map(|l| {
            let (step, rest) = l.split_once(": ").unwrap_or((l, ""));
            let (what, lesson) = rest.rsplit_once(" [").unwrap_or((rest, ""));
            (step.into(), what.into(), lesson.into())
        })
        .collect()
}

/// `gocker run --trace --lang zh` against the Chinese script's GOCKER_TRACE=1: the same
/// steps, the same Chinese frame and Go code, and the same Chinese words where both say
/// something beside the system call.
fn assert_same_trace_words(
    run: &[(String, String, String)],
    script: &[(String, String, String)],
    what: &str,
) {
    let steps = |t: &[(String, String, String)]| t.iter().map(|w| w.0.clone()).collect::<Vec<_>>();
    assert_eq!(steps(script), steps(run), "{what}: the zh script's steps");
    for (r, s) in run.iter().zip(script) {
        assert_eq!(s.2, r.2, "{what}: step {}'s lesson code", r.0);
        assert!(r.2.starts_with("第 18 课："), "{what}: {r:?}");
    }
    for (step, word) in [(0, "，离开 mnt:["), (1, "，在 mnt:["), (6, "已在 ")] {
        for t in [run, script] {
            assert!(
                t[step].1.contains(word),
                "{what}: no {word:?} in {:?}",
                t[step]
            );
        }
    }
}

/// A bundle's inheritable and ambient sets, umask and linux.devices nodes add comments
/// and steps of their own: the Chinese script explains them too, with the same code.
#[test]
fn a_bundles_capability_sets_umask_and_nodes_are_explained_in_chinese_too() {
    let dir = TempDir::new("zh-bundle");
    std::fs::create_dir(dir.path().join("rootfs")).unwrap();
    let caps = serde_json::json!(["CAP_KILL", "CAP_CHOWN"]);
    let config = serde_json::json!({
        "ociVersion": "1.0.2",
        "root": {"path": "rootfs"},
        "process": {
            "args": ["sh"], "cwd": "/", "env": ["PATH=/bin"],
            "user": {"uid": 0, "gid": 0, "umask": 18},
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps,
                             "inheritable": caps, "ambient": ["CAP_KILL"]}
        },
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["mode=755"]}
        ],
        "linux": {
            "namespaces": [{"type": "pid"}, {"type": "uts"}, {"type": "mount"}],
            "devices": [{"path": "/dev/x1", "type": "c", "major": 1, "minor": 3}]
        }
    });
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    let args = vec![OsString::from("--bundle"), dir.path().into()];
    let en = emit(&args);
    for step in [
        "--ambient-caps +kill",
        "+chown,+kill --",
        "umask 0022",
        "mknod -m 666 \"$t\" c 1 3",
    ] {
        assert!(en.contains(step), "no {step:?} in:\n{en}");
    }
    let mut zh_args = os(&["--lang", "zh"]);
    zh_args.extend(args);
    let zh = emit(&zh_args);
    assert_same_code(&en, &zh, "a bundle's five sets, umask and nodes");
    let missing = untranslated(&zh);
    assert!(
        missing.is_empty(),
        "comment lines left in English:\n{}",
        missing.join("\n")
    );
}
