//! `airlock dev run` on real components: the example order notifier, the probe and a
//! connector built without a manifest. What it used against what it declares, the least
//! manifest, each refusal with its fix, the exit status, `--json`, and bad input named.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Output;

use common::{airlock, fails_saying, no_panic, text};

const NOTIFIER: &str = concat!(env!("OUT_DIR"), "/order_notifier.wasm");
const PROBE: &str = concat!(env!("OUT_DIR"), "/probe.wasm");
const BARE: &str = concat!(env!("OUT_DIR"), "/no_manifest.wasm");

const HEADER: &str = r#"id = "acme.notifier"
name = "Notifier"
publisher = "Acme"
version = "1.0.0"
kind = "messaging"
events = ["order.created"]
"#;

/// A manifest file in `dir` with these scopes.
fn manifest_file(dir: &Path, required: &[&str], optional: &[&str]) -> String {
    let mut toml = HEADER.to_owned();
    for (list, names) in [("required", required), ("optional", optional)] {
        for name in names {
            toml.push_str(&format!(
                "\n[[scopes.{list}]]\nscope = \"{name}\"\nreason = \"Needs {name}\"\n"
            ));
        }
    }
    let path = dir.join("airlock.toml");
    std::fs::write(&path, toml).unwrap();
    path.display().to_string()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("--json prints one JSON object ({e}): {}", text(&out.stdout)))
}

