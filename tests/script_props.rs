//! Property tests of `gocker emit-script`: random hostile values (quotes, `$()`,
//! backticks, globs, newlines, template delimiters, empty strings, non-ASCII and bytes
//! that are not UTF-8) go in as argv, environment values, hostnames and paths; the
//! rendered script runs under dash, bash and busybox sh (every case, all three) on a busybox
//! rootfs, and the container must see them byte for byte, exactly as `gocker run` shows
//! them, with nothing executed on the way: every value carries `$(touch MARKER)`-like
//! fragments whose markers must never appear, on the host or in the rootfs.
//!
//! tests/script.rs checks the limits, cgroups and probes of a fixed set of options; this
//! file is about quoting: what a value is when it reaches the container.
//!
//! Cases come from a small deterministic PRNG (splitmix64). Each case has its own seed,
//! printed with every failure (and on stderr, seen with --nocapture): most seeds are fixed,
//! a quarter are new on every run. To run exactly some cases again (an empty list runs
//! none, and counts as a skip):
//!
//! ```text
//! GOCKER_PROPTEST_SEED=0x1234abcd,0x42 cargo test --test script_props
//! ```
//!
//! (one case per seed, in every property test, under every shell). NUL bytes cannot be
//! in an argument of execve(2) at all, so no value here holds one.

mod common;

use common::*;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

// ------------------------------------------------------------------ seeds and the PRNG

/// splitmix64: tiny, fast, and good enough to pick tokens with.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in 0..n (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn choose<T: Copy>(&mut self, items: &[T]) -> T {
        *self.pick(items)
    }
}

/// The fixed part of every run's seeds.
const FIXED_SEED: u64 = 0x676f_636b_6572_5eed;

/// The case seeds of one property test.
struct Seeds {
    seeds: Vec<u64>,
}

fn parse_seed(s: &str) -> u64 {
    let s = s.trim();
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.unwrap_or_else(|_| panic!("GOCKER_PROPTEST_SEED: {s:?} is not a number"))
}

/// `n` case seeds for `test`: GOCKER_PROPTEST_SEED's (a comma-separated list) if set;
/// otherwise three quarters derived from a fixed seed and a quarter from the clock.
fn case_seeds(test: &str, n: usize) -> Seeds {
    if let Some(v) = std::env::var_os("GOCKER_PROPTEST_SEED") {
        let v = v.to_string_lossy().into_owned();
        let seeds: Vec<u64> = v
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(parse_seed)
            .collect();
        eprintln!(
            "{test}: the {} case(s) of GOCKER_PROPTEST_SEED",
            seeds.len()
        );
        if seeds.is_empty() {
            // Asked for by setting the variable; counted like any other skip.
            record_skip(
                "proptest-seed",
                test,
                "GOCKER_PROPTEST_SEED is empty: no cases ran",
            );
        }
        return Seeds { seeds };
    }
    // FNV-1a of the test's name, so each test has cases of its own.
    let tag = test.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let clock = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ (u64::from(std::process::id()) << 40);
    let fixed = n - n / 4;
    let seeds = (0..n)
        .map(|i| {
            let base = if i < fixed { FIXED_SEED } else { clock };
            Rng::new(base ^ tag ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407)).next()
        })
        .collect();
    eprintln!(
        "{test}: {n} cases, {fixed} from the fixed seed and {} from clock seed {clock:#x}",
        n - fixed
    );
    Seeds { seeds }
}

// ------------------------------------------------------------------ hostile values

/// Names of files that must never be created: one per case.
struct Markers {
    /// The file's name.
    name: String,
    /// Paths as they are written into payloads (`touch WORD`).
    words: Vec<String>,
    /// Where a payload that ran would have left its file.
    paths: Vec<PathBuf>,
}

impl Markers {
    /// Markers for a case in `work` (the host directory every process runs in) with the
    /// container's root at `rootfs`.
    fn new(work: &Path, rootfs: &Path, seed: u64) -> Markers {
        let name = format!("pwned-{:x}-{seed:x}", std::process::id());
        let in_tmp = format!("/tmp/{name}");
        let in_work = work.join(&name);
        Markers {
            name: name.clone(),
            words: vec![
                in_tmp.clone(),
                in_work.to_string_lossy().into_owned(),
                name.clone(),
            ],
            paths: vec![
                // Run on the host, or inside the container.
                PathBuf::from(&in_tmp),
                rootfs.join("tmp").join(&name),
                in_work.clone(),
                rootfs.join(&name),
                rootfs.join(in_work.strip_prefix("/").unwrap_or(&in_work)),
            ],
        }
    }

    /// One more directory a relative marker could land in (a working directory).
    fn also_in(&mut self, dir: &Path) {
        self.paths.push(dir.join(&self.name));
    }

    fn found(&self) -> Vec<&PathBuf> {
        self.paths
            .iter()
            .filter(|p| std::fs::symlink_metadata(p).is_ok())
            .collect()
    }
}

/// What a generated value may hold.
#[derive(Clone, Copy)]
struct Rules {
    /// Bytes that are not UTF-8.
    bytes: bool,
    /// Bytes it must not hold (`/` in a file name, `:` in a -v path).
    forbid: &'static [u8],
    /// It may be empty.
    empty: bool,
    /// Bytes to aim for (fragments may overshoot).
    max: usize,
}

const ARG: Rules = Rules {
    bytes: true,
    forbid: b"",
    empty: true,
    max: 40,
};

const META: &[&str] = &[
    "'", "\"", "\\", "$", "`", "(", ")", "{", "}", "#", "*", "?", "[", "]", "~", "!", "&", ";",
    "|", "<", ">", " ", "  ", "-", "=", ":", "%", "^", ",", "@", "+", ".", "/",
];
const CONTROL: &[&str] = &[
    "\t", "\n", "\r", "\x01", "\x1b", "\x7f", "\x0b", "\x0c", "\n\n",
];
/// Non-ASCII, among them characters whose UTF-8 holds bytes 0x81-0x88 (dash's and
/// ash's internal quoting markers) and the look-alikes of quotes and spaces.
const NON_ASCII: &[&str] = &[
    "é", "中", "😀", "Á", "ć", "ň", "ā", "\u{feff}", "\u{2028}", "e\u{301}", "\u{200f}", "\u{a0}",
    "“", "”", "ß", "ÿ",
];
/// askama's delimiters: a value must never be read as template text.
const TEMPLATE: &[&str] = &[
    "{#",
    "#}",
    "{{",
    "}}",
    "{%",
    "%}",
    "{% endfor %}",
    "{{ argv }}",
    "{%- if true %}",
    "{{\"x\"}}",
];
const SHELL: &[&str] = &[
    "${IFS}",
    "$HOME",
    "$0",
    "$1",
    "$@",
    "\"$@\"",
    "$*",
    "$$",
    "$?",
    "$#",
    "'\\''",
    "\\'",
    "$'\\x41'",
    "%s",
    "%b",
    "%n",
    "\\0",
    "\\n",
    "\\\\",
    "--",
    "-e",
    "-i",
    "-u",
    "-n",
    "/*",
    "~root",
    "~",
    "{a,b}",
    "!!",
    "#c",
    "<<EOF",
    "&&",
    "||",
    "2>&1",
    "$((1+1))",
    "${x:-y}",
    "\\$",
    "\\`",
    "a=b",
    "')\"",
    "\"$(printf '",
];
/// Payloads that create marker M if anything runs them.
const PAYLOADS: &[&str] = &[
    "$(touch M)",
    "`touch M`",
    "; touch M",
    "&& touch M",
    "|touch M",
    "\ntouch M\n",
    ">M",
    "'; touch M; '",
    "\"; touch M; \"",
    "'$(touch M)'",
    "\"$(touch M)\"",
    "'\"$(touch M)\"'",
    "')\"; touch M; \"$(printf '",
    "${x:=$(touch M)}",
    "$(touch M)\n#",
];
/// Not UTF-8: a truncated sequence, an overlong NUL, a surrogate, and others.
const BAD_UTF8: &[&[u8]] = &[
    b"\xe4\xb8",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\xff\xfe",
    b"\xf8\x88\x80\x80\x80",
    b"\x80",
    b"\xc3",
];

