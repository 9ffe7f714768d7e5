//! The memory bomb's figure, in a test binary of its own so nothing else moves the process's
//! resident set: a connector that allocates without end is stopped at its cap, and so is one
//! that fills several memories, each under the cap; either way the host's peak RSS grows by
//! less than the cap plus 10%. The tests take turns ([`one_at_a_time`]): the peak is the
//! process's.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use airlock_host::manifest::Topic;
use airlock_host::{AbortReason, CallResult, Host, Limits};
use airlock_tests::{
    Hog, TestDb, TestHost, demo_store, hog_component, hostile_host, install_with_secrets,
};

const CAP: usize = 64 << 20;

/// Held by each test for its whole run, so no two measure the process's peak at once.
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}

/// A `/proc/self/status` field, in bytes.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("{field} not in /proc/self/status"));
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib * 1024
}

/// Run `subject` on installation `id` (warmed up already) and assert it is stopped at the
/// memory cap with the host's peak RSS grown by less than the cap plus 10%.
async fn stopped_at_the_cap_within_rss_bound(host: &Host, id: &str, subject: &str, what: &str) {
    // Reset the peak so it measures the bomb alone (Linux: 5 > clear_refs resets VmHWM).
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = status_bytes("VmRSS:");
    let report = host
        .invoke(&demo_store(), id, Topic::OrderCreated, subject)
        .await
        .unwrap();
    let peak = status_bytes("VmHWM:");
    assert_eq!(
        report.result,
        CallResult::Aborted {
            reason: AbortReason::Memory { limit_bytes: CAP }
        }
    );
    let growth = peak.saturating_sub(before);
    let bound = CAP as u64 + CAP as u64 / 10;
    eprintln!(
        "{what}: peak RSS grew {} MiB (bound {} MiB)",
        growth >> 20,
        bound >> 20
    );
    assert!(
        growth < bound,
        "peak RSS grew {growth} bytes, bound {bound}"
    );
}

#[tokio::test]
async fn several_memories_stop_at_one_cap_and_host_rss_grows_less_than_cap_plus_ten_percent() {
    let _turn = one_at_a_time().await;
    let db = TestDb::sqlite();
    let limits = Limits {
        memory_bytes: CAP,
        // Wasmtime charges fuel for the bytes a `memory.fill` writes.
        fuel: None,
        ..Limits::default()
    };
    let host = TestHost::new(&db).limits(limits).build().await;
    // Two core instances, each filling a memory of its own.
    let two_memories = hog_component("test.two-filled-memories", 1, Hog::Memory);
    let id = install_with_secrets(&host, &demo_store(), &two_memories, &[]).await;
    // Warm up: compiled, and one instance has run.
    let small = host
        .invoke(&demo_store(), id.as_str(), Topic::OrderCreated, "x")
        .await
        .unwrap();
    assert!(matches!(small.result, CallResult::Done { .. }), "{small:?}");
    // 40 MiB in each memory: under the cap for either, 80 MiB for the call.
    let subject = "x".repeat(40);
    stopped_at_the_cap_within_rss_bound(&host, id.as_str(), &subject, "two memories").await;
    db.finish().await;
}

#[tokio::test]
async fn a_memory_bomb_stops_at_the_cap_and_host_rss_grows_less_than_cap_plus_ten_percent() {
    let _turn = one_at_a_time().await;
    let db = TestDb::sqlite();
    let limits = Limits {
        memory_bytes: CAP,
        // Filling 64 MiB takes more than the default instruction budget.
        fuel: None,
        ..Limits::default()
    };
    let (host, id) = hostile_host(&db, limits).await;
    // Warm up: the component is compiled and one instance has run.
    host.invoke(&demo_store(), id.as_str(), Topic::OrderCreated, "ok")
        .await
        .unwrap();
    stopped_at_the_cap_within_rss_bound(&host, id.as_str(), "hog 1024", "memory bomb").await;
    // And the next call is normal.
    let next = host
        .invoke(&demo_store(), id.as_str(), Topic::OrderCreated, "ok")
        .await
        .unwrap();
    assert!(matches!(next.result, CallResult::Done { .. }));
    db.finish().await;
}
