//! `gocker export` and `gocker commit`: a container's merged root (its rootfs with its
//! own writes on top) as a tar archive or as a new rootfs directory, Docker's way. The
//! container comes from the state store by id, name or unique id prefix, as for exec;
//! the work is the library's (`crate::image`).

use crate::error::{Failure, fail};
use crate::image;
use crate::state::Store;
use anyhow::{Context, Result};
use clap::Args;
use std::fs::File;
use std::io::{BufWriter, IsTerminal};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:\n  \
gocker export web > web.tar                 # container `web`'s root, as a tar\n  \
gocker export -o web.tar web                # the same, into web.tar\n  \
gocker export web | tar -tvf -              # list what is in it\n\n\
The root is the container's rootfs with its own writes on top (deleted files absent), \
read from the running container, or from a stopped one's layer (run -d) or rootfs \
(--rootfs-rw). Mounts inside it (/proc, /dev, /sys, volumes) are empty directories. \
Not kept: extended attributes, sockets.\n\n\
Exit status: 0 when the archive is whole; 125 if gocker failed (an unknown container, a \
terminal on stdout among the reasons).")]
pub struct ExportArgs {
    /// Write the archive to FILE (made 0600, replaced if it exists) instead of stdout
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The container: its id, its name, or a unique prefix of its id
    #[arg(value_name = "CONTAINER")]
    pub id: String,
}

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:\n  \
gocker commit web /tmp/web-rootfs           # container `web`'s root as a new rootfs\n  \
gocker commit web /tmp/web-rootfs && gocker run --rootfs /tmp/web-rootfs sh\n\n\
DIR must not exist (it is made) or be empty. It keeps the owners, modes (setuid bits \
included), times, links and device nodes of the container's root, and is itself root's \
and 0700: no user of this host can reach the image's setuid files or devices through it.\n\n\
Exit status: 0 when DIR is whole; 125 if gocker failed (an unknown container, a DIR that \
is not empty among the reasons; whatever commit made in DIR is removed again).")]
pub struct CommitArgs {
    /// The container: its id, its name, or a unique prefix of its id
    #[arg(value_name = "CONTAINER")]
    pub id: String,

    /// The new rootfs directory
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// `gocker export`: 0 once the whole archive is written.
pub fn export(args: &ExportArgs, global: &super::runtime_cli::GlobalArgs) -> Result<i32> {
    logged(global, run_export(args, global))
}

/// `gocker commit`: 0 once DIR holds the whole root.
pub fn commit(args: &CommitArgs, global: &super::runtime_cli::GlobalArgs) -> Result<i32> {
    logged(global, run_commit(args, global))
}

fn logged(global: &super::runtime_cli::GlobalArgs, r: Result<i32>) -> Result<i32> {
    if let Err(e) = &r {
        super::runtime_cli::log_error(global, &crate::error::one_line(e));
    }
    r
}

fn run_export(args: &ExportArgs, global: &super::runtime_cli::GlobalArgs) -> Result<i32> {
    if args.output.is_none() && std::io::stdout().is_terminal() {
        fail(
            Failure::Usage,
            "refusing to write a tar to a terminal: redirect stdout (> FILE) or use -o FILE",
        )?;
    }
    let store = Store::open(&global.root)?;
    let record = store.find(&args.id)?;
    match &args.output {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)
                .with_context(|| format!("create {}", path.display()))?;
            let fd = OwnedFd::from(file.try_clone().context("dup the output")?);
            let r = image::export(&record, BufWriter::with_capacity(1 << 16, file), Some(&fd));
            if r.is_err() {
                // A half archive is no archive.
                let _ = std::fs::remove_file(path);
            }
            r.with_context(|| format!("export container {}", record.id))?;
        }
        None => {
            let fd = std::io::stdout()
                .as_fd()
                .try_clone_to_owned()
                .context("dup stdout")?;
            let file = File::from(fd.try_clone().context("dup stdout")?);
            image::export(&record, BufWriter::with_capacity(1 << 16, file), Some(&fd))
                .with_context(|| format!("export container {}", record.id))?;
        }
    }
    Ok(0)
}

fn run_commit(args: &CommitArgs, global: &super::runtime_cli::GlobalArgs) -> Result<i32> {
    let store = Store::open(&global.root)?;
    let record = store.find(&args.id)?;
    image::commit(&record, &args.dir).with_context(|| format!("commit container {}", record.id))?;
    Ok(0)
}
