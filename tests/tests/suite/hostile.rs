//! The hostile suite: real components that try to escape, starve or spy, each stopped with a
//! typed reason and the figure the test asserts; after each, a well-behaved connector of
//! another merchant runs normally. (Deadline, memory, stack and panics in `handle-event` are
//! in `limits.rs`; ids of another merchant, contact details without the scope and writes
//! without the write scope in `capabilities.rs`; undeclared imports and malformed binaries in
//! `install.rs`; flipped bytes in `provenance.rs`; hostile outbound requests and slow-loris
//! providers in `outbound.rs`.)

use std::time::Duration;

use airlock_host::artifact::ArtifactError;
use airlock_host::grants::Scope;
use airlock_host::ids::InstallationId;
use airlock_host::manifest::Topic;
use airlock_host::{
    AbortReason, CallResult, Error, Host, InvocationReport, LimitOverrides, Limits,
};
use airlock_tests::{
    TestDb, TestHost, demo_store, hostile_host, install_probe, install_with_secrets, invoke_demo,
    other_store, plugins, probe, wasm,
};

fn stopped(report: &InvocationReport) -> AbortReason {
    match &report.result {
        CallResult::Aborted { reason } => reason.clone(),
        other => panic!("expected the host to stop it, got {other:?}"),
    }
}

/// A well-behaved connector of the other merchant still works.
async fn neighbour_is_fine(host: &Host) {
    let id = install_probe(host, &other_store(), &[Scope::OrdersRead]).await;
    let answer = probe(host, &other_store(), &id, "orders.get ord_2001").await;
    assert!(answer.starts_with("ok Order {"), "{answer}");
    host.uninstall(&other_store(), id.as_str(), "test")
        .await
        .unwrap();
}

#[tokio::test]
async fn an_infinite_loop_is_interrupted_within_150_ms_of_a_100_ms_deadline() {
    let _serial = crate::timing_sensitive().await;
    let db = TestDb::sqlite();
    let limits = Limits {
        deadline: Duration::from_millis(100),
        fuel: None,
        ..Limits::default()
    };
    let (host, id) = hostile_host(&db, limits).await;
    let report = invoke_demo(&host, &id, "spin").await;
    assert_eq!(stopped(&report), AbortReason::Deadline { limit_ms: 100 });
    assert!(
        report.elapsed_ms < 250.0,
        "stopped after {} ms",
        report.elapsed_ms
    );
    // A spinning call is charged for the worker time it takes.
    assert!(report.busy_ms > 1.0, "busy {} ms", report.busy_ms);
    neighbour_is_fine(&host).await;
    db.finish().await;
}

#[tokio::test]
async fn a_spinning_connector_runs_out_of_instructions_long_before_its_deadline() {
    let db = TestDb::sqlite();
    let (host, id) = hostile_host(&db, Limits::default()).await;
    let report = invoke_demo(&host, &id, "spin").await;
    assert_eq!(stopped(&report), AbortReason::Fuel { limit: 11_000_000 });
    assert_eq!(report.fuel_used, Some(11_000_000));
    // A normal call fits easily in the same budget.
    let ok = invoke_demo(&host, &id, "ok").await;
    assert!(ok.fuel_used.unwrap() < 1_000_000, "{:?}", ok.fuel_used);
    let audit = host.audit(&demo_store(), 10).await.unwrap();
    assert!(
        audit.iter().any(|e| e.outcome == "aborted: fuel"
            && e.detail.contains("stopped: instruction budget of 11000000")),
        "{audit:#?}"
    );
    neighbour_is_fine(&host).await;
    db.finish().await;
}

#[tokio::test]
async fn a_host_call_flood_is_stopped_at_the_quota() {
    let db = TestDb::sqlite();
    let limits = Limits {
        max_host_calls: 50,
        ..Limits::default()
    };
    let (host, id) = hostile_host(&db, limits).await;
    let report = invoke_demo(&host, &id, "flood 1000000").await;
    assert_eq!(stopped(&report), AbortReason::HostCalls { limit: 50 });
    // Served up to the quota; after it, refusals only until the next epoch tick ends the call.
    let served: u32 = report
        .accesses
        .iter()
        .map(|a| a.allowed + a.not_found)
        .sum();
    assert_eq!(served, 50, "{:?}", report.accesses);
    neighbour_is_fine(&host).await;
    db.finish().await;
}

