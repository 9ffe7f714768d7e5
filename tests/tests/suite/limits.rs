//! The per-call deadline and memory cap with a real hostile component: each abuse ends that
//! call with a typed reason, and the next call runs normally.

use std::time::Duration;

use airlock_host::{AbortReason, CallResult, Limits};
use airlock_tests::{TestDb, demo_store, hostile_host, invoke_demo};

fn assert_recovers(report: &airlock_host::InvocationReport) {
    assert_eq!(
        report.result,
        CallResult::Done {
            acted: true,
            summary: "ok".into()
        }
    );
}

#[tokio::test]
async fn a_runaway_loop_is_stopped_at_the_deadline_and_the_next_call_runs() {
    let _serial = crate::timing_sensitive().await;
    let db = TestDb::sqlite();
    let limits = Limits {
        deadline: Duration::from_millis(200),
        fuel: None,
        ..Limits::default()
    };
    let (host, id) = hostile_host(&db, limits).await;
    let report = invoke_demo(&host, &id, "spin").await;
    assert_eq!(
        report.result,
        CallResult::Aborted {
            reason: AbortReason::Deadline { limit_ms: 200 }
        }
    );
    // Stopped by the host, not left running: a generous bound, the precise figure is a benchmark's.
    assert!(report.elapsed_ms < 2_000.0, "took {} ms", report.elapsed_ms);
    assert_recovers(&invoke_demo(&host, &id, "ok").await);
    let audit = host.audit(&demo_store(), 20).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "invoke" && e.outcome == "aborted: deadline"),
        "{audit:?}"
    );
    db.finish().await;
}

#[tokio::test]
async fn a_memory_bomb_is_stopped_at_the_cap_and_the_next_call_runs() {
    let db = TestDb::sqlite();
    let limits = Limits {
        memory_bytes: 16 << 20,
        fuel: None,
        ..Limits::default()
    };
    let (host, id) = hostile_host(&db, limits).await;
    let report = invoke_demo(&host, &id, "hog 64").await;
    assert_eq!(
        report.result,
        CallResult::Aborted {
            reason: AbortReason::Memory {
                limit_bytes: 16 << 20
            }
        }
    );
    // Under the cap the same code is fine.
    let report = invoke_demo(&host, &id, "hog 4").await;
    assert_eq!(
        report.result,
        CallResult::Done {
            acted: true,
            summary: "held 4 MiB".into()
        }
    );
    assert_recovers(&invoke_demo(&host, &id, "ok").await);
    db.finish().await;
}

#[tokio::test]
async fn deep_recursion_and_panics_end_the_call_not_the_host() {
    let db = TestDb::sqlite();
    let (host, id) = hostile_host(&db, Limits::default()).await;
    let report = invoke_demo(&host, &id, "recurse").await;
    assert_eq!(
        report.result,
        CallResult::Aborted {
            reason: AbortReason::StackOverflow
        }
    );
    assert_recovers(&invoke_demo(&host, &id, "ok").await);
    let report = invoke_demo(&host, &id, "panic").await;
    assert!(
        matches!(&report.result, CallResult::Aborted { reason: AbortReason::Trap { message } } if message.contains("unreachable")),
        "{:?}",
        report.result
    );
    assert_recovers(&invoke_demo(&host, &id, "ok").await);
    db.finish().await;
}
