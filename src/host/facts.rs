//! Host facts a front end validates against (CPUs, memory, environment, host-view
//! directories), each probed lazily and cached.

use super::*;

/// What validation checks limits and defaults against. Each fact is probed the first
/// time a front end asks for it, then cached: a container start reads only the files
/// its options need (each probe reads files, and this runs on every start).
#[derive(Debug)]
pub struct HostFacts<'a> {
    /// The host's root, where the host view's directories are looked for.
    fs: &'a Path,
    cpus: OnceLock<usize>,
    /// Total memory; 0 when unknown (then nothing is refused for size).
    memory_bytes: OnceLock<u64>,
    /// gocker's own environment, for `-e KEY` without a value.
    env: OnceLock<Vec<(OsString, OsString)>>,
    /// The system directories the default root shows.
    host_view_dirs: OnceLock<Vec<HostDir>>,
}

impl<'a> HostFacts<'a> {
    /// This host's facts, each probed when first asked for.
    pub fn probe(roots: &'a Roots) -> HostFacts<'a> {
        HostFacts {
            fs: &roots.fs,
            cpus: OnceLock::new(),
            memory_bytes: OnceLock::new(),
            env: OnceLock::new(),
            host_view_dirs: OnceLock::new(),
        }
    }

    /// Facts given rather than probed (tests, and a front end that knows them).
    pub fn known(
        cpus: usize,
        memory_bytes: u64,
        env: Vec<(OsString, OsString)>,
        host_view_dirs: Vec<HostDir>,
    ) -> HostFacts<'static> {
        HostFacts {
            fs: Path::new("/"),
            cpus: OnceLock::from(cpus),
            memory_bytes: OnceLock::from(memory_bytes),
            env: OnceLock::from(env),
            host_view_dirs: OnceLock::from(host_view_dirs),
        }
    }

    pub fn cpus(&self) -> usize {
        *self.cpus.get_or_init(crate::sys::online_cpus)
    }

    pub fn memory_bytes(&self) -> u64 {
        *self.memory_bytes.get_or_init(crate::sys::total_memory)
    }

    pub fn env(&self) -> &[(OsString, OsString)] {
        self.env.get_or_init(|| std::env::vars_os().collect())
    }

    pub fn host_view_dirs(&self) -> &[HostDir] {
        self.host_view_dirs.get_or_init(|| host_view_dirs(self.fs))
    }
}

/// Which of `HOST_VIEW_DIRS` exist under `fs`, as directories or symlinks.
pub fn host_view_dirs(fs: &Path) -> Vec<HostDir> {
    HOST_VIEW_DIRS
        .iter()
        .filter_map(|name| {
            let p = fs.join(name);
            let meta = std::fs::symlink_metadata(&p).ok()?;
            let inside = Path::new("/").join(name);
            if meta.file_type().is_symlink() {
                let to = std::fs::read_link(&p).ok()?;
                Some(HostDir::Link(inside, to.to_string_lossy().into_owned()))
            } else if meta.is_dir() {
                Some(HostDir::Dir(inside))
            } else {
                None
            }
        })
        .collect()
}
