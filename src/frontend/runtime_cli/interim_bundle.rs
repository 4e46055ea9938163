//! INTERIM, removed when `frontend::oci::load_bundle` (the bundle helper's) is merged:
//! the few config.json fields the OCI command tests need (process args/env/cwd/terminal,
//! root.path, hostname), with gocker's standard mounts and confinement. Everything else
//! in the file is ignored here, which the real loader refuses or honours.

use crate::mounts::standard_mounts;
use crate::spec::{
    CapSet, Confinement, ContainerSpec, Limits, Namespace, Process, Root, validate_hostname,
    validate_rootfs,
};
use anyhow::{Context, Result};
use serde_json::Value;
use std::path::Path;

pub fn load_bundle(bundle: &Path, id: &str) -> Result<ContainerSpec> {
    let path = bundle.join("config.json");
    let v: Value = serde_json::from_slice(
        &std::fs::read(&path).with_context(|| format!("read {}", path.display()))?,
    )
    .with_context(|| format!("parse {}", path.display()))?;
    let strs = |v: &Value| -> Vec<std::ffi::OsString> {
        v.as_array()
            .map(|a| a.iter().filter_map(|s| Some(s.as_str()?.into())).collect())
            .unwrap_or_default()
    };
    let p = &v["process"];
    let terminal = p["terminal"].as_bool().unwrap_or(false);
    let root = bundle.join(v["root"]["path"].as_str().unwrap_or("rootfs"));
    Ok(ContainerSpec {
        id: id.to_string(),
        root: Root::Dir(validate_rootfs(&root)?),
        process: Process {
            argv: strs(&p["args"]),
            env: strs(&p["env"]),
            cwd: p["cwd"].as_str().unwrap_or("/").into(),
            terminal,
            stdin: false,
        },
        hostname: validate_hostname(v["hostname"].as_str().unwrap_or("gocker"))?,
        namespaces: Namespace::LESSON.to_vec(),
        mounts: standard_mounts(terminal),
        limits: Limits::default(),
        confinement: Confinement::default(),
        capabilities: CapSet::DOCKER_DEFAULT,
        no_new_privs: true,
        rlimits: vec![],
    })
}