#[tokio::test]
async fn ten_mib_of_output_under_a_one_mib_allowance_is_refused_and_nothing_is_stored() {
    let db = TestDb::sqlite();
    let (host, id) = hostile_host(&db, Limits::default()).await;
    assert_eq!(Limits::default().max_output_bytes, 1 << 20);
    // As its summary: the call ends, the 10 MiB goes nowhere.
    let report = invoke_demo(&host, &id, "spew 10").await;
    assert_eq!(
        stopped(&report),
        AbortReason::Output {
            limit_bytes: 1 << 20
        }
    );
    let audit = host.audit(&demo_store(), 10).await.unwrap();
    assert!(audit.iter().all(|e| e.detail.len() < 1000));
    // As storage writes: the write that would cross the allowance is refused, not stored.
    let report = invoke_demo(&host, &id, "fill 10").await;
    assert_eq!(
        stopped(&report),
        AbortReason::Output {
            limit_bytes: 1 << 20
        }
    );
    let writes = report
        .accesses
        .iter()
        .find(|a| a.operation == "storage.set")
        .unwrap();
    let stored_bytes = u64::from(writes.allowed) * 60 * 1024;
    assert!(stored_bytes <= 1 << 20, "{stored_bytes} bytes stored");
    assert!(writes.failed >= 1);
    neighbour_is_fine(&host).await;
    db.finish().await;
}

#[tokio::test]
async fn a_panic_in_every_export_ends_the_call_not_the_host() {
    let db = TestDb::sqlite();
    let (host, id) = hostile_host(&db, Limits::default()).await;
    let report = invoke_demo(&host, &id, "panic").await;
    assert!(matches!(stopped(&report), AbortReason::Trap { .. }));
    let report = host.health_check(&demo_store(), id.as_str()).await.unwrap();
    assert_eq!(report.export, "health-check");
    assert!(
        matches!(stopped(&report), AbortReason::Trap { message } if message.contains("unreachable"))
    );
    let audit = host.audit(&demo_store(), 5).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "health-check" && e.outcome == "aborted: trap")
    );
    neighbour_is_fine(&host).await;
    db.finish().await;
}

#[tokio::test]
async fn a_component_built_against_an_unknown_contract_major_is_refused() {
    let db = TestDb::sqlite();
    let (host, _) = hostile_host(&db, Limits::default()).await;
    let compiled = host.compiles();
    let err = host
        .install(&demo_store(), &wasm(plugins::FUTURE_CONTRACT), "test")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("airlock:connector/orders@1.0.0")
            && text.contains("does not know")
            && text.contains("rebuild against airlock:connector@0.2.0"),
        "{text}"
    );
    assert!(
        matches!(
            err,
            Error::Artifact(ArtifactError::UnsupportedContract { .. })
        ),
        "{err:?}"
    );
    assert_eq!(host.compiles(), compiled, "refused before compiling it");
    neighbour_is_fine(&host).await;
    db.finish().await;
}

// Two workers, as a platform runs: the invocations overlap for real.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_of_one_installation_are_capped() {
    let _serial = crate::timing_sensitive().await;
    let db = TestDb::sqlite();
    let limits = Limits {
        deadline: Duration::from_millis(1500),
        fuel: None,
        max_concurrent: 2,
        ..Limits::default()
    };
    let (host, id) = hostile_host(&db, limits).await;
    let host = std::sync::Arc::new(host);
    let start = |command: &'static str| {
        let (host, id) = (host.clone(), id.clone());
        tokio::spawn(async move {
            host.invoke(&demo_store(), id.as_str(), Topic::OrderCreated, command)
                .await
                .unwrap()
        })
    };
    let first = [start("spin"), start("spin")];
    // Both are spinning well inside their 1.5 s when two more arrive.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for late in [start("ok"), start("ok")] {
        let report = late.await.unwrap();
        assert_eq!(stopped(&report), AbortReason::Busy { limit: 2 });
        assert_eq!(report.host_calls, 0);
    }
    for task in first {
        assert_eq!(
            stopped(&task.await.unwrap()),
            AbortReason::Deadline { limit_ms: 1500 }
        );
    }
    // Slots are given back: the next call runs.
    assert!(matches!(
        invoke_demo(&host, &id, "ok").await.result,
        CallResult::Done { .. }
    ));
    neighbour_is_fine(&host).await;
    db.finish().await;
}

