//! `linux.seccomp`: the profile as the model's `SeccompProfile`, compiled later by
//! seccompiler; what cannot be rendered faithfully (a notify listener, other
//! architectures' calls, flags) is refused.

use super::*;

/// `linux.seccomp` as a profile of this architecture's call numbers. A name this
/// architecture has no call for is skipped, as libseccomp does; what cannot be compiled
/// faithfully (a notify listener, tracing, other architectures' calls) is refused.
pub(super) fn seccomp(sc: &oci::LinuxSeccomp) -> Result<crate::spec::SeccompProfile> {
    use crate::spec::{SeccompAct, SeccompArg, SeccompCmp, SeccompRule};
    use oci::LinuxSeccompAction as A;
    let field = "linux.seccomp";
    if crate::seccomp::names::NAMES.is_empty() {
        refuse::<()>(
            field,
            "gocker has no system call table for this architecture",
        )?;
    }
    let act = |what: &str, a: A, errno: Option<u32>| -> Result<SeccompAct> {
        Ok(match a {
            A::ScmpActAllow => SeccompAct::Allow,
            // runc's default errno for ERRNO.
            A::ScmpActErrno => SeccompAct::Errno(errno.unwrap_or(libc::EPERM as u32)),
            A::ScmpActKill | A::ScmpActKillThread => SeccompAct::KillThread,
            A::ScmpActKillProcess => SeccompAct::KillProcess,
            A::ScmpActTrap => SeccompAct::Trap,
            A::ScmpActLog => SeccompAct::Log,
            A::ScmpActNotify | A::ScmpActTrace => {
                refuse(what, format!("action {a:?} is not supported"))?
            }
        })
    };
    let default = act(
        "linux.seccomp.defaultAction",
        sc.default_action(),
        sc.default_errno_ret(),
    )?;
    // The filter checks this architecture and kills any other (a 32-bit call on x86_64
    // included): stricter than a profile that lists SCMP_ARCH_X86 too, never looser.
    let native = 0xC000_003E_u32;
    if let Some(archs) = sc.architectures()
        && !archs.is_empty()
        && !archs.iter().any(|a| *a as u32 == native || *a as u32 == 0)
    {
        refuse::<()>(
            "linux.seccomp.architectures",
            "does not list this architecture (SCMP_ARCH_X86_64)",
        )?;
    }
    unsupported("linux.seccomp.listenerPath", sc.listener_path().is_some())?;
    for f in sc.flags().clone().unwrap_or_default() {
        use oci::LinuxSeccompFilterFlag as F;
        if !matches!(f, F::SeccompFilterFlagTsync | F::SeccompFilterFlagLog) {
            refuse::<()>("linux.seccomp.flags", format!("{f:?} is not supported"))?;
        }
    }
    let mut rules = Vec::new();
    for (i, sys) in sc.syscalls().clone().unwrap_or_default().iter().enumerate() {
        let what = format!("linux.seccomp.syscalls[{i}]");
        let action = act(&what, sys.action(), sys.errno_ret())?;
        let mut args = Vec::new();
        for a in sys.args().clone().unwrap_or_default() {
            use oci::LinuxSeccompOperator as O;
            if a.index() > 5 {
                refuse::<()>(&what, format!("argument index {} (at most 5)", a.index()))?;
            }
            args.push(SeccompArg {
                index: a.index() as u8,
                op: match a.op() {
                    O::ScmpCmpNe => SeccompCmp::Ne,
                    O::ScmpCmpLt => SeccompCmp::Lt,
                    O::ScmpCmpLe => SeccompCmp::Le,
                    O::ScmpCmpEq => SeccompCmp::Eq,
                    O::ScmpCmpGe => SeccompCmp::Ge,
                    O::ScmpCmpGt => SeccompCmp::Gt,
                    O::ScmpCmpMaskedEq => SeccompCmp::MaskedEq,
                },
                value: a.value(),
                value_two: a.value_two().unwrap_or(0),
            });
        }
        for name in sys.names() {
            if let Some(nr) = crate::seccomp::names::number(name) {
                rules.push(SeccompRule {
                    nr,
                    action,
                    args: args.clone(),
                });
            }
        }
    }
    Ok(crate::spec::SeccompProfile { default, rules })
}
