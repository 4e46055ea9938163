//! A bundle's own seccomp profile (OCI `linux.seccomp`, e.g. the Docker default profile
//! podman always sends), compiled by seccompiler into classic BPF.
//!
//! seccompiler gives a filter one action for its matches and one for the rest, where a
//! profile gives each rule its own. So a profile becomes stacked filters, which the
//! kernel runs all of, keeping the most restrictive answer (the latest filter's among
//! equals; seccomp(2)): first, every call some rule names is allowed and anything else
//! gets the default action; then one filter per other action, answering it for its own
//! rules and allowing everything else.

use crate::spec::{SeccompAct, SeccompCmp, SeccompProfile, SeccompRule as Rule};
use anyhow::{Context, Result};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};
use std::collections::BTreeMap;

fn action(a: SeccompAct) -> SeccompAction {
    match a {
        SeccompAct::Allow => SeccompAction::Allow,
        SeccompAct::Errno(n) => SeccompAction::Errno(n),
        SeccompAct::KillThread => SeccompAction::KillThread,
        SeccompAct::KillProcess => SeccompAction::KillProcess,
        SeccompAct::Trap => SeccompAction::Trap,
        SeccompAct::Log => SeccompAction::Log,
    }
}

/// seccompiler's rules for `rules`: per call, none (any arguments) when one of its rules
/// has no condition, else each rule's conditions, all of which must hold.
fn rule_map<'a>(rules: impl Iterator<Item = &'a Rule>) -> Result<BTreeMap<i64, Vec<SeccompRule>>> {
    let mut map: BTreeMap<i64, Option<Vec<SeccompRule>>> = BTreeMap::new();
    for r in rules {
        let entry = map.entry(r.nr).or_insert_with(|| Some(Vec::new()));
        if r.args.is_empty() {
            *entry = None;
            continue;
        }
        let Some(list) = entry else { continue };
        let conditions = r
            .args
            .iter()
            .map(|a| {
                let op = match a.op {
                    SeccompCmp::Ne => SeccompCmpOp::Ne,
                    SeccompCmp::Lt => SeccompCmpOp::Lt,
                    SeccompCmp::Le => SeccompCmpOp::Le,
                    SeccompCmp::Eq => SeccompCmpOp::Eq,
                    SeccompCmp::Ge => SeccompCmpOp::Ge,
                    SeccompCmp::Gt => SeccompCmpOp::Gt,
                    // libseccomp's MASKED_EQ: (arg & value) == valueTwo.
                    SeccompCmp::MaskedEq => SeccompCmpOp::MaskedEq(a.value),
                };
                let value = if a.op == SeccompCmp::MaskedEq {
                    a.value_two
                } else {
                    a.value
                };
                SeccompCondition::new(a.index, SeccompCmpArgLen::Qword, op, value)
                    .with_context(|| format!("seccomp condition on argument {}", a.index))
            })
            .collect::<Result<Vec<_>>>()?;
        list.push(SeccompRule::new(conditions).context("seccomp rule")?);
    }
    Ok(map
        .into_iter()
        .map(|(nr, r)| (nr, r.unwrap_or_default()))
        .collect())
}

fn compile(
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    mismatch: SeccompAct,
    matched: SeccompAct,
) -> Result<BpfProgram> {
    let arch = std::env::consts::ARCH
        .try_into()
        .map_err(|e| anyhow::anyhow!("seccomp filter for {}: {e}", std::env::consts::ARCH))?;
    SeccompFilter::new(rules, action(mismatch), action(matched), arch)
        .and_then(TryInto::try_into)
        .context("compile the bundle's seccomp profile")
}

/// The filters for `p`, to be installed in this order.
pub fn build(p: &SeccompProfile) -> Result<Vec<BpfProgram>> {
    let named: Vec<&Rule> = p.rules.iter().filter(|r| r.action != p.default).collect();
    let mut out = Vec::new();
    if p.default != SeccompAct::Allow {
        out.push(compile(
            rule_map(named.iter().copied())?,
            p.default,
            SeccompAct::Allow,
        )?);
    }
    let mut others: Vec<SeccompAct> = named
        .iter()
        .map(|r| r.action)
        .filter(|a| *a != SeccompAct::Allow)
        .collect();
    others.dedup();
    let mut seen = Vec::new();
    for a in others {
        if seen.contains(&a) {
            continue;
        }
        seen.push(a);
        out.push(compile(
            rule_map(named.iter().copied().filter(|r| r.action == a))?,
            SeccompAct::Allow,
            a,
        )?);
    }
    Ok(out)
}

/// Install `filters` in order (seccomp(2) SECCOMP_SET_MODE_FILTER): without
/// no_new_privs the caller still needs CAP_SYS_ADMIN, so it installs them before the
/// capabilities are cut, as runc does.
pub fn install(filters: &[BpfProgram]) -> Result<()> {
    for f in filters {
        crate::sys::seccomp_set_filter(f).map_err(|e| {
            anyhow::anyhow!(
                "install the bundle's seccomp filter (seccomp SECCOMP_SET_MODE_FILTER): {}",
                crate::error::os_reason(&e)
            )
        })?;
    }
    Ok(())
}
