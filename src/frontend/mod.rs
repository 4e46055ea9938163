//! Front ends: each turns one way of describing a container into a `ContainerSpec`.
//!
//! `cli` is gocker's command line (clap, the lesson's Go-style flags, Docker's option
//! spellings); `oci` is an OCI bundle's `config.json`. Nothing behind the spec (runtime,
//! script, host probes) knows which front end built it.

pub mod cli;
pub mod containers;
pub mod exec_cli;
pub mod image_cli;
pub mod life;
pub mod oci;
pub mod runtime_cli;
