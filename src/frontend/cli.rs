//! The command line: clap structures, and the rewrite that lets the lesson's Go-style
//! flags (`-rootfs=/tmp/busybox`, `-cpus=1`) through unchanged.
//!
//! The clap structures are validated beyond their types only by `RunArgs::to_spec`
//! (`cli/options.rs`, the option parsers), which builds the `ContainerSpec`.

mod options;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "gocker",
    version,
    about = "A tiny container runtime that shows what a container really is",
    long_about = "gocker builds a container from Linux primitives: namespaces (mount, UTS, IPC, \
PID, network), pivot_root into a root filesystem, a fresh /proc, a hostname, and cgroup limits \
on CPU, memory and processes (cgroup v1 or v2).\n\n\
`gocker run` does it natively with system calls; `gocker emit-script` prints the same container \
as a shell script you can read and run; `gocker check` tells what this host supports.",
    after_help = "Examples:\n  \
gocker run -it /bin/sh                          # a shell in a read-only view of this host\n  \
gocker rootfs busybox /tmp/busybox              # make the lesson's root filesystem\n  \
gocker run -it -rootfs=/tmp/busybox -cpus=1 /bin/sh   # lesson 18, verbatim\n  \
gocker emit-script --cpus 0.5 -m 64 /bin/sh     # the same container as a shell script"
)]
pub struct Cli {
    #[command(flatten)]
    pub oci: super::runtime_cli::GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a command in a new container
    #[command(after_help = "Examples:\n  \
gocker run -it /bin/sh                                # a shell in a read-only view of this host\n  \
gocker run -it -rootfs=/tmp/busybox -cpus=1 /bin/sh   # lesson 18, verbatim\n  \
gocker run --rootfs /tmp/busybox -m 64m --pids-limit 50 -e A=1 -w /work -v /srv:/srv:ro sh -c 'echo $A'\n  \
gocker run -d --name web --rootfs /tmp/busybox httpd -f -p 8080    # in the background: prints its id\n  \
gocker run -d --rm --rootfs /tmp/busybox sh -c 'sleep 5; exit 3'   # removed once it exits\n\n\
Go-style flags from the lesson work too: -it -rootfs=/tmp/busybox -cpus=1 -m=100.\n\
Everything after COMMAND is passed to it untouched, including arguments that look like flags.\n\
A detached container (-d) outlives this command and its terminal: see gocker ps, logs, exec, \
stop and rm.\n\n\
Exit status: the command's own; 128+N if it was killed by signal N (137 when the memory limit \
was hit); 125 if gocker itself failed; 126 if the command cannot be invoked; 127 if it was not found. \
With -d: 0 once the container runs, 125 if it could not be started.")]
    Run(RunCmd),
    /// Print a POSIX shell script that builds the same container with host tools
    #[command(
        name = "emit-script",
        after_help = "Examples:\n  \
gocker emit-script -rootfs=/tmp/busybox -cpus=1 /bin/sh > container.sh && sudo sh container.sh\n  \
gocker emit-script --lesson -rootfs=/tmp/busybox -cpus=1 /bin/sh   # lesson 18's steps alone\n  \
gocker emit-script --cgroup v2 --lang zh --rootfs /tmp/busybox sh  # for a cgroup v2 host, comments in Chinese\n\n\
The script uses util-linux unshare, mount, umount, pivot_root and hostname, and \
writes cgroup files with echo. Same options, same container as `gocker run`; the same options always \
print the same bytes."
    )]
    EmitScript(EmitArgs),
    /// Report what this host supports: namespaces, cgroups, tools
    #[command(after_help = "Examples:\n  \
