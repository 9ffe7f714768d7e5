//! What a connector author runs: `airlock new` (a project per language and kind), `airlock
//! wit` (the world a manifest allows) and `airlock pack` (imports checked, manifest attached),
//! and the Rust template built for real and run in a store.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

mod common;

use common::{SHIP_ON_PAYMENT_WASM, airlock, fails_saying, text};

fn ok(args: &[&str]) -> String {
    let out = airlock(args);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn new_writes_a_project_whose_world_imports_what_its_manifest_declares() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("notify");
    let project = project.to_str().unwrap();
    let said = ok(&[
        "new",
        "acme.notify",
        "--lang",
        "js",
        "--kind",
        "messaging",
        "--dir",
        project,
    ]);
    assert!(said.contains("npm ci && npm run build"), "{said}");
    for file in [
        "airlock.toml",
        "app.js",
        "package.json",
        "package-lock.json",
        "README.md",
    ] {
        assert!(Path::new(project).join(file).exists(), "{file}");
    }
    let manifest = format!("{project}/airlock.toml");
    let out = format!("{project}/wit");
    let json = ok(&["wit", "--manifest", &manifest, "--out", &out, "--json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let imports: Vec<&str> = json["imports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["interface"].as_str().unwrap())
        .collect();
    assert_eq!(imports, ["orders", "customers", "storage", "log"]);
    let world = std::fs::read_to_string(format!("{out}/world.wit")).unwrap();
    assert!(world.contains("    import customers;\n"), "{world}");
    assert!(
        !world.contains("order-updates") && !world.contains("wasi:http"),
        "{world}"
    );
    assert!(!Path::new(&out).join("deps").exists());
}

#[test]
fn new_needs_a_language_a_valid_name_and_an_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("x");
    let at = at.to_str().unwrap();
    let out = airlock(&["new", "acme.x", "--kind", "ads", "--dir", at]);
    fails_saying(&out, "--lang rust, js or python");
    let out = airlock(&[
        "new", "Acme X", "--lang", "python", "--kind", "ads", "--dir", at,
    ]);
    fails_saying(&out, "`id`");
    ok(&[
        "new", "acme.x", "--lang", "python", "--kind", "ads", "--dir", at,
    ]);
    let out = airlock(&[
        "new", "acme.x", "--lang", "python", "--kind", "ads", "--dir", at,
    ]);
    fails_saying(&out, "not empty");
}

#[test]
fn pack_checks_imports_first_and_replaces_a_manifest_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("ship.wasm");
    std::fs::write(&wasm, SHIP_ON_PAYMENT_WASM).unwrap();
    let wasm = wasm.to_str().unwrap();
    let out = dir.path().join("packed.wasm");
    let out = out.to_str().unwrap();
    // Only `orders:read`: every other need of its imports is named, in one refusal.
    let thin = dir.path().join("thin.toml");
    std::fs::write(
        &thin,
        "id = \"acme.ship-on-payment\"\nname = \"Ship\"\npublisher = \"Acme Labs\"\n\
         version = \"1.0.1\"\nkind = \"logistics\"\n[[scopes.required]]\n\
         scope = \"orders:read\"\nreason = \"Read\"\n",
    )
    .unwrap();
    let refused = airlock(&[
        "pack",
        wasm,
        "--manifest",
        thin.to_str().unwrap(),
        "-o",
        out,
    ]);
    fails_saying(&refused, "orders:write");
    for named in ["customers:read", "[[http]]"] {
        fails_saying(&refused, named);
    }
    assert!(!Path::new(out).exists());

    let manifest = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../plugins/ship-on-payment/airlock.toml"
    );
    let carried = airlock(&["pack", wasm, "--manifest", manifest, "-o", out]);
    fails_saying(&carried, "--replace");
    let json = ok(&[
        "pack",
        wasm,
        "--manifest",
        manifest,
        "-o",
        out,
        "--replace",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let bytes = std::fs::read(out).unwrap();
    assert_eq!(json["bytes"], bytes.len());
    assert_eq!(json["replaced"], true);
    let digest = json["digest"].as_str().unwrap();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
}

/// Every kind's Rust template builds for wasm32-wasip2 against this checkout's SDK (with the
/// example connectors' lockfile and target directory, so the SDK's dependencies are built
/// already), and the analytics one runs on the demo store.
#[test]
fn every_rust_template_builds_and_one_runs_in_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../wasm-plugins");
    let lock = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/Cargo.lock");
    let mut analytics = None;
    for kind in [
        "payment",
        "logistics",
        "messaging",
        "analytics",
        "ads",
        "marketplace",
    ] {
        let project = dir.path().join(kind);
        let name = format!("acme.{kind}-template");
        let at = project.to_str().unwrap();
        ok(&["new", &name, "--lang", "rust", "--kind", kind, "--dir", at]);
        std::fs::copy(lock, project.join("Cargo.lock")).unwrap();
        let built = Command::new(env!("CARGO"))
            .args([
                "build",
                "--offline",
                "--release",
                "--target",
                "wasm32-wasip2",
            ])
            .current_dir(&project)
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .output()
            .unwrap();
        assert!(built.status.success(), "{kind}: {}", text(&built.stderr));
        let wasm = target.join(format!("wasm32-wasip2/release/acme_{kind}_template.wasm"));
        assert!(wasm.exists(), "{}", wasm.display());
        if kind == "analytics" {
            analytics = Some(wasm);
        }
    }
    let wasm = analytics.unwrap();
    let db = format!("sqlite://{}", dir.path().join("store.db").display());
    ok(&["init", "--db", &db]);
    ok(&[
        "install",
        "--db",
        &db,
        "--merchant",
        "demo-store",
        wasm.to_str().unwrap(),
    ]);
    let id = "acme.analytics-template";
    let waiting = ok(&[
        "prompt",
        "--db",
        &db,
        "--merchant",
        "demo-store",
        id,
        "--json",
    ]);
    let waiting: serde_json::Value = serde_json::from_str(&waiting).unwrap();
    let digest = waiting["digest"].as_str().unwrap().to_owned();
    ok(&[
        "approve",
        "--db",
        &db,
        "--merchant",
        "demo-store",
        id,
        "--digest",
        &digest,
    ]);
    let emitted = ok(&[
        "emit",
        "--wait",
        "--db",
        &db,
        "--merchant",
        "demo-store",
        "order.created",
        "ord_1001",
    ]);
    assert!(emitted.contains("counted #1001: INR 1249.00"), "{emitted}");
}