/// A hostile value under `rules`, with payloads aimed at `m`.
fn hostile(rng: &mut Rng, m: &Markers, rules: Rules) -> Vec<u8> {
    if rules.empty && rng.one_in(10) {
        return Vec::new();
    }
    let target = rng.below(rules.max + 1);
    let mut out: Vec<u8> = Vec::new();
    while out.len() < target || out.is_empty() {
        let tok: Vec<u8> = match rng.below(100) {
            0..=29 => rng.pick(META).as_bytes().to_vec(),
            30..=41 => {
                const ALNUM: &[u8] =
                    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
                vec![*rng.pick(ALNUM)]
            }
            42..=51 => rng.pick(NON_ASCII).as_bytes().to_vec(),
            52..=57 => rng.pick(CONTROL).as_bytes().to_vec(),
            58..=64 => rng.pick(TEMPLATE).as_bytes().to_vec(),
            65..=75 => rng.pick(SHELL).as_bytes().to_vec(),
            76..=89 => {
                // A marker word the rules allow (the relative one has no '/').
                let words: Vec<&String> = m
                    .words
                    .iter()
                    .filter(|w| !w.bytes().any(|b| rules.forbid.contains(&b)))
                    .collect();
                let word = rng.pick(&words);
                rng.pick(PAYLOADS).replace('M', word).into_bytes()
            }
            _ if rules.bytes => {
                if rng.one_in(2) {
                    rng.pick(BAD_UTF8).to_vec()
                } else if rng.one_in(2) {
                    // dash's and ash's quoting markers, alone.
                    vec![0x81 + rng.below(8) as u8]
                } else {
                    vec![0x80 + rng.below(0x80) as u8]
                }
            }
            _ => rng.pick(META).as_bytes().to_vec(),
        };
        out.extend(tok.iter().filter(|b| !rules.forbid.contains(b)));
    }
    out
}

/// One path component: hostile, never empty, `.` or `..`.
fn component(rng: &mut Rng, m: &Markers, bytes: bool, forbid: &'static [u8]) -> Vec<u8> {
    let rules = Rules {
        bytes,
        forbid,
        empty: false,
        max: 24,
    };
    let mut c = hostile(rng, m, rules);
    if c == b"." || c == b".." {
        c.push(b'x');
    }
    c
}

/// `/` + the components joined: the path gocker normalises a spelling to.
fn join_components(comps: &[Vec<u8>]) -> Vec<u8> {
    let mut p = Vec::new();
    for c in comps {
        p.push(b'/');
        p.extend(c);
    }
    if p.is_empty() {
        p.push(b'/');
    }
    p
}

/// A spelling of the same absolute path with doubled slashes, `./` and a trailing slash.
fn spell_path(rng: &mut Rng, comps: &[Vec<u8>]) -> Vec<u8> {
    let mut p = Vec::new();
    for c in comps {
        p.push(b'/');
        if rng.one_in(5) {
            p.push(b'/');
        }
        if rng.one_in(5) {
            p.extend(b"./");
        }
        p.extend(c);
    }
    if rng.one_in(4) {
        p.push(b'/');
    }
    p
}

/// Keys gocker refuses: empty, a digit first, whitespace.
const BAD_KEYS: &[&[u8]] = &[b"", b"1A", b"A B", b"A\tB", b"\nA", b"A\r"];
/// What makes an empty hostname label.
const EMPTY_LABELS: &[&[u8]] = &[b".", b".."];
/// A volume's mode: none, read-only, read-write.
const MODES: &[&[u8]] = &[b"", b":ro", b":rw"];

fn insert_at(v: &mut Vec<u8>, at: usize, bytes: &[u8]) {
    let tail = v.split_off(at);
    v.extend(bytes);
    v.extend(tail);
}

fn osb(b: &[u8]) -> OsString {
    OsString::from_vec(b.to_vec())
}

fn cat(parts: &[&[u8]]) -> OsString {
    osb(&parts.concat())
}

fn show(b: &[u8]) -> String {
    format!("\"{}\"", b.escape_ascii())
}

// ------------------------------------------------------------------ running

fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// A shell to run scripts with: its name and argv prefix.
struct Shell {
    name: &'static str,
    argv: Vec<OsString>,
}

/// dash, bash and busybox sh: every case runs under all three.
fn shells(test: &str) -> Vec<Shell> {
    let mut v = Vec::new();
    for (name, prefix) in [
        ("dash", &["dash"][..]),
        ("bash", &["bash"]),
        ("busybox sh", &["busybox", "sh"]),
    ] {
        if let Some(p) = tool(prefix[0], test) {
            let mut argv = vec![p.into_os_string()];
            argv.extend(prefix[1..].iter().map(OsString::from));
            v.push(Shell { name, argv });
        }
    }
    assert!(
        v.first().is_some_and(|s| s.name == "dash") || !in_ci(),
        "{test} needs dash"
    );
    v
}

/// What a process did.
#[derive(Debug)]
struct Out {
    /// None: killed after the time limit.
    status: Option<ExitStatus>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// An exit status as a person reads it.
fn st(s: &Option<ExitStatus>) -> String {
    s.map_or_else(|| "killed after the time limit".into(), |s| s.to_string())
}

impl Out {
    fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    fn ok(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }
}

/// Run `cmd` in `io` (its working directory, which also holds its output files), with
/// stdin empty and a time limit.
fn exec(mut cmd: Command, io: &Path) -> Out {
    let out_path = io.join(".stdout");
    let err_path = io.join(".stderr");
    let mut child = cmd
        .current_dir(io)
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("create stdout file"))
        .stderr(File::create(&err_path).expect("create stderr file"))
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    Out {
        status,
        stdout: std::fs::read(&out_path).unwrap_or_default(),
        stderr: std::fs::read(&err_path).unwrap_or_default(),
    }
}

/// What is wrong with a rendered script's text: it must be UTF-8 (bytes that are not are
/// made by printf at run time), and every line before the code must be a comment,
/// whatever the options held.
fn text_problems(script: &[u8]) -> Vec<String> {
    let Ok(text) = std::str::from_utf8(script) else {
        return vec!["the script is not UTF-8".into()];
    };
    let mut v = Vec::new();
    if !text.starts_with("# Generated by: gocker emit-script") {
        v.push("the script does not start with its `# Generated by:` line".into());
    }
    match text.find("\nset -eu\n") {
        None => v.push("no `set -eu` line".into()),
        Some(end) => {
            for l in text[..end].lines() {
                if !l.starts_with('#') {
                    v.push(format!("header line {l:?} is not a comment"));
                }
            }
        }
    }
    v
}

