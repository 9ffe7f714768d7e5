//! What every test of the `airlock` binary needs: running it, reading its output, and the
//! example artifact. Each test file is its own binary and uses part of this, hence the allow.
#![allow(dead_code, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// The example pay-then-ship connector, built from `plugins/ship-on-payment` by this crate's
/// build script.
pub const SHIP_ON_PAYMENT_WASM: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/ship_on_payment.wasm"));

/// The `airlock` binary with `args`, never reading a database from the caller's environment.
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_airlock"));
    cmd.args(args).env_remove("AIRLOCK_DB");
    cmd
}

/// Run `airlock` with `args` to the end.
pub fn airlock(args: &[&str]) -> Output {
    command(args).output().expect("run airlock")
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The command did not panic.
pub fn no_panic(out: &Output) {
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "airlock panicked: {err}");
}

/// The command failed cleanly (no panic, non-zero exit) and its error says `says`.
pub fn fails_saying(out: &Output, says: &str) {
    no_panic(out);
    assert!(!out.status.success(), "expected a failure");
    let err = text(&out.stderr);
    assert!(err.contains(says), "expected `{says}` in {err}");
}

/// A child process killed when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `airlock serve --db DB --listen 127.0.0.1:0` (plus `extra` arguments and `env`) and
/// read the address it prints to stderr.
pub fn serve_listening(db: &str, extra: &[&str], env: &[(&str, &str)]) -> (Running, String) {
    let mut args = vec!["serve", "--db", db, "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut cmd = command(&args);
    for (name, value) in env {
        cmd.env(name, value);
    }
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start airlock serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line.split("merchant page on ").nth(1) {
                let _ = tx.send(addr.trim().to_owned());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("serve prints its address");
    (Running(child), url)
}