gocker check           # the grouped report, with a hint under each missing item\n  \
gocker check --json    # the same facts as JSON\n\n\
Exit status: 0 when gocker run can work on this host; 1 when it cannot (the first line names what is missing).")]
    Check(CheckArgs),
    /// Make a root filesystem to run containers in
    #[command(
        subcommand,
        after_help = "Examples:\n  gocker rootfs busybox /tmp/busybox   # the lesson's /tmp/busybox"
    )]
    Rootfs(RootfsCommand),
    /// Print a shell completion script (bash, zsh, fish)
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions(super::life::CompletionsArgs),
    /// Print the man page generated from these definitions, or write every page to a directory
    #[command(after_help = MAN_EXAMPLES)]
    Man(super::life::ManArgs),
    #[command(flatten)]
    Oci(super::runtime_cli::OciCommand),
    /// Run a command in a running container (OCI and Docker flags)
    Exec(super::exec_cli::ExecArgs),
    /// Write a container's root filesystem as a tar archive (stdout, or -o FILE)
    Export(super::image_cli::ExportArgs),
    /// Write a container's root filesystem as a new rootfs directory
    Commit(super::image_cli::CommitArgs),
    /// Print what gocker knows of containers, as JSON (Docker's inspect)
    #[command(after_help = super::containers::INSPECT_EXAMPLES)]
    Inspect(super::containers::InspectArgs),
    /// Print a detached container's output (stdout and stderr)
    #[command(after_help = super::containers::LOGS_EXAMPLES)]
    Logs(super::containers::LogsArgs),
    /// Stop running containers: SIGTERM, then SIGKILL after a grace period
    #[command(after_help = super::containers::STOP_EXAMPLES)]
    Stop(super::containers::StopArgs),
    /// Remove containers: their state, layer, log, cgroup and name
    #[command(after_help = super::containers::RM_EXAMPLES)]
    Rm(super::containers::RmArgs),
}

const COMPLETIONS_EXAMPLES: &str = "Examples:\n  \
gocker completions bash > /etc/bash_completion.d/gocker\n  \
gocker completions zsh > \"${fpath[1]}/_gocker\"\n  \
gocker completions fish > ~/.config/fish/completions/gocker.fish";

const MAN_EXAMPLES: &str = "Examples:\n  \
gocker man | man -l -                 # read gocker(1)\n  \
gocker man --dir /usr/local/share/man/man1   # gocker.1, gocker-run.1, ... for man gocker-run";

/// `gocker run`: the container's options, and how to show it being built.
#[derive(Args, Debug)]
pub struct RunCmd {
    /// Print each step of lesson 18 on stderr as it happens: the system call, its
    /// arguments, the lesson's Go code, and evidence (GOCKER_TRACE=1 for the script)
    #[arg(long)]
    pub trace: bool,

    /// The language of --trace's words (the system calls and evidence are the same in both)
    #[arg(long, value_enum, value_name = "LANG", default_value = "en")]
    pub lang: LangArg,

    /// Run the container an OCI bundle's config.json describes (DIR/config.json); the
    /// only word after it is the container's ID [default: DIR's name]
    #[arg(long, value_name = "DIR")]
    pub bundle: Option<PathBuf>,

    /// Run the container in the background and print its id; it outlives this command
    /// and its terminal (see gocker ps, logs, exec, stop, rm)
    #[arg(short = 'd', long)]
    pub detach: bool,

    /// A unique name for the detached container, usable wherever its id is
    #[arg(long, value_name = "NAME", requires = "detach")]
    pub name: Option<String>,

    /// Remove the detached container (state, layer, log) once it exits
    #[arg(long)]
    pub rm: bool,

    #[command(flatten)]
    pub run: RunArgs,
}

/// The options of `run` (and of `emit-script`, which builds the same container).
#[derive(Args, Debug, Clone, Default)]
pub struct RunArgs {
    /// Keep stdin open and connect it to the container
    #[arg(short = 'i', long)]
    pub interactive: bool,

    /// Give the container a terminal (use -it for an interactive shell)
    #[arg(short = 't', long)]
    pub tty: bool,

    /// Root filesystem directory, the read-only lower layer of the container's own
    /// copy-on-write root [default: a read-only view of this host's /usr, /bin, /lib*, /etc]
    #[arg(long, value_name = "DIR")]
    pub rootfs: Option<PathBuf>,

    /// Write straight into the --rootfs directory (the lesson's way) instead of into a
    /// copy-on-write layer of the container's own over it
    #[arg(long = "rootfs-rw")]
    pub rootfs_rw: bool,