/// One container, run through `gocker run` and through the script it renders.
struct Case<'a> {
    test: &'static str,
    /// The case's seed; None for a fixed case.
    seed: Option<u64>,
    opts: Vec<OsString>,
    cmd: Vec<OsString>,
    /// The environment gocker itself runs with (for `-e KEY`).
    gocker_env: Vec<(OsString, OsString)>,
    /// Where to save the script.
    script: PathBuf,
    /// The working directory of every process, and where outputs go.
    io: &'a Path,
    /// What the container prints (with status 0); None: only run and script must agree.
    expect: Option<Vec<u8>>,
    markers: Markers,
    /// Files each run must write with these bytes (removed after each run).
    written: Vec<(PathBuf, Vec<u8>)>,
}

impl Case<'_> {
    /// `gocker SUB` with the case's options; `--lesson` (lesson mode) is emit-script's only.
    fn gocker(&self, sub: &str) -> Command {
        let mut c = gocker();
        let opts = self
            .opts
            .iter()
            .filter(|o| sub == "emit-script" || *o != "--lesson");
        c.arg(sub).args(opts).args(&self.cmd);
        c.envs(self.gocker_env.iter().map(|(k, v)| (k, v)));
        c
    }

    fn context(&self) -> String {
        let env = if self.gocker_env.is_empty() {
            String::new()
        } else {
            format!("\n  gocker's env: {:?}", self.gocker_env)
        };
        let (seed, var) = match self.seed {
            Some(s) => (
                format!(" seed={s:#x}"),
                format!("GOCKER_PROPTEST_SEED={s:#x} "),
            ),
            None => (String::new(), String::new()),
        };
        format!(
            "[{}{seed}]\n  options: {:?}\n  command: {:?}{env}\n  reproduce: {var}cargo test --test script_props {}",
            self.test, self.opts, self.cmd, self.test
        )
    }

    /// Check the files a run had to write, and remove them for the next run.
    fn check_written(&self, who: &str, fails: &mut Vec<String>) {
        for (path, want) in &self.written {
            match std::fs::read(path) {
                Ok(got) if &got == want => {}
                Ok(got) => fails.push(format!(
                    "{who} wrote {}: want {}, got {}",
                    path.display(),
                    show(want),
                    show(&got)
                )),
                Err(e) => fails.push(format!("{who} did not write {}: {e}", path.display())),
            }
            let _ = std::fs::remove_file(path);
        }
    }

    /// Run the case; the failures, each with the case's context.
    fn check(&self, shells: &[Shell]) -> Vec<String> {
        if let Some(seed) = self.seed {
            eprintln!("{} case seed={seed:#x}", self.test);
        }
        let mut fails = Vec::new();
        let emitted = exec(self.gocker("emit-script"), self.io);
        if !emitted.ok() {
            fails.push(format!(
                "emit-script failed ({}): {}",
                st(&emitted.status),
                String::from_utf8_lossy(&emitted.stderr)
            ));
        } else {
            fails.extend(text_problems(&emitted.stdout));
            std::fs::write(&self.script, &emitted.stdout).expect("write the script");
        }
        let native = exec(self.gocker("run"), self.io);
        if let Some(want) = &self.expect
            && (native.code() != Some(0) || &native.stdout != want)
        {
            fails.push(format!(
                "gocker run: want status 0 and stdout {}\n    got {} and stdout {}\n    stderr: {}",
                show(want),
                st(&native.status),
                show(&native.stdout),
                String::from_utf8_lossy(&native.stderr)
            ));
        }
        self.check_written("gocker run", &mut fails);
        if emitted.ok() {
            for sh in shells {
                let mut c = Command::new(&sh.argv[0]);
                c.args(&sh.argv[1..]).arg(&self.script);
                let script = exec(c, self.io);
                if script.status != native.status || script.stdout != native.stdout {
                    fails.push(format!(
                        "the script under {} differs from gocker run:\n    run:    {} {}\n    script: {} {}\n    script stderr: {}",
                        sh.name,
                        st(&native.status),
                        show(&native.stdout),
                        st(&script.status),
                        show(&script.stdout),
                        String::from_utf8_lossy(&script.stderr)
                    ));
                }
                self.check_written(&format!("the script under {}", sh.name), &mut fails);
            }
        }
        for p in self.markers.found() {
            fails.push(format!("a payload was executed: {} exists", p.display()));
            let _ = std::fs::remove_file(p);
        }
        if fails.is_empty() {
            return fails;
        }
        vec![format!("{}\n  {}", self.context(), fails.join("\n  "))]
    }
}

fn report(test: &str, seeds: &Seeds, fails: Vec<String>) {
    assert!(
        fails.is_empty(),
        "{test}: {} of {} cases failed:\n\n{}",
        fails.len(),
        seeds.seeds.len(),
        fails.join("\n\n")
    );
}

/// `gocker run` and `gocker emit-script` with the same options, for values that are
/// refused: both exit 125 with the same message (the usage line names the subcommand),
/// emit-script prints no script, and nothing ran.
fn check_refused_alike(
    test: &str,
    seed: u64,
    opts: &[OsString],
    cmd: &[OsString],
    io: &Path,
    markers: &Markers,
) -> Option<String> {
    let run_one = |sub: &str| {
        let mut c = gocker();
        c.arg(sub).args(opts).args(cmd);
        exec(c, io)
    };
    let run = run_one("run");
    let emit = run_one("emit-script");
    let norm = |b: &[u8]| String::from_utf8_lossy(b).replace("gocker emit-script", "gocker run");
    let mut fails = Vec::new();
    if run.code() != Some(125) || emit.code() != Some(125) {
        fails.push(format!(
            "want 125 from both: run {}, emit-script {}",
            st(&run.status),
            st(&emit.status)
        ));
    }
    if !emit.stdout.is_empty() || !run.stdout.is_empty() {
        fails.push(format!(
            "a refusal printed on stdout: run {}, emit-script {}",
            show(&run.stdout),
            show(&emit.stdout)
        ));
    }
    if run.stderr.is_empty() || norm(&run.stderr) != norm(&emit.stderr) {
        fails.push(format!(
            "want the same message:\n    run:         {:?}\n    emit-script: {:?}",
            norm(&run.stderr),
            norm(&emit.stderr)
        ));
    }
    for p in markers.found() {
        fails.push(format!("a payload was executed: {} exists", p.display()));
    }
    (!fails.is_empty()).then(|| {
        format!(
            "[{test} seed={seed:#x}]\n  options: {opts:?}\n  command: {cmd:?}\n  reproduce: GOCKER_PROPTEST_SEED={seed:#x} cargo test --test script_props {test}\n  {}",
            fails.join("\n  ")
        )
    })
}

fn rootfs_opt(root: &Path) -> Vec<OsString> {
    vec!["--rootfs".into(), root.as_os_str().to_owned()]
}

// ------------------------------------------------------------------ argv

