//! `gocker emit-script`: the same container as a POSIX shell script, rendered from the
//! askama template `templates/script.sh` out of the one `ContainerSpec` the native runtime
//! takes, so that run and script cannot drift.
//!
//! The renderer takes a spec, a cgroup version and the header line's words (which the
//! front end gives: `RunArgs::header_words`), nothing from clap. `model.rs` is the
//! template's view model (mount steps, cgroup lines, tool checks from
//! `host::SCRIPT_TOOLS`); `quote.rs` is the one quoting filter every user value goes
//! through, so it arrives in the container's argv byte for byte and is never executed on
//! the way. `lesson.rs` renders `templates/lesson.sh`, only what lesson 18 does, from the
//! same spec and through the same filter. `zh.rs` turns the full script's comments into
//! Chinese (`--lang zh`) from the table `templates/script.zh`, touching no other line. The output depends only on the spec and the cgroup version: the same options
//! always give the same bytes, and one more option only adds lines.

use crate::cgroup::{self, Version};
use crate::host::{CgroupHost, Roots};
use crate::spec::ContainerSpec;
use anyhow::{Context, Result};
use std::ffi::OsString;
use std::io::Write;

pub mod lesson;
mod model;
mod quote;
mod zh;

pub use model::render;
pub use quote::{quote_bytes, quote_line};

#[cfg(test)]
mod tests;

/// The language of a script's comments and trace words; its code is the same in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

/// The cgroup version a script for `spec` is rendered for when the caller names none:
/// this host's, and only when the spec has limits (otherwise there are no cgroup lines).
pub fn host_version(spec: &ContainerSpec, roots: &Roots) -> Result<Version> {
    if cgroup::needed_controllers(&spec.limits).is_empty() {
        return Ok(Version::V2);
    }
    match CgroupHost::probe(&roots.cgroup) {
        Some(h) => Ok(h.version()),
        None => Err(crate::error::Failure::Host.with(format!(
            "no cgroup filesystem at {}: say which version the script is for (--cgroup v1 or --cgroup v2)",
            roots.cgroup.display()
        ))),
    }
}

/// The script for `spec` and cgroup `version`, its comments and trace words in `lang`.
/// In Chinese it is the English rendering with each comment replaced (`zh.rs`), so the
/// code of the two cannot differ but for the words the trace prints.
pub fn render_in(
    spec: &ContainerSpec,
    version: Version,
    header: &[OsString],
    lang: Lang,
) -> Result<String> {
    let text = model::render_lang(spec, version, header, lang)?;
    Ok(match lang {
        Lang::En => text,
        Lang::Zh => zh::translate(&text),
    })
}

/// Print the script for `spec`, for cgroup `version`, on stdout; `header` is the
/// `emit-script` arguments its first comment line shows.
pub fn emit(
    spec: &ContainerSpec,
    version: Version,
    header: &[OsString],
    lang: Lang,
) -> Result<i32> {
    let text = render_in(spec, version, header, lang)?;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("write the script to stdout")?;
    Ok(0)
}
