//! The script's tools: the table `emit-script` and `check` share (`SCRIPT_TOOLS`),
//! finding them on `PATH`, and their versions.

use super::*;

/// When a script needs a tool: always, or only for some options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolWhen {
    Always,
    /// Without --rootfs (the host view's staging directory), or over it (the layer's).
    HostView,
    /// With something to remove at the end: the host view's staging directory, the
    /// layer's directory, cgroups.
    Cleanup,
    /// Without -t: with -t the container keeps the caller's terminal as its controlling
    /// terminal, which a new session would drop (setsid, templates/script.sh).
    NoTerminal,
}

/// A host program the rendered script runs before pivot_root. The template's checks are
/// rendered from this list, and `check` and `emit-script` probe the same list.
#[derive(Debug, PartialEq, Eq)]
pub struct ScriptTool {
    pub name: &'static str,
    pub why: &'static str,
    pub package: &'static str,
    /// A script cannot work without it; an optional tool has an alternative (`ip`: ifconfig).
    pub required: bool,
    pub when: ToolWhen,
    /// The script uses options busybox's applet of this name lacks.
    pub util_linux_only: bool,
    /// The script keeps the tool's full path in this variable and calls it by that path
    /// (busybox sh would otherwise run its own applet of the same name).
    pub var: Option<&'static str>,
}

pub(crate) const fn script_tool_def(
    name: &'static str,
    package: &'static str,
    why: &'static str,
) -> ScriptTool {
    ScriptTool {
        name,
        why,
        package,
        required: true,
        when: ToolWhen::Always,
        util_linux_only: false,
        var: None,
    }
}

/// In the order the script checks them.
pub const SCRIPT_TOOLS: [ScriptTool; 12] = [
    script_tool_def("sh", "dash", "run the script"),
    script_tool_def(
        "readlink",
        "coreutils",
        "find its own interpreter to run again",
    ),
    ScriptTool {
        var: Some("unshare"),
        ..script_tool_def(
            "unshare",
            "util-linux",
            "create the namespaces (--mount --uts --ipc --pid --net)",
        )
    },
    ScriptTool {
        when: ToolWhen::NoTerminal,
        ..script_tool_def(
            "setsid",
            "util-linux",
            "give the container a session of its own (without -t)",
        )
    },
    ScriptTool {
        var: Some("setpriv"),
        util_linux_only: true,
        ..script_tool_def(
            "setpriv",
            "util-linux",
            "cut the capability bounding set and set no_new_privs (--bounding-set)",
        )
    },
    ScriptTool {
        var: Some("busybox"),
        ..script_tool_def(
            "busybox",
            "busybox-static",
            "run the container's last steps after pivot_root, statically linked (umount, hostname, env, setpriv, start-stop-daemon)",
        )
    },
    script_tool_def(
        "mount",
        "mount",
        "make mounts private, bind the root, mount /proc, /dev and volumes",
    ),
    script_tool_def("pivot_root", "util-linux", "swap the root filesystem"),
    script_tool_def("mknod", "coreutils", "make the device nodes in /dev"),
    ScriptTool {
        required: false,
        ..script_tool_def(
            "ip",
            "iproute2",
            "bring up lo in the new network namespace (else ifconfig)",
        )
    },
    ScriptTool {
        when: ToolWhen::HostView,
        ..script_tool_def(
            "mktemp",
            "coreutils",
            "make the host view's staging directory",
        )
    },
    ScriptTool {
        when: ToolWhen::Cleanup,
        ..script_tool_def(
            "rmdir",
            "coreutils",
            "remove the staging directory and the cgroups",
        )
    },
];

impl ScriptTool {
    /// Whether a script for a container with these options runs this tool.
    pub fn needed(&self, host_view: bool, limits: bool, terminal: bool, overlay: bool) -> bool {
        match self.when {
            ToolWhen::Always => true,
            // mktemp and rmdir make and remove the copy-on-write root's layer directory too.
            ToolWhen::HostView => host_view || overlay,
            ToolWhen::Cleanup => host_view || limits || overlay,
            ToolWhen::NoTerminal => !terminal,
        }
    }