#[test]
fn argv_round_trips_byte_for_byte() {
    let test = "argv_round_trips_byte_for_byte";
    if !need_root(test) {
        return;
    }
    let shells = shells(test);
    let rootfs = busybox_rootfs();
    let work = TempDir::new("props-argv");
    let seeds = case_seeds(test, 60);
    let mut fails = Vec::new();
    for &seed in &seeds.seeds {
        let mut rng = Rng::new(seed);
        let markers = Markers::new(work.path(), rootfs.path(), seed);
        let n = rng.below(9);
        let args: Vec<Vec<u8>> = (0..n).map(|_| hostile(&mut rng, &markers, ARG)).collect();
        let mut cmd = os(&["/bin/busybox", "printf", "%s\\0"]);
        cmd.extend(args.iter().map(|a| osb(a)));
        // printf uses its format once even without arguments.
        let expect = if args.is_empty() {
            vec![0]
        } else {
            args.iter()
                .flat_map(|a| a.iter().copied().chain([0]))
                .collect()
        };
        let case = Case {
            test,
            seed: Some(seed),
            opts: rootfs_opt(rootfs.path()),
            cmd,
            gocker_env: Vec::new(),
            script: work.path().join("argv.sh"),
            io: work.path(),
            expect: Some(expect),
            markers,
            written: Vec::new(),
        };
        fails.extend(case.check(&shells));
    }
    report(test, &seeds, fails);
}

/// A hostile command name is looked up and not found (or found not executable) alike:
/// never run in pieces, never taken for something else.
#[test]
fn hostile_command_names_are_looked_up_alike() {
    let test = "hostile_command_names_are_looked_up_alike";
    if !need_root(test) {
        return;
    }
    let shells = shells(test);
    let rootfs = busybox_rootfs();
    let work = TempDir::new("props-cmd");
    let seeds = case_seeds(test, 20);
    let mut fails = Vec::new();
    for &seed in &seeds.seeds {
        let mut rng = Rng::new(seed);
        let markers = Markers::new(work.path(), rootfs.path(), seed);
        let mut name = hostile(
            &mut rng,
            &markers,
            Rules {
                empty: false,
                ..ARG
            },
        );
        // A plain word could be one of busybox's applets: make sure it is not.
        if name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(b))
        {
            insert_at(&mut name, 0, b"no-such-");
        }
        let mut opts = rootfs_opt(rootfs.path());
        if name.starts_with(b"-") {
            opts.push("--".into());
        }
        let mut cmd = vec![osb(&name)];
        for _ in 0..rng.below(3) {
            cmd.push(osb(&hostile(&mut rng, &markers, ARG)));
        }
        let case = Case {
            test,
            seed: Some(seed),
            opts,
            cmd,
            gocker_env: Vec::new(),
            script: work.path().join("cmd.sh"),
            io: work.path(),
            expect: None,
            markers,
            written: Vec::new(),
        };
        let mut f = case.check(&shells);
        // Nothing by that name exists in the container: 126 or 127, never a success.
        let native = exec(case.gocker("run"), work.path());
        if !matches!(native.code(), Some(126 | 127)) {
            f.push(format!(
                "{}\n  gocker run of a missing command: {}",
                case.context(),
                st(&native.status)
            ));
        }
        fails.extend(f);
    }
    report(test, &seeds, fails);
}

/// Found by the test above: env(1), which the script's last line runs the command with,
/// takes a first word holding '=' for an assignment and runs the next word instead.
#[test]
fn command_with_an_equals_sign_is_not_an_assignment() {
    let test = "command_with_an_equals_sign_is_not_an_assignment";
    if !need_root(test) {
        return;
    }
    let shells = shells(test);
    let rootfs = busybox_rootfs();
    let work = TempDir::new("props-eq");
    let mut fails = Vec::new();
    for (i, cmd) in [
        os(&["A=b", "/bin/busybox", "echo", "executed"]),
        os(&["A=b"]),
    ]
    .into_iter()
    .enumerate()
    {
        let case = Case {
            test,
            seed: None,
            opts: rootfs_opt(rootfs.path()),
            cmd,
            gocker_env: Vec::new(),
            script: work.path().join("eq.sh"),
            io: work.path(),
            expect: None,
            markers: Markers::new(work.path(), rootfs.path(), i as u64),
            written: Vec::new(),
        };
        fails.extend(case.check(&shells));
        let native = exec(case.gocker("run"), work.path());
        assert_eq!(native.code(), Some(127), "{}", case.context());
    }
    assert!(fails.is_empty(), "{}", fails.join("\n\n"));
}

// ------------------------------------------------------------------ environment

/// The container's environment as gocker documents it: the defaults, then each `-e`,
/// a later key replacing an earlier one (and moving to the end); `-e KEY` copies KEY
/// from gocker's own environment, and is left out when that has none.
fn model_env(
    defaults: &[(Vec<u8>, Vec<u8>)],
    given: &[(Vec<u8>, Option<Vec<u8>>)],
    host: &[(OsString, OsString)],
) -> Vec<u8> {
    let mut env: Vec<(Vec<u8>, Vec<u8>)> = defaults.to_vec();
    for (k, v) in given {
        let v = match v {
            Some(v) => v.clone(),
            None => match host.iter().find(|(hk, _)| hk.as_bytes() == k.as_slice()) {
                Some((_, hv)) => hv.as_bytes().to_vec(),
                None => continue,
            },
        };
        env.retain(|(ek, _)| ek != k);
        env.push((k.clone(), v));
    }
    let mut out = Vec::new();
    for (k, v) in env {
        out.extend(k);
        out.push(b'=');
        out.extend(v);
        out.push(0);
    }
    out
}

fn safe_key(rng: &mut Rng) -> Vec<u8> {
    const FIRST: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ_";
    const REST: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";
    let mut k = vec![*rng.pick(FIRST)];
    for _ in 0..rng.below(8) {
        k.push(*rng.pick(REST));
    }
    k
}

/// A key gocker accepts that is anything but safe: no '=', no whitespace, not a digit
/// first. Not '-' first either: env(1) would take it for an option when it comes first,
/// which env_key_starting_with_a_dash_is_not_an_option shows on its own.
fn hostile_key(rng: &mut Rng, m: &Markers) -> Vec<u8> {
    let mut k = hostile(
        rng,
        m,
        Rules {
            bytes: true,
            forbid: b"= \t\n\x0c\r",
            empty: false,
            max: 16,
        },
    );
    if k[0].is_ascii_digit() || k[0] == b'-' {
        k.insert(0, b'K');
    }
    k
}

