//! gocker: a tiny container runtime that is also a lesson in what a container is.
//!
//! clap parses the command line (`cli`), which is validated into one `ContainerSpec`
//! (`spec`); the native runtime (`runtime`) and the script renderer (`render`) take only
//! that spec. Host probes (`host`) serve `run`, `emit-script` and `check` alike.

mod cgroup;
mod check;
mod cli;
mod devices;
mod error;
mod host;
mod lesson;
mod mounts;
mod render;
mod rootfs;
mod runtime;
mod seccomp;
mod security;
mod spec;
mod sys;
#[cfg(test)]
mod testutil;
mod trace;

use clap::{CommandFactory, FromArgMatches};
use cli::{Cli, Command, RootfsCommand};
use host::{HostFacts, Roots};
use spec::ContainerSpec;

fn main() {
    let mut command = Cli::command();
    let args = match cli::normalize_args_with(&command, std::env::args_os().collect()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gocker: {e}");
            std::process::exit(125);
        }
    };
    let cli = match command
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

fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    let roots = Roots::system();
    match cli.command {
        Command::Run(cmd) => {
            if cmd.trace {
                trace::enable();
            }
            let args = cmd.run;
            let spec = ContainerSpec::from_args(&args, &HostFacts::probe(&roots, &args))?;
            runtime::run(&spec, &roots)
        }
        Command::EmitScript(mut args) if args.lesson => {
            lesson::use_lesson_hostname(&mut args.run);
            let spec = ContainerSpec::from_args(&args.run, &HostFacts::probe(&roots, &args.run))?;
            lesson::emit(&spec, &args, &roots)
        }
        Command::EmitScript(args) => {
            let spec = ContainerSpec::from_args(&args.run, &HostFacts::probe(&roots, &args.run))?;
            // Rendered for this host: refuse what it lacks, as run would. With --cgroup the
            // script is for whichever host runs it, and checks that host itself.
            if args.cgroup.is_none() {
                host::refuse_unsupported(&host::Needs::script(&spec), &roots)?;
            }
            render::emit(&spec, args.cgroup, &args.run, &roots)
        }
        Command::Check(args) => check::report(&roots, args.json),
        Command::Rootfs(RootfsCommand::Busybox { dir }) => {
            rootfs::busybox(&dir, roots.path.as_ref())?;
            Ok(0)
        }
    }
}
