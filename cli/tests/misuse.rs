//! The `airlock` binary under misuse: a reader that closes its stdout early, a database file
//! that is not SQLite or cannot be written, a failing health check, `--lang`, and publisher
//! text built to spoof the operator's terminal.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::Stdio;
use std::time::{Duration, Instant};

mod common;

use common::{SHIP_ON_PAYMENT_WASM, airlock, command, text};

/// A fresh demo-store database under `dir` and the pay-then-ship artifact beside it.
fn store(dir: &tempfile::TempDir) -> (String, String) {
    let db = format!("sqlite://{}", dir.path().join("store.db").display());
    let out = airlock(&["init", "--db", &db]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let wasm = dir.path().join("ship.wasm");
    std::fs::write(&wasm, SHIP_ON_PAYMENT_WASM).unwrap();
    (db, wasm.display().to_string())
}

#[test]
fn a_closed_stdout_ends_the_command_quietly_after_its_work_is_done() {
    let dir = tempfile::tempdir().unwrap();
    let (db, wasm) = store(&dir);
    // `airlock install ... | head -0`: the reader is gone before anything is printed.
    let mut child = command(&["install", "--db", &db, "--merchant", "demo-store", &wasm])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.trim().is_empty(), "not quiet: {err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
    // The install was done all the same.
    let list = airlock(&["list", "--db", &db, "--merchant", "demo-store"]);
    assert!(text(&list.stdout).contains("acme.ship-on-payment"));
}

#[test]
fn a_file_that_is_not_sqlite_or_is_read_only_is_named_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("notes.db");
    std::fs::write(&junk, "these are my notes, not a database\n".repeat(200)).unwrap();
    let started = Instant::now();
    let out = airlock(&[
        "list",
        "--db",
        &format!("sqlite://{}", junk.display()),
        "--merchant",
        "demo-store",
    ]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("is not a SQLite database"), "{err}");
    assert!(!err.contains("check that the server is running"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3), "{err}");

    let (db, _) = store(&dir);
    let started = Instant::now();
    let out = airlock(&[
        "list",
        "--db",
        &format!("{db}?mode=ro"),
        "--merchant",
        "demo-store",
    ]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("read-only"), "{err}");
    assert!(!err.contains("check that the server is running"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3), "{err}");
}

#[test]
fn a_failed_health_check_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (db, wasm) = store(&dir);
    let at = ["--db", db.as_str(), "--merchant", "demo-store"];
    let install = airlock(&[&["install"], &at[..], &[wasm.as_str()]].concat());
    assert!(install.status.success(), "{}", text(&install.stderr));
    let app = "acme.ship-on-payment";
    let waiting = airlock(&[&["prompt"], &at[..], &[app, "--json"]].concat());
    assert!(waiting.status.success(), "{}", text(&waiting.stderr));
    let waiting: serde_json::Value = serde_json::from_slice(&waiting.stdout).unwrap();
    let digest = waiting["digest"].as_str().unwrap();
    let approve = airlock(&[&["approve"], &at[..], &[app, "--digest", digest]].concat());
    assert!(approve.status.success(), "{}", text(&approve.stderr));
    // No gateway answers (and its key is not set): the check fails, and says so.
    let checked = airlock(&[&["check"], &at[..], &[app]].concat());
    let shown = text(&checked.stdout);
    assert!(shown.contains("FAILED"), "{shown}");
    assert!(
        !checked.status.success(),
        "exit 0 after a failed check: {shown}"
    );
    let json = airlock(&[&["check"], &at[..], &[app, "--json"]].concat());
    assert!(!json.status.success());
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("one JSON report");
    assert_eq!(report["result"]["status"], "failed");
}

#[test]
fn install_prints_the_prompt_in_the_language_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let (db, wasm) = store(&dir);
    let out = airlock(&[
        "install",
        "--db",
        &db,
        "--merchant",
        "demo-store",
        "--lang",
        "hi",
        &wasm,
    ]);
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(shown.contains("ज़रूरी"), "{shown}");
    assert!(
        !shown.contains("Required (all must be approved)"),
        "{shown}"
    );
}

/// An empty component carrying `manifest`: enough to be refused for its manifest.
fn refused_manifest_component(manifest: &str) -> Vec<u8> {
    airlock_host::artifact::with_manifest(b"\0asm\x0d\0\x01\0", manifest.as_bytes())
}

#[test]
fn terminal_control_bytes_in_a_refused_manifest_never_reach_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = store(&dir);
    for manifest in [
        // Raw bytes in the TOML: the parser's message quotes the line.
        "id = \"acme.x\"\nname = \"\x1b[2J\x07Evil\"\n",
        // Escaped in TOML, so the value itself holds them.
        "id = \"acme.x\"\nname = \"Evil\"\npublisher = \"E\"\nkind = \"ads\"\n\
         version = \"1.0.0\\u001b]0;owned\\u0007\"\n",
    ] {
        let path = dir.path().join("evil.wasm");
        std::fs::write(&path, refused_manifest_component(manifest)).unwrap();
        let out = airlock(&[
            "install",
            "--db",
            &db,
            "--merchant",
            "demo-store",
            path.to_str().unwrap(),
        ]);
        assert!(!out.status.success());
        let err = text(&out.stderr);
        assert!(err.contains("manifest"), "{err}");
        assert!(
            !out.stderr.iter().any(|b| *b == 0x1b || *b == 0x07),
            "raw control bytes reached the terminal: {err:?}"
        );
        assert!(err.contains("\\u{1b}"), "not shown visibly: {err:?}");
    }
}
