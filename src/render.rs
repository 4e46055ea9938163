//! `gocker emit-script`: the container as a POSIX shell script (being written).

use crate::cli::{CgroupArg, RunArgs};
use crate::host::Roots;
use crate::spec::ContainerSpec;
use anyhow::Result;

pub fn emit(
    _spec: &ContainerSpec,
    _cg: Option<CgroupArg>,
    _args: &RunArgs,
    _roots: &Roots,
) -> Result<i32> {
    anyhow::bail!("emit-script is not implemented yet")
}
