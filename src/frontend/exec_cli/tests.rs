use super::*;
use crate::spec::{Confinement, Limits, Namespace, Root};

fn spec() -> ContainerSpec {
    ContainerSpec {
        id: "c".into(),
        root: Root::HostView,
        process: Process {
            argv: vec!["sleep".into()],
            env: vec!["PATH=/bin".into(), "HOSTNAME=box".into()],
            cwd: "/srv".into(),
            terminal: false,
            stdin: false,
            user: spec::User {
                uid: 3,
                gid: 4,
                additional_gids: vec![5],
            },
            oom_score_adj: None,
            umask: None,
        },
        hostname: "box".into(),
        namespaces: Namespace::LESSON.to_vec(),
        namespace_paths: Vec::new(),
        mounts: vec![],
        limits: Limits::default(),
        confinement: Confinement::default(),
        capabilities: crate::spec::Capabilities::kept(CapSet::DOCKER_DEFAULT),
        no_new_privs: true,
        rlimits: vec![],
        sysctl: Vec::new(),
        seccomp_profile: None,
        rootfs_slave: false,
        readonly_root: false,
        cgroup_path: None,
    }
}

fn args(words: &[&str]) -> ExecArgs {
    use clap::Parser;
    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        a: ExecArgs,
    }
    Wrap::try_parse_from(std::iter::once("exec").chain(words.iter().copied()))
        .expect("parse")
        .a
}

fn usage(r: Result<ExecOptions>) -> String {
    let e = r.expect_err("should be refused");
    assert_eq!(crate::error::exit_code_of(&e), 125, "{e:#}");
    crate::error::one_line(&e)
}

#[test]
fn docker_flags_start_from_the_container_process() {
    let host = [(OsString::from("FROM_HOST"), OsString::from("h"))];
    let o = args(&[
        "-e",
        "HOSTNAME=other",
        "-e",
        "FROM_HOST",
        "-e",
        "UNSET",
        "-t",
        "c",
        "sh",
        "-x",
    ])
    .options(&spec(), &host)
    .unwrap();
    assert_eq!(o.process.argv, [OsString::from("sh"), "-x".into()]);
    assert_eq!(
        o.process.env,
        ["PATH=/bin", "TERM=xterm", "HOSTNAME=other", "FROM_HOST=h"].map(OsString::from)
    );
    assert_eq!(o.process.cwd, Path::new("/srv"));
    assert!(o.process.terminal && !o.process.stdin);
    // Docker's exec: the container's user unless -u.
    assert_eq!(o.process.user, spec().process.user);
    let o = args(&["-i", "-w", "/tmp/../x", "-u", "7", "c", "true"])
        .options(&spec(), &[])
        .unwrap_err();
    assert!(usage(Err(o)).contains("'..'"));
    let o = args(&["-i", "-w", "/tmp", "-u", "7", "c", "true"])
        .options(&spec(), &[])
        .unwrap();
    assert_eq!(o.process.cwd, Path::new("/tmp"));
    assert!(o.process.stdin);
    assert_eq!(
        o.process.user,
        (spec::User {
            uid: 7,
            gid: 7,
            additional_gids: vec![]
        })
    );
}

#[test]
fn refusals() {
    let s = spec();
    assert!(usage(args(&["c"]).options(&s, &[])).contains("no command"));
    assert!(usage(args(&["-e", "1X=y", "c", "true"]).options(&s, &[])).contains("KEY"));
    assert!(usage(args(&["-u", "root:staff", "c", "true"]).options(&s, &[])).contains("number"));
    assert!(
        usage(args(&["--console-socket", "/s", "c", "true"]).options(&s, &[])).contains("terminal")
    );
    assert!(usage(args(&["-d", "-t", "c", "true"]).options(&s, &[])).contains("console-socket"));
}

fn json(text: &str) -> Result<ExecOptions> {
    process_json(text.as_bytes(), &spec())
}