#[test]
fn env_values_round_trip_byte_for_byte() {
    let test = "env_values_round_trip_byte_for_byte";
    if !need_root(test) {
        return;
    }
    let shells = shells(test);
    let rootfs = busybox_rootfs();
    let work = TempDir::new("props-env");
    let show_env = os(&["/bin/busybox", "cat", "/proc/self/environ"]);
    // The defaults, as this gocker sets them.
    let base = exec(
        {
            let mut c = gocker();
            c.arg("run").args(rootfs_opt(rootfs.path())).args(&show_env);
            c
        },
        work.path(),
    );
    assert!(base.ok(), "{base:?}");
    let defaults: Vec<(Vec<u8>, Vec<u8>)> = base
        .stdout
        .split(|&b| b == 0)
        .filter(|e| !e.is_empty())
        .map(|e| {
            let i = e.iter().position(|&b| b == b'=').expect("KEY=VALUE");
            (e[..i].to_vec(), e[i + 1..].to_vec())
        })
        .collect();
    assert!(defaults.iter().any(|(k, _)| k == b"PATH"), "{defaults:?}");
    let seeds = case_seeds(test, 40);
    let mut fails = Vec::new();
    for &seed in &seeds.seeds {
        let mut rng = Rng::new(seed);
        let markers = Markers::new(work.path(), rootfs.path(), seed);
        let mut opts = rootfs_opt(rootfs.path());
        let mut given: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
        let mut host: Vec<(OsString, OsString)> = Vec::new();
        for _ in 0..1 + rng.below(5) {
            let value = hostile(&mut rng, &markers, ARG);
            let (key, value) = match rng.below(10) {
                0 => (rng.pick(&defaults).0.clone(), Some(value)),
                1 if !given.is_empty() => (rng.pick(&given).0.clone(), Some(value)),
                2 => (hostile_key(&mut rng, &markers), Some(value)),
                3 => {
                    // -e KEY: from gocker's environment, or left out when not there.
                    let key = [&b"GOCKER_PT_"[..], &safe_key(&mut rng)].concat();
                    if rng.one_in(4) {
                        host.retain(|(k, _)| k.as_bytes() != key.as_slice());
                    } else {
                        host.push((osb(&key), osb(&value)));
                    }
                    (key, None)
                }
                _ => (safe_key(&mut rng), Some(value)),
            };
            let entry = match &value {
                Some(v) => cat(&[&key, b"=", v]),
                None => osb(&key),
            };
            match rng.below(3) {
                0 => {
                    opts.push("-e".into());
                    opts.push(entry);
                }
                1 => {
                    opts.push("--env".into());
                    opts.push(entry);
                }
                _ => opts.push(cat(&[b"--env=", entry.as_bytes()])),
            }
            given.push((key, value));
        }
        // Host variables set more than once: gocker sees the last.
        let mut seen: Vec<&OsString> = Vec::new();
        let host: Vec<(OsString, OsString)> = host
            .iter()
            .rev()
            .filter(|(k, _)| {
                let new = !seen.contains(&k);
                seen.push(k);
                new
            })
            .cloned()
            .collect();
        let expect = model_env(&defaults, &given, &host);
        let case = Case {
            test,
            seed: Some(seed),
            opts,
            cmd: show_env.clone(),
            gocker_env: host,
            script: work.path().join("env.sh"),
            io: work.path(),
            expect: Some(expect),
            markers,
            written: Vec::new(),
        };
        fails.extend(case.check(&shells));
        // And a key gocker refuses, with the same hostile value: refused alike.
        let bad_key: &[u8] = rng.choose(BAD_KEYS);
        let value = hostile(&mut rng, &case.markers, ARG);
        let opts = vec![
            OsString::from("--rootfs"),
            rootfs.path().as_os_str().to_owned(),
            OsString::from("-e"),
            cat(&[bad_key, b"=", &value]),
        ];
        fails.extend(check_refused_alike(
            test,
            seed,
            &opts,
            &show_env,
            work.path(),
            &case.markers,
        ));
    }
    report(test, &seeds, fails);
}

/// Found with the property above: env(1) reads an entry that starts with '-' as an option when
/// it is the first one, which it is once -e has replaced every default (PATH, HOSTNAME,
/// HOME move to the end).
#[test]
fn env_key_starting_with_a_dash_is_not_an_option() {
    let test = "env_key_starting_with_a_dash_is_not_an_option";
    if !need_root(test) {
        return;
    }
    let shells = shells(test);
    let rootfs = busybox_rootfs();
    let work = TempDir::new("props-dash");
    let mut opts = rootfs_opt(rootfs.path());
    opts.extend(os(&[
        "--env=-u=1",
        "--env=PATH=/bin",
        "--env=HOSTNAME=h",
        "--env=HOME=/",
    ]));
    let case = Case {
        test,
        seed: None,
        opts,
        cmd: os(&["/bin/busybox", "cat", "/proc/self/environ"]),
        gocker_env: Vec::new(),
        script: work.path().join("dash.sh"),
        io: work.path(),
        expect: Some(b"-u=1\0PATH=/bin\0HOSTNAME=h\0HOME=/\0".to_vec()),
        markers: Markers::new(work.path(), rootfs.path(), 0),
        written: Vec::new(),
    };
    let fails = case.check(&shells);
    assert!(fails.is_empty(), "{}", fails.join("\n\n"));
}

/// Found while picking spellings for the properties: an option's value attached to it (`-w/dir`, `-eK=V`,
/// `--env=K=V`) that is not UTF-8 ends gocker's option rewriting, and what follows is
/// taken for the command.
#[test]
fn attached_values_that_are_not_utf8_are_values() {
    let test = "attached_values_that_are_not_utf8_are_values";
    if !need_root(test) {
        return;
    }
    let rootfs = busybox_rootfs();
    let work = TempDir::new("props-attached");
    let cases: [(Vec<&[u8]>, &[u8]); 3] = [
        (vec![b"-w/a\xff"], b"/a\xff\n"),
        (vec![b"-eK=\xff", b"-w/b"], b"/b\n"),
        // A Go-style flag after a value that is not UTF-8 is still a flag.
        (vec![b"--env=K=\xff", b"-workdir=/c"], b"/c\n"),
    ];
    let shells = shells(test);
    let mut fails = Vec::new();
    for (i, (opts, want)) in cases.iter().enumerate() {
        let mut all = rootfs_opt(rootfs.path());
        all.extend(opts.iter().map(|o| osb(o)));
        let case = Case {
            test,
            seed: None,
            opts: all,
            cmd: os(&["/bin/busybox", "pwd"]),
            gocker_env: Vec::new(),
            script: work.path().join("attached.sh"),
            io: work.path(),
            expect: Some(want.to_vec()),
            markers: Markers::new(work.path(), rootfs.path(), i as u64),
            written: Vec::new(),
        };
        fails.extend(case.check(&shells[..shells.len().min(1)]));
    }
    assert!(fails.is_empty(), "{}", fails.join("\n\n"));
}

// ------------------------------------------------------------------ hostnames

/// gocker's rule: RFC 1123 labels (letters, digits, '-' inside), dot-separated, at most
/// 64 bytes in all (the kernel's limit).
fn hostname_valid(name: &[u8]) -> bool {
    let label_ok = |l: &[u8]| {
        !l.is_empty()
            && l.len() <= 63
            && l[0] != b'-'
            && l[l.len() - 1] != b'-'
            && l.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    };
    !name.is_empty() && name.len() <= 64 && name.split(|&b| b == b'.').all(label_ok)
}

fn label(rng: &mut Rng, len: usize) -> Vec<u8> {
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..len)
        .map(|i| {
            if i == 0 || i + 1 == len || !rng.one_in(4) {
                *rng.pick(ALNUM)
            } else {
                b'-'
            }
        })
        .collect()
}

