//! The `airlock` binary as a user runs it: the demo, the platform verbs, and clear errors
//! with a non-zero exit (never a panic) for bad input.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::process::{Command, Output};

use common::{SHIP_ON_PAYMENT_WASM, airlock, fails_saying, no_panic, text};

#[test]
fn demo_installs_approves_delivers_and_shows_a_refused_call() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("demo.db").display());
    let out = airlock(&["demo", "--db", &db, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("demo prints JSON");

    assert_eq!(report["approved"]["status"], "active");
    let effective = report["approved"]["effective"].as_array().unwrap();
    assert_eq!(effective.len(), 3, "{effective:?}");
    assert_eq!(report["delivery"]["result"]["status"], "done");
    assert_eq!(report["delivery"]["result"]["acted"], true);
    let accesses = report["delivery"]["accesses"].as_array().unwrap();
    let inventory = accesses
        .iter()
        .find(|a| a["operation"] == "inventory.get")
        .expect("inventory.get attempted");
    assert_eq!(inventory["denied"], 1);
    assert_eq!(inventory["allowed"], 0);
    assert_eq!(report["cross_store"]["result"]["status"], "failed");

    // The demo's database is a real one: the other verbs read it.
    let out = airlock(&["list", "--db", &db, "--merchant", "demo-store", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let out = airlock(&["audit", "--db", &db, "--merchant", "demo-store", "--json"]);
    let audit: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let denied = audit.as_array().unwrap().iter().any(|e| {
        e["action"] == "inventory.get" && e["outcome"] == "denied" && e["scope"] == "inventory:read"
    });
    assert!(denied, "the refused call is audited: {audit}");

    // Running the demo again starts from a fresh store rather than failing on the old one.
    let again = airlock(&["demo", "--db", &db]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("REFUSED"),
        "{}",
        text(&again.stdout)
    );
}

#[test]
fn bad_input_gets_a_clear_error_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    assert!(airlock(&["init", "--db", &db]).status.success());

    let cases: [(&[&str], &str); 8] = [
        (&["frobnicate"], "unrecognized subcommand"),
        (
            &["keys", "add", "--db", &db, "--publisher", "Acme", "zz"],
            "not an ed25519 public key",
        ),
        (
            &["list", "--db", "mysql://x/y", "--merchant", "m"],
            "sqlite://path/to/file.db",
        ),
        (
            &[
                "install",
                "--db",
                &db,
                "--merchant",
                "demo-store",
                "/no/such/file.wasm",
            ],
            "/no/such/file.wasm",
        ),
        (
            &[
                "approve",
                "--db",
                &db,
                "--merchant",
                "demo-store",
                "x",
                "--optional",
                "orders:delete",
            ],
            "orders:delete",
        ),
        (
            &[
                "approve",
                "--db",
                &db,
                "--merchant",
                "demo-store",
                "inst_missing",
            ],
            "has no installation",
        ),
        (
            &[
                "emit",
                "--db",
                &db,
                "--merchant",
                "demo-store",
                "order.exploded",
                "ord_1",
            ],
            "unknown event topic",
        ),
        (
            &[
                "emit",
                "--db",
                &db,
                "--merchant",
                "nobody",
                "order.created",
                "ord_1",
            ],
            "merchant `nobody` not found",
        ),
    ];
    for (args, says) in cases {
        let out = airlock(args);
        no_panic(&out);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = text(&out.stderr);
        assert!(err.contains(says), "{args:?}: expected `{says}` in {err}");
    }

    // With --json the error is JSON on stdout, for scripts.
    let out = airlock(&[
        "emit",
        "--db",
        &db,
        "--merchant",
        "nobody",
        "order.created",
        "x",
        "--json",
    ]);
    assert!(!out.status.success());
    let err: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON error");
    assert!(err["error"].as_str().unwrap().contains("nobody"));
}

#[test]
fn lifecycle_verbs_revoke_disable_enable_and_uninstall() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("demo.db").display());
    assert!(airlock(&["demo", "--db", &db]).status.success());
    let app = "airlock.order-notifier";
    let run = |args: &[&str]| -> serde_json::Value {
        let mut full = args.to_vec();
        full.extend(["--db", &db, "--merchant", "demo-store", "--json"]);
        let out = airlock(&full);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let view = run(&[
        "revoke",
        app,
        "--scope",
        "customers:read-contact",
        "--by",
        "owner",
    ]);
    assert_eq!(
        view["effective"],
        serde_json::json!(["orders:read", "customers:read"])
    );
    assert_eq!(run(&["disable", app])["status"], "disabled");
    assert_eq!(run(&["enable", app])["status"], "active");
    let gone = run(&["uninstall", app, "--by", "owner"]);
    assert_eq!(gone["connector"], app);
    assert!(
        gone["deleted"]["storage_keys"].as_u64().unwrap() >= 1,
        "{gone}"
    );
    assert_eq!(run(&["list"]), serde_json::json!([]));

    let out = airlock(&["enable", app, "--db", &db, "--merchant", "demo-store"]);
    fails_saying(&out, "has no installation");
}

#[test]
fn the_demo_never_deletes_a_database_that_is_not_a_demo_store() {
    let dir = tempfile::tempdir().unwrap();
    let precious = dir.path().join("precious.db");
    std::fs::write(&precious, b"the merchant's own data").unwrap();
    let out = airlock(&["demo", "--db", &format!("sqlite://{}", precious.display())]);
    fails_saying(&out, "is not an Airlock demo database");
    assert_eq!(
        std::fs::read(&precious).unwrap(),
        b"the merchant's own data"
    );
}

#[test]
fn a_refused_artifact_exits_non_zero_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    assert!(airlock(&["init", "--db", &db]).status.success());
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"\0asm\x01\0\0\0").unwrap();
    let out = airlock(&[
        "install",
        "--db",
        &db,
        "--merchant",
        "demo-store",
        junk.to_str().unwrap(),
    ]);
    fails_saying(&out, "not a component");
}

