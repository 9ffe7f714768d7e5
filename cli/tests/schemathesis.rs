//! The platform API fuzzed against its own OpenAPI document: the real `airlock serve --listen`
//! on a fresh SQLite database, a platform token, and the pinned schemathesis (from PyPI, in a
//! venv under `~/.cache/airlock/toolchains/`) running every check for a short budget. Any
//! server error, any answer outside the document (status, content type, body schema) fails.
//! Without python3 it skips with a note, unless `CI` is set.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use common::{airlock, serve_listening, text};

/// Test cases per operation and phase (each run also stops at its time budget).
const MAX_EXAMPLES: &str = "15";

#[test]
fn schemathesis_finds_no_server_error_and_no_answer_outside_the_document() {
    let Some(schemathesis) = airlock_tests::polyglot::schemathesis() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("fuzz.db").display());
    let out = airlock(&["--db", &db, "init"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = airlock(&["--db", &db, "--json", "tokens", "create", "--label", "fuzz"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let issued: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let secret = issued["secret"].as_str().unwrap().to_owned();
    // A rate high enough that the fuzzer is never limited.
    let (_serve, url) = serve_listening(&db, &["--api-rate", "100000"], &[]);
    // A schema-valid request may still be refused with 422 for what no schema can say: bytes
    // that are not a component (`artifact-refused`), and an Idempotency-Key the fuzzer sends
    // again with another request (`idempotency-key-reused`). Every other check is as shipped.
    let config = dir.path().join("schemathesis.toml");
    std::fs::write(
        &config,
        "[checks.positive_data_acceptance]\n\
         expected-statuses = [\"2xx\", \"401\", \"403\", \"404\", \"409\", \"422\", \"429\"]\n",
    )
    .unwrap();

    // Two runs over one server: every operation through the examples, coverage and fuzzing
    // phases; then stateful sequences (ids from one answer fed to the next) without the
    // token routes, whose links would revoke or rotate the fuzzer's own token mid-run.
    let runs: [(&str, &[&str]); 2] = [
        ("50", &["--phases", "examples,coverage,fuzzing"]),
        (
            "40",
            &[
                "--phases",
                "stateful",
                "--exclude-path-regex",
                "^/v1/tokens/",
            ],
        ),
    ];
    // One worker: with two threads, CPython 3.11's `ast.parse` inside hypothesis sometimes
    // fails ("AST constructor recursion depth mismatch"), an error of the tool, not the API.
    for (seconds, phases) in runs {
        let out = std::process::Command::new(&schemathesis)
            .current_dir(dir.path())
            .arg("--config-file")
            .arg(&config)
            .args(["run", &format!("{url}/openapi.json")])
            .args(["--header", &format!("Authorization: Bearer {secret}")])
            .args(["--checks", "all", "--max-examples", MAX_EXAMPLES])
            .args(["--max-time", seconds, "--workers", "1", "--seed", "13"])
            .args(phases)
            .arg("--no-color")
            .output()
            .expect("run schemathesis");
        let report = format!("{}\n{}", text(&out.stdout), text(&out.stderr));
        assert!(
            out.status.success(),
            "schemathesis {phases:?} failed:\n{report}"
        );
        let tail: Vec<&str> = report.lines().rev().take(6).collect();
        eprintln!("schemathesis {phases:?}: {}", tail.join(" | "));
    }
}