fn valid_hostname(rng: &mut Rng) -> Vec<u8> {
    match rng.below(8) {
        // The longest: one label of 63, or 64 bytes in all.
        0 => label(rng, 63),
        1 => [label(rng, 31), b".".to_vec(), label(rng, 32)].concat(),
        _ => {
            let labels: Vec<Vec<u8>> = (0..1 + rng.below(4))
                .map(|_| {
                    let n = 1 + rng.below(12);
                    label(rng, n)
                })
                .collect();
            labels.join(&b'.')
        }
    }
}

/// Near misses of a valid name, and hostile strings.
fn invalid_hostname(rng: &mut Rng, m: &Markers) -> Vec<u8> {
    let mut v = valid_hostname(rng);
    let at = rng.below(v.len() + 1);
    match rng.below(10) {
        0 => hostile(
            rng,
            m,
            Rules {
                bytes: false,
                ..ARG
            },
        ),
        1 => [&b"-"[..], &v].concat(),
        2 => [&v[..], b"-"].concat(),
        3 => {
            let dots: &[u8] = rng.choose(EMPTY_LABELS);
            insert_at(&mut v, at, dots);
            v
        }
        4 => [label(rng, 32), b".".to_vec(), label(rng, 32)].concat(),
        5 => label(rng, 64),
        6 => {
            let c = *rng.pick(b"_ *$`'\"\n;/\\!:@%");
            v.insert(at, c);
            v
        }
        7 => {
            let c = rng.pick(NON_ASCII).as_bytes();
            insert_at(&mut v, at, c);
            v
        }
        8 => Vec::new(),
        // Not UTF-8: clap refuses it before gocker sees it.
        _ => {
            v.insert(at, 0x80 + rng.below(0x80) as u8);
            v
        }
    }
}

/// `--hostname` in one of its spellings; the attached Go-style one only for UTF-8 (see
/// attached_values_that_are_not_utf8_are_values). A value that starts with '-' is
/// attached with '=' (`--hostname -i` is the option -i, for clap as for Docker).
fn hostname_opts(rng: &mut Rng, name: &[u8]) -> Vec<OsString> {
    let utf8 = std::str::from_utf8(name).is_ok();
    if name.starts_with(b"-") {
        return vec![cat(&[b"--hostname=", name])];
    }
    match rng.below(4) {
        0 => vec!["--hostname".into(), osb(name)],
        1 if utf8 => vec![cat(&[b"--hostname=", name])],
        2 if utf8 => vec![cat(&[b"-hostname=", name])],
        _ => vec!["-hostname".into(), osb(name)],
    }
}

#[test]
fn hostnames_round_trip_or_are_refused_alike() {
    let test = "hostnames_round_trip_or_are_refused_alike";
    if !need_root(test) {
        return;
    }
    let shells = shells(test);
    let rootfs = busybox_rootfs();
    let work = TempDir::new("props-host");
    let cmd = os(&[
        "/bin/busybox",
        "sh",
        "-c",
        "cat /proc/sys/kernel/hostname; printf '%s\\n' \"$HOSTNAME\"",
    ]);
    let seeds = case_seeds(test, 40);
    let mut fails = Vec::new();
    for &seed in &seeds.seeds {
        let mut rng = Rng::new(seed);
        let markers = Markers::new(work.path(), rootfs.path(), seed);
        // Half valid, half not.
        let name = if rng.one_in(2) {
            valid_hostname(&mut rng)
        } else {
            invalid_hostname(&mut rng, &markers)
        };
        let mut opts = rootfs_opt(rootfs.path());
        opts.extend(hostname_opts(&mut rng, &name));
        if !hostname_valid(&name) {
            fails.extend(check_refused_alike(
                test,
                seed,
                &opts,
                &cmd,
                work.path(),
                &markers,
            ));
            continue;
        }
        let case = Case {
            test,
            seed: Some(seed),
            opts,
            cmd: cmd.clone(),
            gocker_env: Vec::new(),
            script: work.path().join("hostname.sh"),
            io: work.path(),
            expect: Some([&name[..], b"\n", &name, b"\n"].concat()),
            markers,
            written: Vec::new(),
        };
        fails.extend(case.check(&shells));
    }
    report(test, &seeds, fails);
}

// ------------------------------------------------------------------ paths

/// What the container does with the paths of a case: print its working directory, then
/// for each volume (4 arguments: d|f, its path, a file in it, bytes to write) print the
/// file, a NUL, and for a directory whether it could write the bytes to `out` in it.
const PATH_PROBE: &str = r#"pwd
while [ "$#" -gt 0 ]; do
	if [ "$1" = d ]; then
		cat -- "$2/$3"
		printf '\0'
		if (printf %s "$4" >"$2/out") 2>/dev/null; then echo wrote; else echo read-only; fi
	else
		cat -- "$2"
		printf '\0'
	fi
	shift 4
done"#;

/// Up to `max` bytes, any of 0..=255.
fn random_bytes(rng: &mut Rng, max: usize) -> Vec<u8> {
    (0..rng.below(max + 1)).map(|_| rng.next() as u8).collect()
}