    /// Whether the program found can do what the script asks of it.
    pub fn usable(&self, found: &ToolPath) -> bool {
        !(self.util_linux_only && found.busybox)
    }
}

#[cfg(test)]
pub fn script_tool(name: &str) -> Option<&'static ScriptTool> {
    SCRIPT_TOOLS.iter().find(|t| t.name == name)
}

/// The script tools a script for `spec` runs on the host, in the order it checks them.
pub fn script_tools_for(spec: &ContainerSpec) -> impl Iterator<Item = &'static ScriptTool> {
    let host_view = spec.root == crate::spec::Root::HostView;
    let limits = !crate::cgroup::needed_controllers(&spec.limits).is_empty();
    let terminal = spec.process.terminal;
    let overlay = matches!(spec.root, crate::spec::Root::Overlay(_));
    SCRIPT_TOOLS
        .iter()
        .filter(move |t| t.needed(host_view, limits, terminal, overlay))
}

/// The full path of tool `name` on `path`, if any.
pub fn tool(path: Option<&OsString>, name: &str) -> Option<PathBuf> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    which::which_in(name, path.cloned(), cwd).ok()
}

/// Where a tool was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolPath {
    pub path: PathBuf,
    /// False when it is only in an sbin directory that `PATH` lacks (common for a normal
    /// user: pivot_root lives in /usr/sbin). `sudo` searches those, so scripts still work.
    pub on_path: bool,
    /// It is a busybox applet (a link to busybox), not the util-linux program.
    pub busybox: bool,
}

/// The sbin directories under `fs` that sudo's secure_path adds.
pub(crate) const SBIN_DIRS: [&str; 3] = ["usr/local/sbin", "usr/sbin", "sbin"];

/// Find tool `name`: on `PATH`, else in the sbin directories under `fs`.
pub fn find_tool(roots: &Roots, name: &str) -> Option<ToolPath> {
    let found = |path: PathBuf, on_path| {
        let busybox = std::fs::canonicalize(&path)
            .is_ok_and(|p| p.file_name().is_some_and(|n| n == "busybox"));
        ToolPath {
            path,
            on_path,
            busybox,
        }
    };
    if let Some(path) = tool(roots.path.as_ref(), name) {
        return Some(found(path, true));
    }
    let sbin = std::env::join_paths(SBIN_DIRS.iter().map(|d| roots.fs.join(d))).ok()?;
    tool(Some(&sbin), name).map(|path| found(path, false))
}

/// How long a tool may take to print its version before it is given up on.
pub(crate) const VERSION_TIMEOUT: Duration = Duration::from_secs(2);

/// The tool's version, from the first line of `--version` (`ip -V`). `sh` is not asked:
/// dash has no version option (the link target, e.g. `dash`, says more). A busybox
/// applet is asked through busybox, whose applets mostly lack `--version`.
pub fn tool_version(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let (exe, args): (&Path, &[&str]) = if real.file_name().is_some_and(|n| n == "busybox") {
        (&real, &["--help"])
    } else {
        match name.as_str() {
            "sh" => return None,
            "ip" => (path, &["-V"]),
            _ => (path, &["--version"]),
        }
    };
    let out = output_within(Command::new(exe).args(args), VERSION_TIMEOUT)?;
    let line = out.lines().map(str::trim).find(|l| !l.is_empty())?;
    // "mount from util-linux 2.38.1 (libmount ...)": the parenthesis is build detail.
    let line = line.split(" (").next().unwrap_or(line);
    let line = line.split(" multi-call").next().unwrap_or(line);
    Some(line.chars().take(80).collect())
}

/// The stdout of `cmd` if it exits 0 within `limit`; killed otherwise. stdin is
/// /dev/null so that a tool that reads it cannot hang the probe.
pub(crate) fn output_within(cmd: &mut Command, limit: Duration) -> Option<String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(Some(_)) | Err(_) => return None,
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut()?, &mut out).ok()?;
    Some(out)
}

/// The hint for a missing script tool.
pub fn tool_fix(t: &ScriptTool) -> String {
    format!(
        "install it: apt-get install {} (or your distribution's equivalent)",
        t.package
    )
}
