//! The `gocker` command: parses the command line and dispatches to the library
//! (`src/lib.rs`), mapping its errors to Docker's exit codes.
//!
//! The entry point is C's `main`, not Rust's: Rust's runtime start-up costs ~50 us per
//! container here (it reads /proc/self/maps to find the main thread's stack, and sets up
//! a signal stack and handlers for stack overflows: 17 system calls), on the path every
//! container start takes. `sys::start_process` does the two parts gocker needs.
//! `std::env::args_os` works as ever (glibc hands the arguments to Rust's std too).
#![deny(unsafe_code)]
#![no_main]

use clap::{CommandFactory, FromArgMatches};
use gocker::frontend::cli::{self, Cli, Command, RootfsCommand};
use gocker::frontend::{containers, oci};
use gocker::host::{HostFacts, Roots};
use gocker::{check, error, host, rootfs, runtime, script, trace};

// The one attribute outside src/sys that the crate's `deny(unsafe_code)` must allow:
// exporting the symbol C's start-up code calls, with the signature it calls it with.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    gocker::sys::start_process();
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match cli::parse_run_fast(&argv) {
        Some(c) => c,
        None => parse(argv),
    };
    let code = match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gocker: {}", error::one_line(&e));
            error::exit_code_of(&e)
        }
    };
    std::process::exit(code);
}

/// The whole command line, with the whole command: every subcommand, help and error.
fn parse(argv: Vec<std::ffi::OsString>) -> Cli {
    let mut command = Cli::command();
    let args = match cli::normalize_args_with(&command, argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gocker: {e}");
            std::process::exit(125);
        }
    };
    match command
        .try_get_matches_from_mut(args)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(c) => c,
        Err(e) => {
            // Docker's convention: a usage error is gocker failing (125); help is not an error.
            let code = if e.use_stderr() { 125 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    let roots = Roots::system();
    match cli.command {
        Command::Run(cmd) => {
            if cmd.trace {
                trace::enable();
                trace::set_lang(cmd.lang.into());
            }
            let spec = match &cmd.bundle {
                Some(b) => oci::from_command_line(b, &cmd.run, true)?,
                None => cmd.run.to_spec(&HostFacts::probe(&roots))?,
            };
            if cmd.detach {
                return containers::run_detached(
                    &spec,
                    &roots,
                    &cli.oci.root,
                    cmd.name.clone(),
                    cmd.rm,
                    cmd.run.interactive,
                );
            }
            runtime::run(&spec, &roots)
        }
        Command::EmitScript(args) if args.bundle.is_some() => {
            let bundle = args.bundle.as_deref().unwrap_or(std::path::Path::new("."));
            if args.lesson {
                return Err(error::Failure::Usage.with(
                    "--lesson renders only lesson 18's container, not a bundle's: drop --lesson",
                ));
            }
            let spec = oci::from_command_line(bundle, &args.run, false)?;
            if args.cgroup.is_none() {
                host::refuse_unsupported(&host::Needs::script(&spec), &roots)?;
            }
            let version = match args.cgroup {
                Some(c) => c.version(),
                None => script::host_version(&spec, &roots)?,
            };
            let words = oci::header_words(&spec, bundle, version, args.lang.into())?;
            script::emit(&spec, version, &words, args.lang.into())
        }
        Command::EmitScript(mut args) if args.lesson => {
            args.use_lesson_hostname();
            args.use_lesson_root();
            let spec = args.run.to_spec(&HostFacts::probe(&roots))?;
            args.refuse_beyond_lesson(&spec)?;
            let version = match args.cgroup {
                Some(c) => c.version(),
                None => script::host_version(&spec, &roots)?,
            };
            script::lesson::emit(
                &spec,
                version,
                &args.lesson_header_words(&spec, version),
                args.lang.into(),
            )
        }
        Command::EmitScript(args) => {
            let spec = args.run.to_spec(&HostFacts::probe(&roots))?;
            // Rendered for this host: refuse what it lacks, as run would. With --cgroup the
            // script is for whichever host runs it, and checks that host itself.
            if args.cgroup.is_none() {
                host::refuse_unsupported(&host::Needs::script(&spec), &roots)?;
            }
            let version = match args.cgroup {
                Some(c) => c.version(),
                None => script::host_version(&spec, &roots)?,
            };
            script::emit(
                &spec,
                version,
                &args.header_words(&spec, version),
                args.lang.into(),
            )
        }
        Command::Check(args) => check::report(&roots, args.json),
        Command::Completions(args) => gocker::frontend::life::completions(&args),
        Command::Man(args) => gocker::frontend::life::man(&args),
        Command::Rootfs(RootfsCommand::Busybox { dir }) => {
            rootfs::busybox(&dir, roots.path.as_ref())?;
            Ok(0)
        }
        Command::Oci(cmd) => gocker::frontend::runtime_cli::dispatch(&cli.oci, cmd, &roots),
        Command::Exec(args) => gocker::frontend::exec_cli::dispatch(&args, &cli.oci),
        Command::Export(args) => gocker::frontend::image_cli::export(&args, &cli.oci),
        Command::Commit(args) => gocker::frontend::image_cli::commit(&args, &cli.oci),
        Command::Inspect(args) => containers::inspect(&args, &cli.oci.root),
        Command::Logs(args) => containers::logs(&args, &cli.oci.root),
        Command::Stop(args) => containers::stop(&args, &cli.oci.root),
        Command::Rm(args) => containers::rm(&args, &cli.oci.root, &roots),
    }
}