#[test]
fn paths_round_trip_byte_for_byte() {
    let test = "paths_round_trip_byte_for_byte";
    if !need_root(test) {
        return;
    }
    let shells = shells(test);
    let top = TempDir::new("props-paths");
    let io = top.path().join("io");
    let roots = top.path().join("roots");
    let vols = top.path().join("vols");
    let scripts = top.path().join("scripts");
    for d in [&io, &roots, &vols, &scripts] {
        std::fs::create_dir(d).expect("mkdir");
    }
    // The rootfs itself gets a hostile name, a new one for every case.
    let mut root = roots.join("first");
    let made = gocker()
        .args(["rootfs", "busybox"])
        .arg(&root)
        .output()
        .expect("run gocker rootfs");
    assert!(made.status.success(), "{}", stderr(&made));
    let seeds = case_seeds(test, 20);
    let mut fails = Vec::new();
    for &seed in &seeds.seeds {
        let mut rng = Rng::new(seed);
        // Markers are made for a rootfs name first known below: collect them after.
        let probe = Markers::new(&io, &root, seed);
        let name = component(&mut rng, &probe, true, b"/");
        let new_root = roots.join(OsStr::from_bytes(&name));
        std::fs::rename(&root, &new_root).expect("rename the rootfs");
        root = new_root;
        let mut markers = Markers::new(&io, &root, seed);
        let mut opts = rootfs_opt(&root);
        let mut probe_args: Vec<OsString> = Vec::new();
        let mut expect = Vec::new();
        let mut written = Vec::new();

        // -w: a hostile path; its first component starts with 'w' so that it cannot be
        // one of the rootfs's own directories.
        let cwd = if rng.one_in(2) {
            let mut comps: Vec<Vec<u8>> = (0..1 + rng.below(3))
                .map(|_| component(&mut rng, &markers, true, b"/"))
                .collect();
            comps[0].insert(0, b'w');
            let spelled = spell_path(&mut rng, &comps);
            if rng.one_in(2) {
                opts.push("-w".into());
                opts.push(osb(&spelled));
            } else {
                opts.push(cat(&[b"--workdir=", &spelled]));
            }
            join_components(&comps)
        } else {
            b"/".to_vec()
        };
        markers.also_in(&root.join(OsStr::from_bytes(&cwd[1..])));
        expect.extend(&cwd);
        expect.push(b'\n');

        // -v: hostile host directories (or files) at hostile container paths, neither
        // with ':' (it separates the fields); ro, rw or neither.
        let n_vols = if cwd == b"/" {
            1 + rng.below(2)
        } else {
            rng.below(3)
        };
        for i in 0..n_vols {
            let parent = vols.join(format!("{seed:x}-{i}"));
            std::fs::create_dir_all(&parent).expect("mkdir volume parent");
            let host_name = component(&mut rng, &markers, true, b"/:");
            let host = parent.join(OsStr::from_bytes(&host_name));
            let mut comps: Vec<Vec<u8>> = (0..1 + rng.below(3))
                .map(|_| component(&mut rng, &markers, true, b"/:"))
                .collect();
            insert_at(&mut comps[0], 0, format!("v{i}").as_bytes());
            let target = join_components(&comps);
            let mode: &[u8] = rng.choose(MODES);
            let content = random_bytes(&mut rng, 48);
            if rng.one_in(4) {
                std::fs::write(&host, &content).expect("write volume file");
                probe_args.extend([osb(b"f"), osb(&target), osb(b""), osb(b"")]);
                expect.extend(&content);
                expect.push(0);
            } else {
                std::fs::create_dir(&host).expect("mkdir volume");
                let mut file = component(&mut rng, &markers, true, b"/");
                if file == b"out" {
                    file.push(b'x');
                }
                std::fs::write(host.join(OsStr::from_bytes(&file)), &content)
                    .expect("write volume file");
                let payload = hostile(&mut rng, &markers, ARG);
                probe_args.extend([osb(b"d"), osb(&target), osb(&file), osb(&payload)]);
                expect.extend(&content);
                expect.push(0);
                if mode == b":ro" {
                    expect.extend(b"read-only\n");
                } else {
                    expect.extend(b"wrote\n");
                    written.push((host.join("out"), payload));
                }
                markers.also_in(&host);
            }
            let spelled = spell_path(&mut rng, &comps);
            let v = cat(&[host.as_os_str().as_bytes(), b":", &spelled, mode]);
            if rng.one_in(2) {
                opts.push("-v".into());
                opts.push(v);
            } else {
                opts.push(cat(&[b"--volume=", v.as_bytes()]));
            }
        }

        let mut cmd = os(&["/bin/busybox", "sh", "-c", PATH_PROBE, "sh"]);
        cmd.extend(probe_args);
        // The script's own file name is hostile too: it runs itself again by it.
        let script_name = component(&mut rng, &markers, true, b"/");
        let case = Case {
            test,
            seed: Some(seed),
            opts,
            cmd,
            gocker_env: Vec::new(),
            script: scripts.join(OsStr::from_bytes(&script_name)),
            io: &io,
            expect: Some(expect),
            markers,
            written,
        };
        fails.extend(case.check(&shells));
        let _ = std::fs::remove_file(&case.script);
    }
    report(test, &seeds, fails);
}

/// Found by a random case: under busybox sh the script's `mount` is busybox's own applet,
/// which cuts a source path at '#' (`mount --rbind /x#y ...` mounts /x): a rootfs or a
/// volume whose path holds '#' fails under busybox sh alone.
#[test]
fn busybox_sh_mounts_paths_with_a_hash() {
    let test = "busybox_sh_mounts_paths_with_a_hash";
    if !need_root(test) {
        return;
    }
    let shells = shells(test);
    let top = TempDir::new("props-hash");
    let root = top.path().join("root#1");
    let made = gocker()
        .args(["rootfs", "busybox"])
        .arg(&root)
        .output()
        .expect("run gocker rootfs");
    assert!(made.status.success(), "{}", stderr(&made));
    let vol = top.path().join("vol#1");
    std::fs::create_dir(&vol).expect("mkdir volume");
    std::fs::write(vol.join("f"), "through the volume\n").expect("write volume file");
    let mut opts = rootfs_opt(&root);
    opts.push("-v".into());
    opts.push(cat(&[vol.as_os_str().as_bytes(), b":/v#1:ro"]));
    let case = Case {
        test,
        seed: None,
        opts,
        cmd: os(&["/bin/busybox", "cat", "/v#1/f"]),
        gocker_env: Vec::new(),
        script: top.path().join("hash.sh"),
        io: top.path(),
        expect: Some(b"through the volume\n".to_vec()),
        markers: Markers::new(top.path(), &root, 0),
        written: Vec::new(),
    };
    let fails = case.check(&shells);
    assert!(fails.is_empty(), "{}", fails.join("\n\n"));
}

// ------------------------------------------------------------------ scripts, without root