    /// CPU limit in CPUs, fractions allowed (0.5 = half of one CPU)
    #[arg(long, value_name = "N")]
    pub cpus: Option<String>,

    /// Memory limit: a bare number is MiB (as in the lesson); or with a suffix b, k, m, g
    #[arg(short = 'm', long, value_name = "SIZE")]
    pub memory: Option<String>,

    /// Maximum number of processes in the container
    #[arg(long = "pids-limit", value_name = "N")]
    pub pids_limit: Option<String>,

    /// Hostname inside the container
    #[arg(long, value_name = "NAME", default_value = "gocker")]
    pub hostname: String,

    /// Set an environment variable (repeatable)
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<OsString>,

    /// Working directory inside the container [default: /]
    #[arg(short = 'w', long = "workdir", value_name = "DIR")]
    pub workdir: Option<OsString>,

    /// Bind-mount a host path into the container (repeatable; add :ro for read-only)
    #[arg(short = 'v', long = "volume", value_name = "HOST:CONTAINER[:ro]")]
    pub volumes: Vec<OsString>,

    /// Lift a default wall: seccomp=unconfined (no system call filter),
    /// devices=unconfined (no device allow list) (repeatable)
    #[arg(long = "security-opt", value_name = "OPT")]
    pub security_opt: Vec<String>,

    /// The command and its arguments, passed exactly as given
    #[arg(
        value_name = "COMMAND",
        required_unless_present = "bundle",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        num_args = 1..
    )]
    pub command: Vec<OsString>,
}

#[derive(Args, Debug)]
pub struct EmitArgs {
    /// Render for this cgroup version [default: this host's]
    #[arg(long, value_enum, value_name = "VERSION")]
    pub cgroup: Option<CgroupArg>,

    /// Only what lesson 18 does (namespaces, pivot_root, /proc, hostname lagoudocker unless
    /// --hostname names another, cgroup limits): one screen, for reading, not for an untrusted image
    #[arg(long)]
    pub lesson: bool,

    /// The language of the script's comments and trace words (the code is the same in both)
    #[arg(long, value_enum, value_name = "LANG", default_value = "en")]
    pub lang: LangArg,

    /// Render the container an OCI bundle's config.json describes (DIR/config.json)
    #[arg(long, value_name = "DIR")]
    pub bundle: Option<PathBuf>,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LangArg {
    En,
    Zh,
}

impl From<LangArg> for crate::script::Lang {
    fn from(l: LangArg) -> Self {
        match l {
            LangArg::En => crate::script::Lang::En,
            LangArg::Zh => crate::script::Lang::Zh,
        }
    }
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupArg {
    V1,
    V2,
}

impl CgroupArg {
    pub fn version(self) -> crate::cgroup::Version {
        match self {
            CgroupArg::V1 => crate::cgroup::Version::V1,
            CgroupArg::V2 => crate::cgroup::Version::V2,
        }
    }
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Print the facts as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum RootfsCommand {
    /// Lay out a busybox root filesystem in DIR from the host's static busybox
    Busybox {
        /// The directory to fill (created if missing)
        dir: PathBuf,
    },
}

/// `normalize_args_with` on a freshly built command, for tests.
#[cfg(test)]
pub fn normalize_args(args: Vec<OsString>) -> Vec<OsString> {
    normalize_args_with(&<Cli as clap::CommandFactory>::command(), args).expect("known options")
}

/// An option before the command that the subcommand does not have: with a trailing command,
/// clap would take it for the command itself (`--memroy 64m sh` ran `--memroy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownOption {
    pub option: String,
    pub suggestion: Option<String>,
}

impl std::fmt::Display for UnknownOption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown option {}", self.option)?;
        if let Some(s) = &self.suggestion {
            write!(f, " (did you mean {s}?)")?;
        }
        f.write_str(
            "; put the command after the options, and `--` before a command that starts with '-'",
        )
    }
}