/// Every form a leaked key could take in text: as is, percent-encoded, hex, base64.
fn leak_forms(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let url: String = secret
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    vec![
        secret.to_owned(),
        url,
        hex::encode(secret),
        b64.encode(secret),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
    ]
}

#[test]
fn secrets_never_leave_the_vault_through_the_cli_its_logs_or_the_database() {
    const CANARY: &str = "sk_live_CANARY+7Qx/e9Zt41";
    const COURIER: &str = "cr_live_CANARY2_0b1c2d3e";
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("leak.db");
    let db = format!("sqlite://{}", db_path.display());
    let key = dir.path().join("vault.key");
    let key_arg = key.display().to_string();
    let artifact = dir.path().join("ship.wasm");
    std::fs::write(&artifact, SHIP_ON_PAYMENT_WASM).unwrap();
    let mut seen = String::new();
    let mut run = |args: &[&str], stdin: Option<&str>| -> Output {
        use std::io::Write;
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--db", &db, "--vault-key-file", &key_arg]);
        let mut child = Command::new(env!("CARGO_BIN_EXE_airlock"))
            .args(&all)
            .env_remove("AIRLOCK_DB")
            .env("COURIER_KEY", COURIER)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run airlock");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        no_panic(&out);
        seen.push_str(&text(&out.stdout));
        seen.push_str(&text(&out.stderr));
        out
    };
    let keygen = airlock(&["secrets", "keygen", "--out", &key_arg]);
    assert!(keygen.status.success(), "{}", text(&keygen.stderr));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(run(&["init"], None).status.success());
    let out = run(
        &[
            "install",
            "--merchant",
            "demo-store",
            &artifact.display().to_string(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout)
            .contains("attached by Airlock only to requests to https://api.paygate.example")
    );
    let app = "acme.ship-on-payment";
    let waiting = run(&["prompt", "--merchant", "demo-store", app, "--json"], None);
    assert!(waiting.status.success(), "{}", text(&waiting.stderr));
    let waiting: serde_json::Value = serde_json::from_slice(&waiting.stdout).unwrap();
    let digest = waiting["digest"].as_str().unwrap();
    assert!(
        run(
            &[
                "approve",
                "--merchant",
                "demo-store",
                app,
                "--digest",
                digest
            ],
            None
        )
        .status
        .success()
    );
    let set = run(
        &[
            "secrets",
            "set",
            "--merchant",
            "demo-store",
            app,
            "gateway_key",
        ],
        Some(&format!("{CANARY}\n")),
    );
    assert!(set.status.success(), "{}", text(&set.stderr));
    let from_env = run(
        &[
            "secrets",
            "set",
            "--merchant",
            "demo-store",
            app,
            "courier_key",
            "--from-env",
            "COURIER_KEY",
        ],
        None,
    );
    assert!(from_env.status.success(), "{}", text(&from_env.stderr));
    let again = run(
        &[
            "secrets",
            "set",
            "--merchant",
            "demo-store",
            app,
            "gateway_key",
        ],
        Some(CANARY),
    );
    fails_saying(&again, "airlock secrets rotate");
    let empty = run(
        &[
            "secrets",
            "rotate",
            "--merchant",
            "demo-store",
            app,
            "gateway_key",
        ],
        Some(""),
    );
    fails_saying(&empty, "no value on stdin");
    let listed = run(
        &["secrets", "list", "--merchant", "demo-store", app, "--json"],
        None,
    );
    let list: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(list[0]["name"], "gateway_key");
    assert_eq!(list[0]["set"], true);
    assert!(list[0]["rotated_at"].as_i64().unwrap() > 0);
    run(&["secrets", "list", "--merchant", "demo-store", app], None);
    // The key is attached, the provider is down: the merchant sees why, the key goes nowhere.
    let emitted = run(
        &[
            "emit",
            "--wait",
            "--merchant",
            "demo-store",
            "order.created",
            "ord_1001",
            "--allow-private-ip",
            "acme.ship-on-payment=127.0.0.1:1",
            "--resolve",
            "api.paygate.example:443:127.0.0.1:1",
        ],
        None,
    );
    assert!(emitted.status.success(), "{}", text(&emitted.stderr));
    assert!(
        text(&emitted.stdout).contains("cause: provider-unavailable"),
        "{}",
        text(&emitted.stdout)
    );
    run(&["audit", "--merchant", "demo-store", "--json"], None);
    run(&["audit", "--merchant", "demo-store"], None);
    // Opened with the wrong vault key: a clear report, still no value.
    let other_key = dir.path().join("other.key");
    assert!(
        airlock(&[
            "secrets",
            "keygen",
            "--out",
            &other_key.display().to_string()
        ])
        .status
        .success()
    );
    let wrong = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args([
            "secrets",
            "list",
            "--merchant",
            "demo-store",
            app,
            "--db",
            &db,
        ])
        .args(["--vault-key-file", &other_key.display().to_string()])
        .env_remove("AIRLOCK_DB")
        .output()
        .unwrap();
    let wrong_text = text(&wrong.stdout);
    assert!(
        wrong_text.contains("CANNOT OPEN: secret `gateway_key` was sealed with vault key"),
        "{wrong_text}"
    );
    seen.push_str(&wrong_text);
    seen.push_str(&text(&wrong.stderr));

    let mut stored = std::fs::read(&db_path).unwrap();
    for suffix in ["-wal", "-shm"] {
        if let Ok(extra) = std::fs::read(format!("{}{suffix}", db_path.display())) {
            stored.extend(extra);
        }
    }
    let stored = String::from_utf8_lossy(&stored);
    for secret in [CANARY, COURIER] {
        for form in leak_forms(secret) {
            assert!(!seen.contains(&form), "`{form}` printed:\n{seen}");
            assert!(!stored.contains(&form), "`{form}` stored in plaintext");
        }
    }
}

#[test]
fn limits_are_set_per_plan_and_connector_shown_and_health_checks_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("limits.db").display());
    assert!(airlock(&["demo", "--db", &db, "--json"]).status.success());
    let app = "airlock.order-notifier";
    let set = airlock(&[
        "limits",
        "set",
        "--db",
        &db,
        "--plan",
        "starter",
        "--fuel",
        "5000000",
        "--deadline-ms",
        "750",
    ]);
    assert!(set.status.success(), "{}", text(&set.stderr));
    let set = airlock(&[
        "limits",
        "set",
        "--db",
        &db,
        "--connector",
        app,
        "--publisher",
        "Airlock Examples",
        "--fuel",
        "7000000",
        "--table-elements",
        "500",
        "--input-kib",
        "256",
    ]);
    assert!(set.status.success(), "{}", text(&set.stderr));
    let shown = airlock(&[
        "limits",
        "show",
        "--db",
        &db,
        "--merchant",
        "demo-store",
        app,
        "--json",
    ]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let limits: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(limits["fuel"], 7_000_000);
    assert_eq!(limits["table_elements"], 500);
    assert_eq!(limits["max_input_bytes"], 256 * 1024);
    assert_eq!(limits["deadline"]["secs"], 0);
    assert_eq!(limits["deadline"]["nanos"], 750_000_000);
    let text_view = airlock(&[
        "limits",
        "show",
        "--db",
        &db,
        "--merchant",
        "demo-store",
        app,
    ]);
    assert!(text(&text_view.stdout).contains("instructions      7000000"));
    fails_saying(
        &airlock(&[
            "limits", "set", "--db", &db, "--plan", "platinum", "--fuel", "1",
        ]),
        "plan `platinum` not found",
    );
    fails_saying(
        &airlock(&["limits", "set", "--db", &db, "--fuel", "1"]),
        "--plan",
    );
    let checked = airlock(&["check", "--db", &db, "--merchant", "demo-store", app]);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    assert!(
        text(&checked.stdout).contains("healthy"),
        "{}",
        text(&checked.stdout)
    );
    let audit = airlock(&["audit", "--db", &db, "--merchant", "demo-store"]);
    assert!(text(&audit.stdout).contains("health-check"));
}