/// Every option at once, hostile: the script is UTF-8 with a header of comments only,
/// the same options give the same bytes, dash, bash and busybox sh parse it (`-n`), and
/// shellcheck finds no warning in a handful. Needs no root: nothing runs.
#[test]
fn hostile_scripts_parse_and_pass_shellcheck() {
    let test = "hostile_scripts_parse_and_pass_shellcheck";
    let top = TempDir::new("props-parse");
    let io = top.path().join("io");
    std::fs::create_dir(&io).expect("mkdir");
    let seeds = case_seeds(test, 24);
    let mut fails = Vec::new();
    let mut for_shellcheck = Vec::new();
    let parsers: Vec<(&str, Vec<OsString>)> = [
        ("dash", &["dash", "-n"][..]),
        ("bash", &["bash", "-n"]),
        ("busybox sh", &["busybox", "sh", "-n"]),
    ]
    .into_iter()
    .filter_map(|(name, argv)| {
        tool(argv[0], test).map(|p| {
            let mut v = vec![p.into_os_string()];
            v.extend(argv[1..].iter().map(OsString::from));
            (name, v)
        })
    })
    .collect();
    for (n, &seed) in seeds.seeds.iter().enumerate() {
        let mut rng = Rng::new(seed);
        let root_name = component(&mut rng, &Markers::new(&io, &io, seed), true, b"/");
        let root = top
            .path()
            .join(format!("r{n}"))
            .join(OsStr::from_bytes(&root_name));
        std::fs::create_dir_all(&root).expect("mkdir rootfs");
        let markers = Markers::new(&io, &root, seed);
        let mut opts = rootfs_opt(&root);
        if rng.one_in(2) {
            opts.extend(os(&[
                "--cgroup",
                *rng.pick(&["v1", "v2"]),
                "--cpus",
                "0.5",
                "-m",
                "64",
                "--pids-limit",
                "10",
            ]));
        }
        for flag in ["-i", "-t"] {
            if rng.one_in(3) {
                opts.push(flag.into());
            }
        }
        let hostname = valid_hostname(&mut rng);
        opts.extend(hostname_opts(&mut rng, &hostname));
        for _ in 0..rng.below(4) {
            let value = hostile(&mut rng, &markers, ARG);
            let key = if rng.one_in(3) {
                hostile_key(&mut rng, &markers)
            } else {
                safe_key(&mut rng)
            };
            opts.push(cat(&[b"--env=", &key, b"=", &value]));
        }
        if rng.one_in(2) {
            let comps: Vec<Vec<u8>> = (0..1 + rng.below(3))
                .map(|_| component(&mut rng, &markers, true, b"/"))
                .collect();
            opts.push("-w".into());
            opts.push(osb(&spell_path(&mut rng, &comps)));
        }
        for i in 0..rng.below(3) {
            let name = component(&mut rng, &markers, true, b"/:");
            let host = top
                .path()
                .join(format!("v{n}-{i}"))
                .join(OsStr::from_bytes(&name));
            std::fs::create_dir_all(&host).expect("mkdir volume");
            let comps: Vec<Vec<u8>> = (0..1 + rng.below(3))
                .map(|_| component(&mut rng, &markers, true, b"/:"))
                .collect();
            let mode: &[u8] = rng.choose(MODES);
            opts.push("-v".into());
            opts.push(cat(&[
                host.as_os_str().as_bytes(),
                b":",
                &spell_path(&mut rng, &comps),
                mode,
            ]));
        }
        let mut cmd = vec![osb(&component(&mut rng, &markers, true, b""))];
        for _ in 0..rng.below(6) {
            cmd.push(osb(&hostile(&mut rng, &markers, ARG)));
        }
        if cmd[0].as_bytes().starts_with(b"-") {
            opts.push("--".into());
        }
        let context = format!(
            "[{test} seed={seed:#x}]\n  options: {opts:?}\n  command: {cmd:?}\n  reproduce: GOCKER_PROPTEST_SEED={seed:#x} cargo test --test script_props {test}"
        );
        let emit = || {
            let mut c = gocker();
            c.arg("emit-script").args(&opts).args(&cmd);
            exec(c, &io)
        };
        let (first, second) = (emit(), emit());
        let mut f = Vec::new();
        if !first.ok() {
            f.push(format!(
                "emit-script failed ({}): {}",
                st(&first.status),
                String::from_utf8_lossy(&first.stderr)
            ));
        } else {
            if first.stdout != second.stdout {
                f.push("the same options gave different scripts".into());
            }
            f.extend(text_problems(&first.stdout));
            let file = top.path().join(format!("case{n}.sh"));
            std::fs::write(&file, &first.stdout).expect("write the script");
            for (name, argv) in &parsers {
                let mut c = Command::new(&argv[0]);
                c.args(&argv[1..]).arg(&file);
                let out = exec(c, &io);
                if !out.ok() {
                    f.push(format!(
                        "{name} -n: {}",
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
            }
            if for_shellcheck.len() < 8 {
                for_shellcheck.push((file, context.clone()));
            }
        }
        for p in markers.found() {
            f.push(format!("a payload was executed: {} exists", p.display()));
        }
        if !f.is_empty() {
            fails.push(format!("{context}\n  {}", f.join("\n  ")));
        }
    }
    if let Some(shellcheck) = tool("shellcheck", test)
        && !for_shellcheck.is_empty()
    {
        let out = Command::new(shellcheck)
            .args(["-S", "warning", "-s", "sh", "-f", "gcc"])
            .args(for_shellcheck.iter().map(|(f, _)| f))
            .output()
            .expect("run shellcheck");
        if !out.status.success() {
            let text = stdout(&out);
            for (file, context) in &for_shellcheck {
                let name = file.to_string_lossy();
                let mine: Vec<&str> = text.lines().filter(|l| l.starts_with(&*name)).collect();
                if !mine.is_empty() {
                    fails.push(format!("{context}\n  shellcheck:\n  {}", mine.join("\n  ")));
                }
            }
            if fails.is_empty() {
                fails.push(format!("shellcheck failed: {text}{}", stderr(&out)));
            }
        }
    }
    report(test, &seeds, fails);
}

/// Found by the random cases above: a value holding a carriage return (SC1017), or a
/// newline followed by '!' (the header's next line then reads `# !...`, SC1115/SC1128),
/// makes shellcheck reject the script.
#[test]
fn shellcheck_passes_carriage_returns_and_bang_lines() {
    let test = "shellcheck_passes_carriage_returns_and_bang_lines";
    let Some(shellcheck) = tool("shellcheck", test) else {
        return;
    };
    let top = TempDir::new("props-sc");
    let mut fails = Vec::new();
    for (i, value) in ["a\rb", "a\n!b", "x\n!/bin/sh"].iter().enumerate() {
        let mut c = gocker();
        c.arg("emit-script").args(rootfs_opt(top.path())).args([
            "-e",
            &format!("V={value}"),
            "/bin/echo",
            value,
        ]);
        let out = exec(c, top.path());
        assert!(out.ok(), "{}", String::from_utf8_lossy(&out.stderr));
        let file = top.path().join(format!("sc{i}.sh"));
        std::fs::write(&file, &out.stdout).expect("write the script");
        let sc = Command::new(&shellcheck)
            .args(["-S", "warning", "-s", "sh", "-f", "gcc"])
            .arg(&file)
            .output()
            .expect("run shellcheck");
        if !sc.status.success() {
            fails.push(format!(
                "value {value:?} (as -e V=VALUE and as an argument):\n{}",
                stdout(&sc)
            ));
        }
    }
    assert!(fails.is_empty(), "{}", fails.join("\n"));
}

// ------------------------------------------------------------------ lesson mode

/// The lesson script (`emit-script --lesson`) quotes with the same filter: hostile argv, a
/// valid hostname and a rootfs whose path is hostile reach the container as `gocker run`
/// shows them, with nothing executed on the way.
#[test]
fn lesson_mode_round_trips_argv_hostname_and_rootfs_path() {
    let test = "lesson_mode_round_trips_argv_hostname_and_rootfs_path";
    if !need_root(test) {
        return;
    }
    let shells = shells(test);
    let rootfs = busybox_rootfs();
    let work = TempDir::new("props-lesson");
    let seeds = case_seeds(test, 40);
    let mut fails = Vec::new();
    for &seed in &seeds.seeds {
        let mut rng = Rng::new(seed);
        let markers = Markers::new(work.path(), rootfs.path(), seed);
        // The rootfs moved, for this case, to a directory with a hostile name.
        let dir = work
            .path()
            .join(osb(&component(&mut rng, &markers, true, b"/")));
        std::fs::rename(rootfs.path(), &dir).expect("move the rootfs to a hostile path");
        let n = rng.below(7);
        let args: Vec<Vec<u8>> = (0..n).map(|_| hostile(&mut rng, &markers, ARG)).collect();
        let name = valid_hostname(&mut rng);
        let mut cmd = os(&[
            "/bin/busybox",
            "sh",
            "-c",
            "hostname; printf '%s\\0' \"$@\"",
            "sh",
        ]);
        cmd.extend(args.iter().map(|a| osb(a)));
        let mut expect = [&name[..], b"\n"].concat();
        for a in &args {
            expect.extend(a);
            expect.push(0);
        }
        // printf uses its format once even without arguments.
        if args.is_empty() {
            expect.push(0);
        }
        let mut opts = vec![OsString::from("--lesson")];
        opts.extend(rootfs_opt(&dir));
        opts.extend(hostname_opts(&mut rng, &name));
        if rng.one_in(2) {
            opts.extend(os(&["--cpus", "0.5"]));
        }
        let case = Case {
            test,
            seed: Some(seed),
            opts,
            cmd,
            gocker_env: Vec::new(),
            script: work.path().join("lesson.sh"),
            io: work.path(),
            expect: Some(expect),
            markers,
            written: Vec::new(),
        };
        fails.extend(case.check(&shells));
        std::fs::rename(&dir, rootfs.path()).expect("put the rootfs back");
    }
    report(test, &seeds, fails);
}
