//! `approve` names the version the merchant saw, and `prompt` prints what waits.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use common::{SHIP_ON_PAYMENT_WASM, airlock, text};

#[test]
fn approve_needs_the_digest_that_waits_and_prompt_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    let artifact = dir.path().join("ship.wasm");
    std::fs::write(&artifact, SHIP_ON_PAYMENT_WASM).unwrap();
    assert!(airlock(&["init", "--db", &db]).status.success());
    let path = artifact.display().to_string();
    let out = airlock(&["install", "--db", &db, "--merchant", "demo-store", &path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let app = "acme.ship-on-payment";

    // Without --digest: refused, naming what waits and how to see it.
    let out = airlock(&["approve", "--db", &db, "--merchant", "demo-store", app]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("--digest") && err.contains("sha256:") && err.contains("airlock prompt"),
        "{err}"
    );

    let out = airlock(&["prompt", "--db", &db, "--merchant", "demo-store", app]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("NOT SIGNED") && shown.contains("--digest sha256:"),
        "{shown}"
    );
    let out = airlock(&[
        "prompt",
        "--db",
        &db,
        "--merchant",
        "demo-store",
        app,
        "--json",
    ]);
    let waiting: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let digest = waiting["digest"].as_str().unwrap();

    let wrong = format!("sha256:{}", "0".repeat(64));
    let out = airlock(&[
        "approve",
        "--db",
        &db,
        "--merchant",
        "demo-store",
        app,
        "--digest",
        &wrong,
    ]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains(digest), "{}", text(&out.stderr));
    let out = airlock(&[
        "approve",
        "--db",
        &db,
        "--merchant",
        "demo-store",
        app,
        "--digest",
        digest,
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let view: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(view["status"], "active");
}