#[tokio::test]
async fn limits_follow_the_plan_then_the_connector() {
    let db = TestDb::sqlite();
    let (host, id) = hostile_host(&db, Limits::default()).await;
    host.set_plan_limits(
        "starter",
        &LimitOverrides {
            fuel: Some(2_000_000),
            deadline_ms: Some(500),
            ..LimitOverrides::default()
        },
        "platform",
    )
    .await
    .unwrap();
    host.set_connector_limits(
        "Airlock Tests",
        "test.hostile",
        &LimitOverrides {
            fuel: Some(3_000_000),
            ..LimitOverrides::default()
        },
        "platform",
    )
    .await
    .unwrap();
    let limits = host.limits_for(&demo_store(), id.as_str()).await.unwrap();
    assert_eq!(
        limits.fuel,
        Some(3_000_000),
        "the connector's override wins"
    );
    assert_eq!(
        limits.deadline,
        Duration::from_millis(500),
        "the plan's applies"
    );
    assert_eq!(limits.memory_bytes, Limits::default().memory_bytes);
    let report = invoke_demo(&host, &id, "spin").await;
    assert_eq!(stopped(&report), AbortReason::Fuel { limit: 3_000_000 });
    assert_eq!(report.limits, limits);
    let err = host
        .set_plan_limits("platinum", &LimitOverrides::default(), "platform")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("platinum"), "{err}");
    db.finish().await;
}

#[tokio::test]
async fn no_marker_survives_into_another_invocation_or_installation() {
    let db = TestDb::sqlite();
    let (host, ours) = hostile_host(&db, Limits::default()).await;
    let theirs = host
        .install(&other_store(), &wasm(plugins::HOSTILE), "test")
        .await
        .unwrap()
        .installation
        .id;
    airlock_tests::approve_what_waits(&host, &other_store(), theirs.as_str(), &[], "test")
        .await
        .unwrap();
    let peek = |merchant, id: InstallationId| {
        let host = &host;
        async move {
            let report = host
                .invoke(&merchant, id.as_str(), Topic::OrderCreated, "peek")
                .await
                .unwrap();
            airlock_tests::summary(&report)
        }
    };
    // Many rounds, so pooled instance slots are reused across installations and merchants.
    for round in 0..20 {
        let marker = format!("secret-{round}");
        let report = invoke_demo(&host, &ours, &format!("mark {marker}")).await;
        assert_eq!(airlock_tests::summary(&report), "marked");
        // The other merchant's installation sees nothing of it, in memory or storage.
        assert_eq!(
            peek(other_store(), theirs.clone()).await,
            "memory=[] storage=[]"
        );
        // The same installation's next call starts with fresh memory; only its own storage
        // persists.
        assert_eq!(
            peek(demo_store(), ours.clone()).await,
            format!("memory=[] storage=[{marker}]")
        );
    }
    db.finish().await;
}

/// A connector written in WebAssembly text, since Rust has no way to grow a table: it grows
/// its function table by 1000 elements for every character of the event's subject, then
/// returns an empty outcome.
fn table_grower() -> Vec<u8> {
    airlock_tests::wat_connector(
        "test.table-grower",
        "(table $t 1 funcref)",
        "(drop (table.grow $t (ref.null func) (i32.mul (local.get 5) (i32.const 1000))))",
    )
}

#[tokio::test]
async fn table_growth_is_stopped_at_the_cap_per_host_and_per_connector() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    let id = install_with_secrets(&host, &demo_store(), &table_grower(), &[]).await;
    // 1000 elements fit the host's 20,000.
    let small = invoke_demo(&host, &id, "x").await;
    assert!(matches!(small.result, CallResult::Done { .. }), "{small:?}");
    // 100,000 do not: a typed reason, the cap named, in the audit log too.
    let big = invoke_demo(&host, &id, &"x".repeat(100)).await;
    assert_eq!(
        stopped(&big),
        AbortReason::Table {
            limit_elements: 20_000
        }
    );
    let audit = host.audit(&demo_store(), 5).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.outcome == "aborted: table"
                && e.detail.contains("table cap of 20000 elements")),
        "{audit:#?}"
    );
    // A connector limit of 500 stops even the small growth.
    let tight = LimitOverrides {
        table_elements: Some(500),
        ..LimitOverrides::default()
    };
    host.set_connector_limits("Airlock Tests", "test.table-grower", &tight, "platform")
        .await
        .unwrap();
    let small = invoke_demo(&host, &id, "x").await;
    assert_eq!(
        stopped(&small),
        AbortReason::Table {
            limit_elements: 500
        }
    );
    neighbour_is_fine(&host).await;
    db.finish().await;
}
