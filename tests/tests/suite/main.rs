//! Airlock's integration tests with real components, as one test binary: each module was a
//! binary of its own, and linking the host and Wasmtime fifteen times dominated the suite's
//! time on 2 cores. The tests of all modules run on parallel threads of this one process, so
//! none may depend on process-wide state; the one that measures the process's resident set
//! is a binary of its own (`tests/memory_bomb.rs`).
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod api;
mod api_operate;
mod app_events;
mod bounds;
mod capabilities;
mod compile_cache;
mod credential_headers;
mod data_access;
mod dev_run;
mod dispatch;
mod gates;
mod health;
mod hostile;
mod imports;
mod install;
mod leak;
mod lifecycle;
mod limits;
mod manifest_section;
mod model;
mod nodes;
mod outbound;
mod outbox;
mod page;
mod payments;
mod plugins_used;
mod polyglot;
mod provenance;
mod secrets;
mod spoofing;
mod storage;
mod supply_chain;
mod tokens;
mod upgrade;

/// Held for the whole of every test that asserts a wall-clock figure or spins worker threads
/// flat out, so no two of them share the cores: in their own binaries the hostile tests ran
/// beside each other only, and the tightest figure (stopped within 150 ms of a 100 ms
/// deadline) could meet two threads spinning for 1.5 s next door; now it never meets another
/// spinner. The other tests keep running beside them, as the other hostile tests did (two
/// test threads on two cores, either way). An async mutex, so a panicking test releases it
/// without poisoning it for the rest.
async fn timing_sensitive() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}