#[test]
fn a_denied_optional_scope_is_reported_with_its_fix_and_exit_1() {
    let out = airlock(&["dev", "run", NOTIFIER, "--event", "order.created:ord_1001"]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    for says in [
        "granted:  orders:read, customers:read",
        "inventory.get (1 time(s)): `inventory:read` is not granted in this run",
        "fix: `inventory:read` is optional",
        "--grant inventory:read",
        "customers:read-contact   optional    not granted  withheld",
        "rerun with `--grant customers:read-contact`",
        "instructions ",
        "peak of 64.0 MiB",
        "FAILED (exit 1): 1 refusal(s)",
    ] {
        assert!(shown.contains(says), "expected `{says}` in:\n{shown}");
    }
    // The connector coped: its own result is Ok, and it said why the note is missing.
    assert!(shown.contains("result: Ok, acted"), "{shown}");
    assert!(
        shown.contains("stock not shared (inventory:read not granted)"),
        "{shown}"
    );
}

#[test]
fn granting_the_optional_scopes_passes_and_json_carries_everything() {
    let out = airlock(&[
        "dev",
        "run",
        NOTIFIER,
        "--event",
        "order.created:ord_1001",
        "--grant",
        "inventory:read,customers:read-contact",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["passed"], true);
    assert_eq!(report["run"]["result"]["status"], "done");
    assert!(report["resources"]["instructions"].as_u64().unwrap() > 0);
    assert!(report["resources"]["peak_memory_bytes"].as_u64().unwrap() > 0);
    assert_eq!(report["resources"]["memory_limit_bytes"], 64 << 20);
    assert!(report["denials"].as_array().unwrap().is_empty());
    let scopes = report["scopes"].as_array().unwrap();
    assert!(scopes.iter().all(|s| s["run"] == "used"), "{scopes:?}");
    let least = &report["least_manifest"];
    assert_eq!(
        least["required"],
        serde_json::json!(["orders:read", "customers:read"])
    );
    assert_eq!(
        least["optional"],
        serde_json::json!(["customers:read-contact", "inventory:read"])
    );
    assert!(least["changes"].as_array().unwrap().is_empty(), "{least}");
    // The merchant's phone number is masked in the summary; the queue write is own storage.
    let summary = report["run"]["result"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("queued WhatsApp confirmation for #1001"),
        "{summary}"
    );
}

#[test]
fn a_run_using_only_required_scopes_suggests_a_manifest_without_the_unused_optional_one() {
    let dir = tempfile::tempdir().unwrap();
    // The notifier's code reads stock but never adjusts it.
    let manifest = manifest_file(
        dir.path(),
        &["orders:read", "customers:read", "inventory:read"],
        &["customers:read-contact", "inventory:write"],
    );
    let out = airlock(&[
        "dev",
        "run",
        NOTIFIER,
        "--manifest",
        &manifest,
        "--event",
        "order.created:ord_1001",
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let shown = text(&out.stdout);
    assert!(
        shown.contains("scopes: drop `inventory:write`: the code never calls"),
        "{shown}"
    );
    let toml = shown.split("--- airlock.toml ---").nth(1).unwrap();
    assert!(!toml.contains("scope = \"inventory:write\""), "{toml}");
    assert!(toml.contains("scope = \"inventory:read\""), "{toml}");
    assert!(
        shown.contains("replaces the one built into the component"),
        "{shown}"
    );
    assert!(shown.contains("PASSED"), "{shown}");

    // A component without a manifest of its own, run under a file: it logs and returns,
    // needing only the event's scope; the optional scope its code never reaches goes.
    let manifest = manifest_file(dir.path(), &["orders:read"], &["customers:read"]);
    let out = airlock(&[
        "dev",
        "run",
        BARE,
        "--manifest",
        &manifest,
        "--event",
        "order.created:ord_1001",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let report = json(&out);
    let least = &report["least_manifest"];
    assert_eq!(least["required"], serde_json::json!(["orders:read"]));
    assert_eq!(least["optional"], serde_json::json!([]));
    let toml = least["toml"].as_str().unwrap();
    assert!(!toml.contains("scope = \"customers:read\""), "{toml}");
    assert!(
        toml.contains("# scopes: drop `customers:read`: the code never calls"),
        "{toml}"
    );
    let orders = &report["scopes"][0];
    assert_eq!(
        (orders["scope"].as_str(), orders["for_event"].as_bool()),
        (Some("orders:read"), Some(true))
    );
    let notes = report["notes"].to_string();
    assert!(notes.contains("carries no manifest"), "{notes}");
    assert_eq!(report["run"]["logs"][0]["message"], "bare connector ran");
}

#[test]
fn a_bad_event_is_named_by_its_field() {
    let run = |event: &str| airlock(&["dev", "run", NOTIFIER, "--event", event]);
    fails_saying(
        &run("order.shipped:ord_1001"),
        "event field `topic`: unknown event topic `order.shipped`",
    );
    fails_saying(&run("order.created:"), "event field `subject_id`");
    fails_saying(&run("ord_1001"), "neither an event file nor TOPIC:ID");
    fails_saying(&run("missing.json"), "--event missing.json: no such file");
    let dir = tempfile::tempdir().unwrap();
    for (body, says) in [
        (
            r#"{"topic": "order.created"}"#,
            "event field `subject_id`: missing",
        ),
        (
            r#"{"topic": "order.created", "subject": "ord_1"}"#,
            "event field `subject`: not an event field",
        ),
        (
            r#"{"topic": "order.created", "subject_id": "ord_1", "occurred_at": "noon"}"#,
            "event field `occurred_at`",
        ),
        ("topic: order.created", "the event is not a JSON object"),
    ] {
        let path = dir.path().join("event.json");
        std::fs::write(&path, body).unwrap();
        fails_saying(&run(&path.display().to_string()), says);
    }
    let path = dir.path().join("event.json");
    std::fs::write(
        &path,
        r#"{"topic": "order.created", "subject_id": "ord_1002", "id": "evt_7"}"#,
    )
    .unwrap();
    let out = run(&path.display().to_string());
    assert!(
        text(&out.stdout).contains("order.created ord_1002 (event id evt_7)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn grants_and_secrets_the_manifest_does_not_declare_are_refused_by_name() {
    let run = |extra: &[&str]| {
        let mut args = vec!["dev", "run", NOTIFIER, "--event", "order.created:ord_1001"];
        args.extend_from_slice(extra);
        airlock(&args)
    };
    fails_saying(
        &run(&["--grant", "orders:write"]),
        "--grant `orders:write`: the manifest does not declare it",
    );
    fails_saying(
        &run(&["--grant", "orders:delete"]),
        "unknown scope `orders:delete`",
    );
    fails_saying(
        &run(&["--secret", "api_key=sk_test_12345"]),
        "secret `api_key`: the manifest declares no such secret",
    );
    fails_saying(
        &run(&["--secret", "nothing"]),
        "--secret: expected NAME=VALUE",
    );
    // `--grant none`: not even the event's scope, so the host does not deliver it.
    let out = run(&["--grant", "none"]);
    assert_eq!(out.status.code(), Some(1));
    let shown = text(&out.stdout);
    assert!(shown.contains("Not delivered"), "{shown}");
    assert!(shown.contains("run without `--grant none`"), "{shown}");
}

#[test]
fn every_undeclared_scope_is_explained_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_file(dir.path(), &["orders:read"], &[]);
    let out = airlock(&[
        "dev",
        "run",
        PROBE,
        "--manifest",
        &manifest,
        "--event",
        "order.created:orders.get ord_1001",
    ]);
    fails_saying(&out, "a platform would refuse this connector at install");
    let err = text(&out.stderr);
    for scope in [
        "orders:write",
        "customers:read",
        "inventory:read",
        "inventory:write",
    ] {
        assert!(
            err.contains(&format!("`{scope}`, and the manifest does not declare it")),
            "{scope} in {err}"
        );
    }
    assert!(err.contains("scope = \"inventory:write\""), "{err}");
    assert!(
        err.contains("calls inventory.get and inventory.list, which need `inventory:read`"),
        "{err}"
    );
    assert!(!err.contains("`orders:read`, and"), "declared: {err}");
    // Without a manifest file, a component with none is told to pass one.
    fails_saying(
        &airlock(&["dev", "run", BARE, "--event", "order.created:ord_1001"]),
        "pass one with `--manifest airlock.toml`",
    );
}
