//! The `airlock` binary's logs: on stderr, human-readable or JSON lines (`--log-format`,
//! `AIRLOCK_LOG_FORMAT`), filtered by `AIRLOCK_LOG`, and never mixed into a command's output.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::{Command, Output};

mod common;

use common::{fails_saying, text};

/// `airlock` with `AIRLOCK_LOG` and `AIRLOCK_LOG_FORMAT` set (or cleared, for `None`).
fn airlock_logging(args: &[&str], filter: Option<&str>, format: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_airlock"));
    cmd.args(args)
        .env_remove("AIRLOCK_DB")
        .env_remove("AIRLOCK_LOG")
        .env_remove("AIRLOCK_LOG_FORMAT");
    if let Some(filter) = filter {
        cmd.env("AIRLOCK_LOG", filter);
    }
    if let Some(format) = format {
        cmd.env("AIRLOCK_LOG_FORMAT", format);
    }
    cmd.output().expect("run airlock")
}

#[test]
fn logs_go_to_stderr_as_text_or_json_lines_and_a_bad_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("logs.db").display());
    // By default (level `warn`) a successful command prints its output and no log lines.
    let plain = airlock_logging(&["init", "--db", &db], None, None);
    assert!(plain.status.success(), "{}", text(&plain.stderr));
    assert_eq!(text(&plain.stderr), "");
    let json = airlock_logging(&["--log-format", "json", "init", "--db", &db], None, None);
    assert!(json.status.success(), "{}", text(&json.stderr));
    assert_eq!(
        json.stdout, plain.stdout,
        "the log format never changes the output"
    );
    assert_eq!(text(&json.stderr), "");

    // A broken filter is itself logged, as one JSON object per line with --log-format json.
    let warned = airlock_logging(&["init", "--db", &db], Some("airlock=loud"), Some("json"));
    assert!(warned.status.success(), "{}", text(&warned.stderr));
    let lines: Vec<serde_json::Value> = text(&warned.stderr)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON log line"))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["level"], "WARN");
    let message = lines[0]["fields"]["message"].as_str().unwrap();
    assert!(message.contains("AIRLOCK_LOG"), "{message}");
    let human = airlock_logging(&["init", "--db", &db], Some("airlock=loud"), None);
    let human = text(&human.stderr);
    assert!(
        human.contains("WARN") && human.contains("AIRLOCK_LOG"),
        "{human}"
    );
    assert!(!human.trim_start().starts_with('{'), "{human}");

    fails_saying(
        &airlock_logging(&["--log-format", "yaml", "init", "--db", &db], None, None),
        "--log-format",
    );
    fails_saying(
        &airlock_logging(&["init", "--db", &db], None, Some("yaml")),
        "--log-format",
    );
}
