//! The commands around a container's life that are not the container itself: shell
//! completions and the man pages, both generated from the one clap definition
//! (`frontend::cli::Cli`), so that they can never list an option gocker does not have.

use anyhow::{Context, Result};
use clap::{Args, CommandFactory};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `gocker completions SHELL`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `gocker man [--dir DIR]`.
#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write gocker.1 and one gocker-COMMAND.1 per command into DIR (created if missing)
    /// instead of printing gocker.1 on stdout
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The completion script for `shell` on stdout.
pub fn completions(args: &CompletionsArgs) -> Result<i32> {
    let mut cmd = super::cli::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "gocker", &mut out);
    write_stdout(&out)
}

/// gocker(1) on stdout, or every page into `--dir`.
pub fn man(args: &ManArgs) -> Result<i32> {
    let cmd = super::cli::Cli::command();
    match &args.dir {
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .context("render the man page")?;
            write_stdout(&out)
        }
        Some(dir) => {
            write_pages(cmd, dir)?;
            Ok(0)
        }
    }
}

/// gocker.1, and gocker-COMMAND.1 for each command (and each of theirs), into `dir`.
fn write_pages(cmd: clap::Command, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    // Each command's page is named with its parents' names in front (gocker-run.1), as
    // git's are, so `man gocker-run` finds it.
    clap_mangen::generate_to(cmd, dir)
        .with_context(|| format!("write the man pages into {}", dir.display()))
}

fn write_stdout(bytes: &[u8]) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .context("write to stdout")?;
    Ok(0)
}
