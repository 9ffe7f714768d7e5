//! Uploads under misuse: the CLI reads at most the artifact limit (32 MiB) of any file, so a
//! huge file or an endless stream is refused at the limit, not read into memory.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Run `airlock` with `args`, killing it if it has not finished within a minute (an unbounded
/// read of `/dev/zero` never finishes), and return (exit success, stderr).
fn airlock_bounded(args: &[&str]) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(args)
        .env_remove("AIRLOCK_DB")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run airlock");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (status.success(), err);
        }
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("airlock {args:?} was still reading after a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_endless_or_huge_upload_is_refused_at_the_32_mib_limit() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    // A sparse 1 GiB file: reading it whole would cost 1 GiB of memory.
    let huge = dir.path().join("huge.wasm");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let huge = huge.display().to_string();
    let key = dir.path().join("publisher.key");
    std::fs::write(&key, "11".repeat(32)).unwrap();
    let key = key.display().to_string();
    let inputs: &[&str] = if std::path::Path::new("/dev/zero").exists() {
        &[&huge, "/dev/zero"]
    } else {
        &[&huge]
    };
    for input in inputs {
        for verb in [
            vec!["install", "--db", &db, "--merchant", "demo-store", input],
            vec![
                "upgrade",
                "--db",
                &db,
                "--merchant",
                "demo-store",
                "acme.x",
                input,
            ],
            vec![
                "sign",
                "--key",
                &key,
                input,
                "--out",
                "/nonexistent/out.wasm",
            ],
        ] {
            let (ok, err) = airlock_bounded(&verb);
            assert!(!ok, "{verb:?} succeeded");
            assert!(!err.contains("panicked"), "{err}");
            assert!(err.contains("32 MiB"), "{verb:?}: {err}");
        }
    }
}