/// Edit distance, for suggesting the option that was meant.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn unknown(sub: &clap::Command, spelled: &[u8], name: &[u8]) -> UnknownOption {
    let name = String::from_utf8_lossy(name);
    let suggestion = sub
        .get_arguments()
        .filter_map(|a| a.get_long())
        .map(|l| (distance(&name, l), l))
        .filter(|(d, l)| *d <= 2.max(l.len() / 3))
        .min()
        .map(|(_, l)| format!("--{l}"));
    UnknownOption {
        option: String::from_utf8_lossy(spelled).into_owned(),
        suggestion,
    }
}

/// `gocker run …` parsed with a command that holds only `run`: clap builds the arguments
/// of every subcommand when it builds a command, ~150 us a start with all of gocker's (the
/// OCI, exec and lifecycle ones), on the path every container start takes. `None` unless
/// it is a plain `run` that parses cleanly; the caller then parses with the whole command,
/// so every error, help and version text is the whole command's.
pub fn parse_run_fast(args: &[OsString]) -> Option<Cli> {
    use clap::{Args as _, FromArgMatches};
    if args.get(1).map(|a| a.as_bytes()) != Some(b"run".as_slice()) {
        return None;
    }
    let asks = |a: &OsString| matches!(a.as_bytes(), b"-h" | b"--help" | b"-V" | b"--version");
    if args.iter().any(asks) {
        return None;
    }
    let root = super::runtime_cli::GlobalArgs::augment_args(clap::Command::new("gocker"))
        .subcommand(RunCmd::augment_args(clap::Command::new("run")));
    let args = normalize_args_with(&root, args.to_vec()).ok()?;
    let m = root.try_get_matches_from(args).ok()?;
    let ("run", sub) = m.subcommand()? else {
        return None;
    };
    Some(Cli {
        oci: super::runtime_cli::GlobalArgs::from_arg_matches(&m).ok()?,
        command: Command::Run(RunCmd::from_arg_matches(sub).ok()?),
    })
}

