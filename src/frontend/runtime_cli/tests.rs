use super::*;

#[test]
fn signals_by_number_and_name() {
    assert_eq!(signals::parse("15").unwrap(), libc::SIGTERM);
    assert_eq!(signals::parse("9").unwrap(), libc::SIGKILL);
    assert_eq!(signals::parse("KILL").unwrap(), libc::SIGKILL);
    assert_eq!(signals::parse("SIGTERM").unwrap(), libc::SIGTERM);
    assert_eq!(signals::parse("sigusr1").unwrap(), libc::SIGUSR1);
    assert_eq!(signals::parse("RTMIN+2").unwrap(), libc::SIGRTMIN() + 2);
    assert_eq!(signals::parse("RTMAX").unwrap(), libc::SIGRTMAX());
    for bad in ["0", "-1", "65", "NOPE", "SIG", "", "RTMIN+99", "1.5"] {
        let e = signals::parse(bad).expect_err(bad);
        assert_eq!(crate::error::exit_code_of(&e), 125);
    }
}

#[test]
fn the_json_log_is_one_object_per_line_and_a_missing_dir_is_tolerated() {
    let t = crate::testutil::TempDir::new("ocilog");
    let log = t.path().join("log.json");
    let g = GlobalArgs {
        log: Some(log.clone()),
        log_format: LogFormat::Json,
        ..GlobalArgs::default()
    };
    log_error(&g, "first \"quoted\"\nline");
    log_error(&g, "second");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for (l, msg) in lines.iter().zip(["first \"quoted\"\nline", "second"]) {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["level"], "error");
        assert_eq!(v["msg"], msg);
        assert!(v["time"].as_str().unwrap().ends_with('Z'));
    }
    // The bundle (and the log's directory) removed before the engine's last delete.
    let gone = GlobalArgs {
        log: Some(t.path().join("gone/log.json")),
        log_format: LogFormat::Json,
        ..GlobalArgs::default()
    };
    log_error(&gone, "nobody reads this");
    assert!(!t.path().join("gone").exists());
}

#[test]
fn the_default_spec_is_a_bundle_gocker_reads() {
    let t = crate::testutil::TempDir::new("ocispec");
    std::fs::create_dir(t.path().join("rootfs")).unwrap();
    let a = SpecArgs {
        bundle: t.path().to_path_buf(),
        rootless: false,
    };
    assert_eq!(spec(&a).unwrap(), 0);
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("config.json")).unwrap()).unwrap();
    assert_eq!(v["root"]["path"], "rootfs");
    assert_eq!(v["process"]["args"][0], "sh");
    // A second spec never overwrites the first.
    let e = spec(&a).expect_err("config.json exists");
    assert!(format!("{e:#}").contains("exists already"), "{e:#}");
    // And the loader takes what spec wrote.
    crate::frontend::oci::load_bundle(t.path(), "spec-test").expect("the default spec loads");
}