#[test]
fn process_json_fields() {
    let o = json(
        r#"{"terminal": true, "user": {"uid": 5, "gid": 6, "additionalGids": [7, 8]},
            "args": ["ls", "-l"], "env": ["A=1"], "cwd": "/w",
            "capabilities": {"bounding": ["CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW"],
                             "effective": ["CAP_KILL", "CAP_CHOWN"],
                             "permitted": ["CAP_KILL", "CAP_CHOWN", "CAP_SYS_ADMIN"]},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512}],
            "noNewPrivileges": false, "consoleSize": {"height": 1, "width": 2}}"#,
    )
    .unwrap();
    assert_eq!(o.process.argv, ["ls", "-l"].map(OsString::from));
    assert_eq!(o.process.env, ["A=1"].map(OsString::from));
    assert_eq!(o.process.cwd, Path::new("/w"));
    assert!(o.process.terminal && o.process.stdin);
    // Each set as given (CHOWN 0, KILL 5, NET_RAW 13, SYS_ADMIN 21); the two left out
    // are empty.
    assert_eq!(
        o.capabilities,
        Some(crate::spec::Capabilities {
            bounding: CapSet(1 | 1 << 5 | 1 << 13),
            effective: CapSet(1 | 1 << 5),
            permitted: CapSet(1 | 1 << 5 | 1 << 21),
            inheritable: CapSet(0),
            ambient: CapSet(0),
        })
    );
    assert_eq!(o.no_new_privs, Some(false));
    assert_eq!(
        o.process.user,
        (spec::User {
            uid: 5,
            gid: 6,
            additional_gids: vec![7, 8]
        })
    );
    assert_eq!(
        o.rlimits,
        Some(vec![spec::Rlimit {
            resource: rlimit_number("RLIMIT_NOFILE").unwrap(),
            soft: 512,
            hard: 1024
        }])
    );
    // setrlimit(2)'s numbers on Linux.
    assert_eq!(rlimit_number("RLIMIT_NOFILE").unwrap(), 7);
    assert_eq!(rlimit_number("RLIMIT_NPROC").unwrap(), 6);
    // Left out: the container's cwd, caps and no_new_privs, no user change.
    let o = json(r#"{"args": ["true"]}"#).unwrap();
    assert_eq!(o.process.cwd, Path::new("/srv"));
    assert_eq!((o.capabilities, o.no_new_privs), (None, None));
    assert_eq!(o.process.user, spec().process.user);
}

#[test]
fn process_json_refusals() {
    for (text, says) in [
        (r#"{"args": []}"#, "no command"),
        (r#"{"args": ["x"], "cwd": "rel"}"#, "absolute"),
        (
            r#"{"args": ["x"], "capabilities": {"bounding": ["CAP_NOPE"]}}"#,
            "CAP_NOPE",
        ),
        (
            r#"{"args": ["x"], "capabilities": {"bounding": ["CAP_KILL"], "inheritable": ["CAP_SYS_ADMIN"]}}"#,
            "process.capabilities.inheritable: CAP_SYS_ADMIN: not in the bounding set",
        ),
        (
            r#"{"args": ["x"], "capabilities": {"permitted": ["CAP_KILL"], "ambient": ["CAP_KILL"]}}"#,
            "process.capabilities.ambient: CAP_KILL",
        ),
        (
            r#"{"args": ["x"], "rlimits": [{"type": "RLIMIT_X", "hard": 1, "soft": 1}]}"#,
            "RLIMIT_X",
        ),
        (
            r#"{"args": ["x"], "user": {"uid": 0, "gid": 0, "umask": 18}}"#,
            "umask",
        ),
        (r#"{"args": "x"}"#, "parse"),
    ] {
        assert!(usage(json(text)).contains(says), "{text}");
    }
    assert!(
        usage(args(&["--process", "/nonexistent/p.json", "c", "true"]).options(&spec(), &[]))
            .contains("not both")
    );
}