/// Rewrites Go-style single-dash long flags (`-rootfs=/x`, `-cpus 1`) to `--rootfs=/x`,
/// `--cpus 1`, stopping at the command so that its own arguments are never touched.
/// An option the subcommand does not have, before the command, is an error.
/// Takes the clap command main builds anyway: building one is a good part of start-up.
pub fn normalize_args_with(
    cmd: &clap::Command,
    args: Vec<OsString>,
) -> Result<Vec<OsString>, UnknownOption> {
    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.into_iter();
    // argv[0], then the subcommand name.
    out.extend(iter.by_ref().take(1));
    let Some(sub_name) = iter.next() else {
        return Ok(out);
    };
    let sub = cmd.find_subcommand(&sub_name).cloned();
    out.push(sub_name);
    let Some(sub) = sub else {
        out.extend(iter);
        return Ok(out);
    };
    // Only where a trailing command follows: elsewhere clap reports unknown options itself.
    let has_command = sub.get_arguments().any(|a| a.is_trailing_var_arg_set());
    // clap adds these when it builds the command, so they are not listed yet.
    let builtin_long = |n: &[u8]| n == b"help" || n == b"version";
    let builtin_short = |c: u8| c == b'h' || c == b'V';
    let long_takes_value = |name: &str| -> Option<bool> {
        sub.get_arguments()
            .find(|a| a.get_long() == Some(name))
            .map(|a| a.get_action().takes_values())
    };
    let short_takes_value = |c: char| -> bool {
        sub.get_arguments()
            .find(|a| a.get_short() == Some(c))
            .is_some_and(|a| a.get_action().takes_values())
    };
    // Bytes, not str: a value may be any bytes (`-w /a\xff`), while every flag name is ASCII.
    let os = |b: &[u8]| OsString::from_vec(b.to_vec());
    let split_eq = |b: &[u8]| match b.iter().position(|&c| c == b'=') {
        Some(i) => (b[..i].to_vec(), true),
        None => (b.to_vec(), false),
    };
    while let Some(arg) = iter.next() {
        let bytes = arg.as_bytes().to_vec();
        let s = bytes.as_slice();
        if s == b"--" || !s.starts_with(b"-") || s == b"-" {
            out.push(arg);
            break;
        }
        if let Some(long) = s.strip_prefix(b"--") {
            let (name, has_value) = split_eq(long);
            let takes = std::str::from_utf8(&name).ok().and_then(long_takes_value);
            if takes.is_none() && has_command && !builtin_long(&name) {
                return Err(unknown(&sub, &[b"--", name.as_slice()].concat(), &name));
            }
            out.push(arg);
            if takes == Some(true) && !has_value {
                out.extend(iter.next());
            }
            continue;
        }
        let body = &s[1..];
        let (name, has_value) = split_eq(body);
        if name.len() > 1
            && let Some(takes) = std::str::from_utf8(&name).ok().and_then(long_takes_value)
        {
            out.push(os(&[b"--", body].concat()));
            if takes && !has_value {
                out.extend(iter.next());
            }
            continue;
        }
        // A cluster of short flags such as -it, or -m 64 / -m64 / -m=64 (clap would
        // take the last two for the command, so the value is split off).
        let is_flag = |c: u8| {
            c.is_ascii()
                && sub
                    .get_arguments()
                    .any(|a| a.get_short() == Some(c as char) && !a.get_action().takes_values())
        };
        // A word such as -memroy=64 is a misspelt Go-style long flag, not -m with the
        // value "emroy=64": a cluster is short flags only, or ends in one value.
        if has_command
            && name.len() > 2
            && !name.iter().all(|&c| is_flag(c))
            && name.iter().all(|c| c.is_ascii_alphabetic() || *c == b'-')
        {
            return Err(unknown(&sub, s, &name));
        }
        let mut needs_next = false;
        let mut arg = arg;
        for (i, &c) in body.iter().enumerate() {
            let known = c.is_ascii()
                && (builtin_short(c)
                    || sub
                        .get_arguments()
                        .any(|a| a.get_short() == Some(c as char)));
            if !known && has_command {
                // `-memroy` (a Go-style long flag misspelt) or `-x`: either way not ours.
                return Err(if name.len() > 1 {
                    unknown(&sub, s, &name)
                } else {
                    unknown(&sub, &[b'-', c], &[c])
                });
            }
            if !c.is_ascii() {
                break;
            }
            if short_takes_value(c as char) {
                let end = i + 1;
                needs_next = end == body.len();
                let rest = &body[end..];
                if !rest.is_empty() {
                    out.push(os(&[b"-", &body[..end]].concat()));
                    arg = os(rest.strip_prefix(b"=").unwrap_or(rest));
                }
                break;
            }
        }
        out.push(arg);
        if needs_next {
            out.extend(iter.next());
        }
    }
    out.extend(iter);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn norm(args: &[&str]) -> Vec<String> {
        normalize_args(args.iter().map(OsString::from).collect())
            .into_iter()
            .map(|s| s.into_string().unwrap())
            .collect()
    }

    fn parse(args: &[&str]) -> RunArgs {
        let v = normalize_args(args.iter().map(OsString::from).collect());
        match Cli::try_parse_from(v).unwrap().command {
            Command::Run(r) => r.run,
            other => panic!("not run: {other:?}"),
        }
    }

    #[test]
    fn lesson_command_line_verbatim() {
        let r = parse(&[
            "gocker",
            "run",
            "-it",
            "-cpus=1",
            "-rootfs=/tmp/busybox",
            "/bin/sh",
        ]);
        assert!(r.interactive && r.tty);
        assert_eq!(r.cpus.as_deref(), Some("1"));
        assert_eq!(r.rootfs, Some(PathBuf::from("/tmp/busybox")));
        assert_eq!(r.command, vec![OsString::from("/bin/sh")]);
    }

    #[test]
    fn go_style_with_separate_value_and_docker_style() {
        let r = parse(&[
            "gocker", "run", "-rootfs", "/r", "--cpus", "1", "-m", "100m", "sh",
        ]);
        assert_eq!(r.rootfs, Some(PathBuf::from("/r")));
        assert_eq!(r.memory.as_deref(), Some("100m"));
        let r = parse(&["gocker", "run", "-m=64", "-pids-limit=5", "true"]);
        assert_eq!(r.memory.as_deref(), Some("64"));
        assert_eq!(r.pids_limit.as_deref(), Some("5"));
    }

    #[test]
    fn command_arguments_are_never_rewritten() {
        let got = norm(&[
            "gocker",
            "run",
            "-cpus=1",
            "ls",
            "-rootfs=x",
            "-cpus",
            "--",
            "a b",
        ]);
        assert_eq!(
            got,
            [
                "gocker",
                "run",
                "--cpus=1",
                "ls",
                "-rootfs=x",
                "-cpus",
                "--",
                "a b"
            ]
        );
        let r = parse(&["gocker", "run", "echo", "-e", "a  b", "--tty"]);
        assert_eq!(r.command, ["echo", "-e", "a  b", "--tty"]);
        assert!(!r.tty);
    }

    #[test]
    fn values_that_are_not_utf8_are_still_values() {
        let v = |b: &[u8]| OsString::from_vec(b.to_vec());
        let args = vec![
            v(b"gocker"),
            v(b"run"),
            v(b"-w/a\xff"),
            v(b"-eK=\xfe"),
            v(b"--env=L=\xfd"),
            v(b"-workdir=/b\xfc"),
            v(b"true"),
        ];
        let got = normalize_args(args);
        assert_eq!(
            got,
            [
                v(b"gocker"),
                v(b"run"),
                v(b"-w"),
                v(b"/a\xff"),
                v(b"-e"),
                v(b"K=\xfe"),
                v(b"--env=L=\xfd"),
                v(b"--workdir=/b\xfc"),
                v(b"true"),
            ]
        );
    }

    #[test]
    fn a_value_that_looks_like_a_flag_is_not_rewritten() {
        let got = norm(&["gocker", "run", "-e", "-cpus=1", "-hostname=h", "sh"]);
        assert_eq!(
            got,
            ["gocker", "run", "-e", "-cpus=1", "--hostname=h", "sh"]
        );
    }

    #[test]
    fn emit_script_takes_the_same_flags() {
        let v = normalize_args(
            ["gocker", "emit-script", "-cgroup=v2", "-cpus=1", "/bin/sh"]
                .iter()
                .map(OsString::from)
                .collect(),
        );
        match Cli::try_parse_from(v).unwrap().command {
            Command::EmitScript(e) => {
                assert_eq!(e.cgroup, Some(CgroupArg::V2));
                assert_eq!(e.run.cpus.as_deref(), Some("1"));
            }
            other => panic!("not emit-script: {other:?}"),
        }
    }

    #[test]
    fn unknown_options_before_the_command_are_errors_with_a_suggestion() {
        let try_norm = |args: &[&str]| {
            normalize_args_with(&Cli::command(), args.iter().map(OsString::from).collect())
        };
        let e =
            try_norm(&["gocker", "run", "--rootfs", "/r", "--memroy", "64m", "sh"]).unwrap_err();
        assert_eq!(e.option, "--memroy");
        assert_eq!(e.suggestion.as_deref(), Some("--memory"));
        let e = try_norm(&["gocker", "run", "-memroy=64", "sh"]).unwrap_err();
        assert_eq!(e.option, "-memroy=64");
        assert_eq!(e.suggestion.as_deref(), Some("--memory"));
        let e = try_norm(&["gocker", "emit-script", "-x", "sh"]).unwrap_err();
        assert_eq!(e.option, "-x");
        assert!(e.to_string().starts_with("unknown option -x"), "{e}");
        let e = try_norm(&["gocker", "run", "--frobnicate", "sh"]).unwrap_err();
        assert_eq!(e.suggestion, None);
        // After the command, or after `--`, nothing is an option of gocker's.
        assert!(try_norm(&["gocker", "run", "sh", "--memroy"]).is_ok());
        assert!(try_norm(&["gocker", "run", "--", "--memroy"]).is_ok());
        assert!(try_norm(&["gocker", "run", "--help"]).is_ok());
        assert!(try_norm(&["gocker", "run", "-it", "-h"]).is_ok());
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
