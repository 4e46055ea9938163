//! `gocker check`: what this host can do (being written).

use crate::host::Roots;
use anyhow::Result;

pub fn report(_roots: &Roots, _json: bool) -> Result<i32> {
    anyhow::bail!("check is not implemented yet")
}
