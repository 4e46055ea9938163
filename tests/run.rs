//! End-to-end tests of `gocker run`: real containers on a busybox rootfs made by the
//! test itself. They need root; in CI (which is root) they must run, never skip.

mod common;

use common::*;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// Tests that measure CPU pace or memory run one at a time, so that the others'
/// containers do not skew them on a small machine.
static TIMING: Mutex<()> = Mutex::new(());

/// The container's PID 1 as seen from the host: gocker's only child.
fn container_pid(gocker_pid: u32) -> Option<u32> {
    children(gocker_pid).first().copied()
}

/// The host-side directory of `pid`'s cgroup for `controller` (v1 or v2).
fn cgroup_dir(pid: u32, controller: &str) -> Option<std::path::PathBuf> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, ctrls, path) = (parts.next()?, parts.next()?, parts.next()?);
        if ctrls.split(',').any(|c| c == controller) {
            return Some(format!("/sys/fs/cgroup/{controller}{path}").into());
        }
    }
    // v2: "0::/path", used when no v1 hierarchy has the controller.
    let v2 = text.lines().find_map(|l| l.strip_prefix("0::"))?;
    if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        return Some(format!("/sys/fs/cgroup{v2}").into());
    }
    None
}

fn read_trim(p: impl AsRef<std::path::Path>) -> String {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[test]
fn command_is_pid_1_with_hostname_and_lo_up() {
    root_or_skip!("command_is_pid_1_with_hostname_and_lo_up");
    let r = busybox_rootfs();
    let o = run_in(
        r.path(),
        &[
            "/bin/sh",
            "-c",
            "echo $$; hostname; cat /sys/class/net/lo/operstate 2>/dev/null || ip link show lo",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1", "the command is PID 1");
    assert_eq!(lines[1], "gocker", "default hostname");
    assert!(
        out.contains("UP") || out.contains("unknown"),
        "lo is up: {out}"
    );

    let o = run_in(r.path(), &["--hostname", "box-1", "hostname"]);
    assert_eq!(stdout(&o).trim(), "box-1");
}

#[test]
fn ps_sees_only_the_container() {
    root_or_skip!("ps_sees_only_the_container");
    let r = busybox_rootfs();
    let o = run_in(r.path(), &["/bin/sh", "-c", "sleep 1 & ps -o pid,comm"]);
    let out = stdout(&o);
    let pids: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    assert!(pids.contains(&"1"), "{out}");
    assert!(pids.len() <= 3, "only sh, sleep and ps: {out}");
    assert!(!out.contains("cargo") && !out.contains("gocker"), "{out}");
}

#[test]
fn host_root_is_unreachable() {
    root_or_skip!("host_root_is_unreachable");
    let r = busybox_rootfs();
    let marker = TempDir::new("marker");
    // A content found nowhere else, searched for exactly; the script spells it in two
    // halves so that it is not in the container's own command line either.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let (a, b) = (
        "gocker-host-secret-",
        format!("{}-{nanos}", std::process::id()),
    );
    let token = format!("{a}{b}");
    let secret = marker.path().join("secret");
    std::fs::write(&secret, &token).unwrap();
    // The host's path to the file; then every file of the container's own tree (its
    // pseudo filesystems aside), which would hold the host's if any of it were there
    // (bounded in time: a leaked host tree could be large).
    let script = format!(
        "ls -a /; echo ---; cat {0} 2>&1 && exit 3; echo ---; \
         for d in /* /.[!.]*; do case $d in /proc|/sys|/dev) ;; *) [ -e \"$d\" ] && timeout 20 find \"$d\" -type f -exec grep -l \"$A$B\" {{}} + ;; esac; done; echo ---; \
         grep -c . /proc/mounts",
        secret.display()
    );
    let o = gocker()
        .args([
            "run",
            "-e",
            &format!("A={a}"),
            "-e",
            &format!("B={b}"),
            "--rootfs",
        ])
        .arg(r.path())
        .args(["/bin/sh", "-c", &script])
        .output()
        .expect("run gocker");
    let out = stdout(&o);
    assert!(!out.contains(&token), "host file readable: {out}");
    let parts: Vec<&str> = out.split("---\n").collect();
    assert_eq!(parts.len(), 4, "{out}{}", stderr(&o));
    assert!(
        parts[1].contains("No such file or directory"),
        "cat of the host's path: {}",
        parts[1]
    );
    assert_eq!(parts[2], "", "files with the host's secret in them");
    assert!(!out.contains(".pivot_root"), "{out}");
    // The root listing is the rootfs's own.
    let mut expect: Vec<String> = std::fs::read_dir(r.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    expect.extend([".".into(), "..".into()]);
    expect.sort();
    let mut got: Vec<String> = parts[0].lines().map(String::from).collect();
    got.sort();
    assert_eq!(got, expect);
    // Inside, /proc/mounts lists only the container's mounts, not the host's many.
    let n: usize = parts[3].trim().parse().unwrap();
    assert!(n < 30, "container sees {n} mounts");
}

#[test]
fn exit_statuses() {
    root_or_skip!("exit_statuses");
    let r = busybox_rootfs();
    let code = |args: &[&str]| run_in(r.path(), args).status.code();
    assert_eq!(code(&["/bin/sh", "-c", "exit 0"]), Some(0));
    assert_eq!(code(&["/bin/sh", "-c", "exit 3"]), Some(3));
    assert_eq!(code(&["/bin/sh", "-c", "exit 255"]), Some(255));
    let o = run_in(r.path(), &["no-such-command"]);
    assert_eq!(o.status.code(), Some(127));
    assert!(stderr(&o).contains("no-such-command"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "one line: {}", stderr(&o));
    let o = run_in(r.path(), &["/etc/passwd"]);
    assert_eq!(o.status.code(), Some(126), "{}", stderr(&o));
    let o = run_in(r.path(), &["/etc"]);
    assert_eq!(o.status.code(), Some(126), "{}", stderr(&o));
    assert!(stderr(&o).contains("directory"), "{}", stderr(&o));
    // A bad option is gocker failing: 125, before anything starts.
    assert_eq!(code(&["--cpus", "zero", "true"]), Some(125));
}

#[test]
fn killed_by_signal_gives_128_plus_n() {
    root_or_skip!("killed_by_signal_gives_128_plus_n");
    let r = busybox_rootfs();
    let (child, cpid) = start_sleeping(r.path(), &[], "30");
    Command::new("kill")
        .args(["-KILL", &cpid.to_string()])
        .status()
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(137));
}

#[test]
fn argv_is_passed_exactly() {
    root_or_skip!("argv_is_passed_exactly");
    let r = busybox_rootfs();
    let args = [
        "a b",
        "",
        "  two  spaces ",
        "$(echo no)",
        "`id`",
        "'q'",
        "\"dq\"",
        "*",
        "line\nbreak",
        "héllo",
        "-rootfs=x",
        "--cpus",
    ];
    let mut cmd = vec!["/bin/busybox", "printf", "[%s]\\n"];
    cmd.extend(args);
    let o = run_in(r.path(), &cmd);
    assert!(o.status.success(), "{}", stderr(&o));
    let expect: String = args.iter().map(|a| format!("[{a}]\n")).collect();
    assert_eq!(stdout(&o), expect);
}

#[test]
fn env_workdir_and_volumes() {
    root_or_skip!("env_workdir_and_volumes");
    let r = busybox_rootfs();
    let vol = TempDir::new("vol");
    std::fs::write(vol.path().join("in.txt"), "from host").unwrap();
    let spec = format!("{}:/data", vol.path().display());
    let ro = format!("{}:/ro:ro", vol.path().display());
    let o = run_in(
        r.path(),
        &[
            // Written into the rootfs itself, to see below where the workdir was made.
            "--rootfs-rw",
            "-e",
            "GREETING=hello world",
            "-e",
            "EMPTY=",
            "-w",
            "/work/dir",
            "-v",
            &spec,
            "-v",
            &ro,
            "/bin/sh",
            "-c",
            "echo \"$GREETING|$EMPTY|$HOSTNAME\"; pwd; cat /data/in.txt; echo; echo out > /data/out.txt; touch /ro/x 2>/dev/null && echo rw || echo ro",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "hello world||gocker\n/work/dir\nfrom host\nro\n"
    );
    assert_eq!(
        std::fs::read_to_string(vol.path().join("out.txt")).unwrap(),
        "out\n"
    );
    // The workdir was made inside the container's root; the volume's mount point too.
    assert!(r.path().join("work/dir").is_dir());
}

#[test]
fn default_root_is_a_read_only_host_view() {
    root_or_skip!("default_root_is_a_read_only_host_view");
    let tmp = TempDir::new("tmpdir");
    let o = gocker()
        .env("TMPDIR", tmp.path())
        .args(["run", "/bin/sh", "-c", "echo $$; ls /usr/bin/env >/dev/null && echo usr; touch /usr/x 2>/dev/null && echo rw || echo ro; echo t > /scratch && echo root-writable"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "1\nusr\nro\nroot-writable\n");
    assert!(!std::path::Path::new("/scratch").exists());
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "staging directory removed"
    );
}

#[test]
fn limits_are_in_the_cgroup_files_while_it_runs() {
    root_or_skip!("limits_are_in_the_cgroup_files_while_it_runs");
    let r = busybox_rootfs();
    // The container waits on its stdin until the files are read: no window to race.
    let mut child = gocker()
        .args([
            "run",
            "-i",
            "--cpus",
            "0.5",
            "-m",
            "64",
            "--pids-limit",
            "20",
            "--rootfs",
        ])
        .arg(r.path())
        .args(["/bin/sh", "-c", "read line"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let gpid = child.id();
    let cpid = wait_for("container pid", || container_pid(gpid));
    let cpu = wait_for("cpu cgroup", || {
        cgroup_dir(cpid, "cpu").filter(|d| d.to_string_lossy().contains(&format!("gocker/{gpid}")))
    });
    // On v1 the container joins one hierarchy after the other, just before exec: each
    // is waited for, or a loaded host reads one it has not joined yet.
    let joined = |c: &'static str| {
        wait_for(c, || {
            cgroup_dir(cpid, c).filter(|d| d.to_string_lossy().contains(&format!("gocker/{gpid}")))
        })
    };
    let mem = joined("memory");
    let pids = joined("pids");
    if cpu.join("cpu.max").exists() {
        assert_eq!(read_trim(cpu.join("cpu.max")), "50000 100000");
        assert_eq!(read_trim(mem.join("memory.max")), (64u64 << 20).to_string());
    } else {
        assert_eq!(read_trim(cpu.join("cpu.cfs_quota_us")), "50000");
        assert_eq!(read_trim(cpu.join("cpu.cfs_period_us")), "100000");
        assert_eq!(
            read_trim(mem.join("memory.limit_in_bytes")),
            (64u64 << 20).to_string()
        );
    }
    assert_eq!(read_trim(pids.join("pids.max")), "20");
    // No swap beyond -m, where the kernel accounts swap.
    if swap_accounted() {
        if cpu.join("cpu.max").exists() {
            assert_eq!(read_trim(mem.join("memory.swap.max")), "0");
        } else {
            assert_eq!(
                read_trim(mem.join("memory.memsw.limit_in_bytes")),
                (64u64 << 20).to_string()
            );
        }
    }
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    assert!(
        cgroups_of(gpid).is_empty(),
        "cgroups removed: {:?}",
        cgroups_of(gpid)
    );
}

#[test]
fn limits_apply_from_the_first_instruction() {
    root_or_skip!("limits_apply_from_the_first_instruction");
    let r = busybox_rootfs();
    // The command's very first act is to read its own cgroup: already the container's.
    let o = run_in(
        r.path(),
        &["--pids-limit", "50", "cat", "/proc/self/cgroup"],
    );
    let out = stdout(&o);
    assert!(
        out.lines()
            .any(|l| (l.contains(":pids:") || l.starts_with("0::")) && l.contains("/gocker/")),
        "{out}"
    );
}

/// utime + stime of `pid`, in clock ticks (proc(5): fields 14 and 15 of /proc/PID/stat).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read stat");
    // The command name (field 2) may hold spaces; the rest follows its ')'.
    let rest = &stat[stat.rfind(')').expect("stat has a comm") + 2..];
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    f[11] + f[12]
}

/// The clock ticks per second of this host's /proc/PID/stat.
fn clk_tck() -> f64 {
    let o = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .expect("getconf");
    stdout(&o)
        .trim()
        .parse()
        .expect("getconf CLK_TCK gives a number")
}

#[test]
fn cpu_limit_halves_the_pace() {
    root_or_skip!("cpu_limit_halves_the_pace");
    let _serial = TIMING.lock().unwrap_or_else(|e| e.into_inner());
    let r = busybox_rootfs();
    // PID 1 itself spins; the host measures its CPU time over a wall time it measures.
    let mut child = gocker()
        .args(["run", "--cpus", "0.5", "--rootfs"])
        .arg(r.path())
        .args(["/bin/sh", "-c", "while :; do :; done"])
        .spawn()
        .unwrap();
    let gpid = child.id();
    let pid1 = wait_for("the container's PID 1", || container_pid(gpid));
    wait_for("exec of sh", || {
        let comm = std::fs::read_to_string(format!("/proc/{pid1}/comm")).unwrap_or_default();
        (comm.trim() == "sh").then_some(())
    });
    let cpu = cgroup_dir(pid1, "cpu").expect("the container's cpu cgroup");
    let throttled = || {
        std::fs::read_to_string(cpu.join("cpu.stat"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| {
                l.strip_prefix("nr_throttled ")
                    .map(|n| n.trim().parse::<u64>().unwrap())
            })
            .expect("nr_throttled in cpu.stat")
    };
    let tck = clk_tck();
    let (t0, c0, n0) = (std::time::Instant::now(), cpu_ticks(pid1), throttled());
    std::thread::sleep(std::time::Duration::from_secs(2));
    let (t1, c1, n1) = (std::time::Instant::now(), cpu_ticks(pid1), throttled());
    Command::new("kill")
        .args(["-KILL", &pid1.to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(137));
    let share = (c1 - c0) as f64 / tck / (t1 - t0).as_secs_f64();
    assert!(n1 > n0, "never throttled: the quota is not enforced");
    assert!(share <= 0.62, "--cpus 0.5 used {share:.2} of a CPU");
    assert!(share >= 0.25, "--cpus 0.5 used only {share:.2} of a CPU");
}

#[test]
fn memory_limit_kills_an_oversized_allocation() {
    root_or_skip!("memory_limit_kills_an_oversized_allocation");
    if !oom_is_certain("memory_limit_kills_an_oversized_allocation") {
        return;
    }
    let _serial = TIMING.lock().unwrap_or_else(|e| e.into_inner());
    let r = busybox_rootfs();
    // tail holds a newline-free 60 MB line in memory: over a 32 MiB limit.
    let o = run_in(
        r.path(),
        &[
            "-m",
            "32",
            "/bin/sh",
            "-c",
            "head -c 60m /dev/zero | tail >/dev/null; exit $?",
        ],
    );
    // The shell (PID 1) survives and reports its killed child's status.
    assert_eq!(o.status.code(), Some(137), "{}", stderr(&o));
    assert!(stderr(&o).contains("memory limit"), "{}", stderr(&o));
    // As PID 1 itself: gocker returns 137 too.
    let o = run_in(
        r.path(),
        &["-m", "32", "/bin/sh", "-c", "exec tail /dev/zero"],
    );
    assert_eq!(o.status.code(), Some(137), "{}", stderr(&o));
    // Under the limit, the same pipeline succeeds.
    let o = run_in(
        r.path(),
        &[
            "-m",
            "32",
            "/bin/sh",
            "-c",
            "head -c 8m /dev/zero | tail >/dev/null",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn pids_limit_stops_forks() {
    root_or_skip!("pids_limit_stops_forks");
    let r = busybox_rootfs();
    let o = run_in(
        r.path(),
        &[
            "--pids-limit",
            "4",
            "/bin/sh",
            "-c",
            "for i in 1 2 3 4 5 6; do sleep 2 & done 2>&1; wait; echo done",
        ],
    );
    let all = stdout(&o) + &stderr(&o);
    assert!(
        all.contains("fork") || all.contains("resource"),
        "fork refused: {all}"
    );
}

#[test]
fn nothing_is_left_behind() {
    root_or_skip!("nothing_is_left_behind");
    let r = busybox_rootfs();
    let tree = |p: &std::path::Path| {
        let o = Command::new("find").arg(p).output().unwrap();
        let mut v: Vec<String> = stdout(&o).lines().map(String::from).collect();
        v.sort();
        v
    };
    let before_tree = tree(r.path());
    let before_mounts = mountinfo();
    for args in [
        vec!["--cpus", "1", "-m", "64", "--pids-limit", "10", "true"],
        vec!["-m", "64", "no-such-command"],
        vec!["--cpus", "1", "/bin/sh", "-c", "exit 9"],
    ] {
        let child = gocker()
            .arg("run")
            .arg("--rootfs")
            .arg(r.path())
            .args(&args)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        child.wait_with_output().unwrap();
        assert!(
            cgroups_of(pid).is_empty(),
            "{args:?} left {:?}",
            cgroups_of(pid)
        );
    }
    assert_eq!(mountinfo(), before_mounts, "host mount table changed");
    assert_eq!(tree(r.path()), before_tree, "rootfs changed");
}

#[test]
fn signals_are_forwarded_to_the_container() {
    root_or_skip!("signals_are_forwarded_to_the_container");
    let r = busybox_rootfs();
    let child = gocker()
        .args(["run", "--rootfs"])
        .arg(r.path())
        .args([
            "/bin/sh",
            "-c",
            "trap 'echo got-term; exit 42' TERM; echo ready; sleep 30 & wait",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let gpid = child.id();
    wait_until_busy(gpid);
    Command::new("kill")
        .args(["-TERM", &gpid.to_string()])
        .status()
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(stdout(&o), "ready\ngot-term\n");
    assert_eq!(o.status.code(), Some(42));
    assert!(cgroups_of(gpid).is_empty());
}

#[test]
fn container_dies_with_gocker_and_leftovers_are_swept() {
    root_or_skip!("container_dies_with_gocker_and_leftovers_are_swept");
    let r = busybox_rootfs();
    let (mut child, cpid) = start_sleeping(r.path(), &["--pids-limit", "10"], "60");
    let gpid = child.id();
    child.kill().unwrap();
    child.wait().unwrap();
    wait_for("container to die", || {
        (!std::path::Path::new(&format!("/proc/{cpid}")).exists()).then_some(())
    });
    // A SIGKILLed gocker cannot clean up; the next run with limits sweeps (possibly a
    // run of another test, in parallel: either way it must be gone after ours).
    let o = run_in(r.path(), &["--pids-limit", "10", "true"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(cgroups_of(gpid).is_empty(), "swept: {:?}", cgroups_of(gpid));
}

#[test]
fn the_sweep_never_removes_a_cgroup_still_in_use() {
    root_or_skip!("the_sweep_never_removes_a_cgroup_still_in_use");
    let r = busybox_rootfs();
    let h = hierarchy_of("pids").expect("a cgroup hierarchy with the pids controller");
    // A live container, and two cgroups as gocker names them: one whose owner is alive
    // (a process of ours) but which holds no process yet, as a container's cgroup does
    // between its creation and the child joining it (rmdir would succeed, so only the
    // liveness check protects it); one whose owner is dead.
    let (live, live_pid1) = start_sleeping(r.path(), &["--pids-limit", "10"], "30");
    let live_cgroups = cgroups_of(live.id());
    assert!(!live_cgroups.is_empty(), "the live container has no cgroup");
    let mut owner = Command::new("sleep").arg("30").spawn().unwrap();
    let mut dead = Command::new("true").spawn().unwrap();
    dead.wait().unwrap();
    let in_use = h.mount.join("gocker").join(owner.id().to_string());
    let leftover = h.mount.join("gocker").join(dead.id().to_string());
    std::fs::create_dir_all(&in_use).unwrap();
    std::fs::create_dir_all(&leftover).unwrap();
    // Another run with a limit sweeps.
    let o = run_in(r.path(), &["--pids-limit", "10", "true"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let in_use_kept = in_use.is_dir();
    let leftover_gone = !leftover.exists();
    let live_kept: Vec<_> = live_cgroups.iter().filter(|d| !d.is_dir()).collect();
    let _ = std::fs::remove_dir(&in_use);
    let _ = std::fs::remove_dir(&leftover);
    owner.kill().unwrap();
    owner.wait().unwrap();
    // The live container ends as any does: its PID 1 killed, gocker cleans up.
    Command::new("kill")
        .args(["-KILL", &live_pid1.to_string()])
        .status()
        .unwrap();
    let gpid = live.id();
    assert_eq!(live.wait_with_output().unwrap().status.code(), Some(137));
    assert!(cgroups_of(gpid).is_empty(), "{:?}", cgroups_of(gpid));
    assert!(
        in_use_kept,
        "swept {} whose owner is alive",
        in_use.display()
    );
    assert!(
        live_kept.is_empty(),
        "swept the live container's {live_kept:?}"
    );
    assert!(
        leftover_gone,
        "{} (owner dead) not swept",
        leftover.display()
    );
}

#[test]
fn tty_gives_a_terminal_and_ctrl_c_reaches_the_container() {
    root_or_skip!("tty_gives_a_terminal_and_ctrl_c_reaches_the_container");
    let r = busybox_rootfs();
    let o = run_in(
        r.path(),
        &[
            "-t",
            "/bin/sh",
            "-c",
            "[ -t 0 ] && [ -t 1 ] && echo is-a-tty",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("is-a-tty"), "{:?}", stdout(&o));

    let mut child = gocker()
        .args(["run", "-it", "--rootfs"])
        .arg(r.path())
        .args([
            "/bin/sh",
            "-c",
            "trap 'echo got-int; exit 5' INT; echo ready; sleep 30 & wait",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let gpid = child.id();
    wait_until_busy(gpid);
    // Ctrl-C typed on the container's terminal.
    child.stdin.as_mut().unwrap().write_all(b"\x03").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(stdout(&o).contains("got-int"), "{:?}", stdout(&o));
    assert_eq!(o.status.code(), Some(5));
}

#[test]
fn lesson_command_line_verbatim() {
    root_or_skip!("lesson_command_line_verbatim");
    let r = busybox_rootfs();
    let rootfs = format!("-rootfs={}", r.path().display());
    let mut child = gocker()
        .args(["run", "-it", "-cpus=1", &rootfs, "/bin/sh"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"echo pid=$$; cat /proc/self/cgroup; exit 4\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let out = stdout(&o);
    assert!(out.contains("pid=1"), "{out}");
    assert!(out.contains("/gocker/"), "in its own cgroup: {out}");
    assert_eq!(o.status.code(), Some(4));
}

#[test]
fn dev_is_made_only_for_a_root_without_one() {
    root_or_skip!("dev_is_made_only_for_a_root_without_one");
    let r = busybox_rootfs();
    let probe = "[ -c /dev/null ] && [ -c /dev/zero ] && [ -c /dev/tty ] && [ -L /dev/fd ] && echo devices; grep -c ' /dev ' /proc/mounts";
    // gocker rootfs busybox gives the rootfs a /dev of its own: it is used as it is.
    let o = run_in(r.path(), &["/bin/sh", "-c", probe]);
    assert_eq!(stdout(&o), "devices\n0\n", "{}", stderr(&o));
    // Without one, the container gets a tmpfs /dev with the nodes, and the rootfs is
    // left as it was.
    std::fs::remove_dir_all(r.path().join("dev")).unwrap();
    std::fs::create_dir(r.path().join("dev")).unwrap();
    let o = run_in(r.path(), &["/bin/sh", "-c", probe]);
    assert_eq!(stdout(&o), "devices\n1\n", "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(r.path().join("dev")).unwrap().count(), 0);
}
