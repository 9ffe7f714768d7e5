//! The memory bomb's figure, in a test binary of its own so nothing else moves the process's
//! resident set: a connector that allocates without end is stopped at its cap, and the host's
//! peak RSS grows by less than the cap plus 10%.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use airlock_host::manifest::Topic;
use airlock_host::{AbortReason, CallResult, Limits};
use airlock_tests::{TestDb, demo_store, hostile_host};

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

#[tokio::test]
async fn a_memory_bomb_stops_at_the_cap_and_host_rss_grows_less_than_cap_plus_ten_percent() {
    const CAP: usize = 64 << 20;
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
    // Reset the peak so it measures the bomb alone (Linux: 5 > clear_refs resets VmHWM).
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = status_bytes("VmRSS:");
    let report = host
        .invoke(&demo_store(), id.as_str(), Topic::OrderCreated, "hog 1024")
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
        "memory bomb: peak RSS grew {} MiB (bound {} MiB)",
        growth >> 20,
        bound >> 20
    );
    assert!(
        growth < bound,
        "peak RSS grew {growth} bytes, bound {bound}"
    );
    // And the next call is normal.
    let next = host
        .invoke(&demo_store(), id.as_str(), Topic::OrderCreated, "ok")
        .await
        .unwrap();
    assert!(matches!(next.result, CallResult::Done { .. }));
    db.finish().await;
}
