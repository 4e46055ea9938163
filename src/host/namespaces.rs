//! Namespace probes: whether each type of `spec::Namespace` can be created here.

use super::*;

/// Is namespace `name` (as under /proc/self/ns) available to new processes? The entry
/// exists when the kernel has the namespace type; `user.max_<name>_namespaces` of 0 then
/// forbids creating one all the same.
pub fn namespace(proc: &Path, name: &str) -> Availability {
    let entry = proc.join("self/ns").join(name);
    let config = Namespace::ALL
        .iter()
        .find(|k| k.proc_name() == name)
        .map_or("CONFIG_NAMESPACES", |k| k.config());
    if std::fs::symlink_metadata(&entry).is_err() {
        return Availability::missing(
            format!(
                "{} is absent: the kernel was built without it",
                entry.display()
            ),
            format!("use a kernel built with {config} (distribution kernels have it)"),
        );
    }
    let max = proc.join(format!("sys/user/max_{name}_namespaces"));
    match std::fs::read_to_string(&max)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
    {
        Some(0) => Availability::missing(
            format!("{} is 0: creating one is forbidden", max.display()),
            format!("allow it: sysctl -w user.max_{name}_namespaces=10000"),
        ),
        _ => Availability::Available,
    }
}
