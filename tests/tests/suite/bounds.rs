//! The sandbox's resource bounds with real components: one cap for all of a call's memories
//! and tables, each merchant's share of the instance pool, and the WASI functions whose
//! host-side work no fuel or memory cap sees (random bytes, stdout and stderr, polls).

use std::time::Duration;

use airlock_host::manifest::Topic;
use airlock_host::{
    AbortReason, CallResult, Host, InvocationReport, Limits, MAX_POLL_LIST, MAX_RANDOM_REQUEST,
    MAX_RESOURCES,
};
use airlock_tests::{
    Hog, TestDb, TestHost, demo_store, hog_component, hostile_host, install_with_secrets,
    invoke_demo, other_store, plugins, summary, wasm,
};

fn stopped(report: &InvocationReport) -> AbortReason {
    match &report.result {
        CallResult::Aborted { reason } => reason.clone(),
        other => panic!("expected the host to stop it, got {other:?}"),
    }
}

/// Two memories (the main module's and another core instance's), each grown by 1 MiB per
/// character of the event's subject.
fn two_memories() -> Vec<u8> {
    hog_component("test.two-memories", 1, Hog::Memory)
}

#[tokio::test]
async fn all_of_a_calls_memories_share_one_cap() {
    let db = TestDb::sqlite();
    let limits = Limits {
        memory_bytes: 16 << 20,
        // Wasmtime charges fuel for the bytes a `memory.fill` writes.
        fuel: None,
        ..Limits::default()
    };
    let host = TestHost::new(&db).limits(limits).build().await;
    let id = install_with_secrets(&host, &demo_store(), &two_memories(), &[]).await;
    // 5 MiB in each: 10 MiB in all, under the cap.
    let fits = invoke_demo(&host, &id, &"x".repeat(5)).await;
    assert!(matches!(fits.result, CallResult::Done { .. }), "{fits:?}");
    // 10 MiB in each is under the cap for either memory, but 20 MiB for the call.
    let over = invoke_demo(&host, &id, &"x".repeat(10)).await;
    assert_eq!(
        stopped(&over),
        AbortReason::Memory {
            limit_bytes: 16 << 20
        }
    );
    db.finish().await;
}

#[tokio::test]
async fn all_of_a_calls_tables_share_one_cap() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    let tables = hog_component("test.two-tables", 2, Hog::Table);
    let id = install_with_secrets(&host, &demo_store(), &tables, &[]).await;
    let fits = invoke_demo(&host, &id, &"x".repeat(5)).await;
    assert!(matches!(fits.result, CallResult::Done { .. }), "{fits:?}");
    // 15,000 elements in each: under the 20,000 of one table, 30,000 for the call.
    let over = invoke_demo(&host, &id, &"x".repeat(15)).await;
    assert_eq!(
        stopped(&over),
        AbortReason::Table {
            limit_elements: 20_000
        }
    );
    db.finish().await;
}

#[tokio::test]
async fn a_component_with_more_memories_than_real_ones_need_is_refused_at_install() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    // Five memories: more than any real component has.
    let greedy = hog_component("test.many-memories", 4, Hog::Memory);
    let Err(err) = host.install(&demo_store(), &greedy, "test").await else {
        panic!("a component with five memories was installed");
    };
    let err = err.to_string();
    assert!(err.contains("linear memories"), "{err}");
    db.finish().await;
}

/// A merchant's sleeping calls hold its share of the pool, not everyone's.
#[tokio::test]
async fn a_merchant_sleeping_in_poll_cannot_take_the_pool_from_another() {
    let db = TestDb::sqlite();
    let limits = Limits {
        pool_instances: 4,
        merchant_instances: 2,
        max_concurrent: 8,
        deadline: Duration::from_secs(5),
        ..Limits::default()
    };
    let (host, ours) = hostile_host(&db, limits).await;
    let theirs = install_with_secrets(&host, &other_store(), &wasm(plugins::HOSTILE), &[]).await;
    let sleep = || invoke_demo(&host, &ours, "sleep 1500");
    let sleepers = async { tokio::join!(sleep(), sleep(), sleep(), sleep()) };
    let neighbour = async {
        // By now the sleepers hold their slots (or were refused).
        tokio::time::sleep(Duration::from_millis(400)).await;
        host.invoke(&other_store(), theirs.as_str(), Topic::OrderCreated, "ok")
            .await
            .unwrap()
    };
    let ((a, b, c, d), neighbour) = tokio::join!(sleepers, neighbour);
    assert_eq!(summary(&neighbour), "ok", "{neighbour:?}");
    let results = [a, b, c, d].map(|r| r.result);
    let slept = CallResult::Done {
        acted: true,
        summary: "slept".into(),
    };
    let busy = CallResult::Aborted {
        reason: AbortReason::MerchantBusy { limit: 2 },
    };
    assert_eq!(
        results.iter().filter(|r| **r == slept).count(),
        2,
        "{results:?}"
    );
    assert_eq!(
        results.iter().filter(|r| **r == busy).count(),
        2,
        "{results:?}"
    );
    let audit = host.audit(&demo_store(), 10).await.unwrap();
    assert!(
        audit.iter().any(|e| e.outcome == "aborted: merchant-busy"),
        "{audit:#?}"
    );
    db.finish().await;
}

#[tokio::test]
async fn a_call_waiting_in_poll_ends_within_a_tick_or_two_of_its_deadline() {
    let _serial = crate::timing_sensitive().await;
    let db = TestDb::sqlite();
    let limits = Limits {
        deadline: Duration::from_millis(200),
        ..Limits::default()
    };
    let (host, id) = hostile_host(&db, limits).await;
    let report = invoke_demo(&host, &id, "sleep 10000").await;
    assert_eq!(stopped(&report), AbortReason::Deadline { limit_ms: 200 });
    // One tick is 1 ms; the rest is timer and scheduling slack on a busy 2-core machine.
    assert!(
        report.elapsed_ms < 220.0,
        "ended {} ms after its start",
        report.elapsed_ms
    );
    db.finish().await;
}

async fn hostile(db: &TestDb) -> (Host, airlock_host::ids::InstallationId) {
    hostile_host(db, Limits::default()).await
}

#[tokio::test]
async fn random_bytes_are_capped_per_request_and_charged_to_the_input_allowance() {
    let db = TestDb::sqlite();
    // 8 MiB of random bytes in 64 KiB requests takes a debug build about a second: a long
    // deadline, so only the input allowance can end the call (under CI load the default 2 s
    // deadline sometimes came first).
    let limits = Limits {
        deadline: Duration::from_secs(30),
        fuel: None,
        ..Limits::default()
    };
    let (host, id) = hostile_host(&db, limits).await;
    let fits = invoke_demo(&host, &id, &format!("random {MAX_RANDOM_REQUEST} 4")).await;
    assert_eq!(
        summary(&fits),
        format!("got {} random bytes", 4 * MAX_RANDOM_REQUEST)
    );
    // One big request: Wasmtime alone would allocate up to 64 MiB for it, host-side.
    let big = invoke_demo(&host, &id, "random 16777216").await;
    assert_eq!(
        stopped(&big),
        AbortReason::Wasi {
            what: "get-random-bytes".into(),
            limit: MAX_RANDOM_REQUEST
        }
    );
    // Many small ones add up to the input allowance (8 MiB).
    let many = invoke_demo(&host, &id, &format!("random {MAX_RANDOM_REQUEST} 200")).await;
    assert_eq!(
        stopped(&many),
        AbortReason::Input {
            limit_bytes: 8 << 20
        }
    );
    db.finish().await;
}

#[tokio::test]
async fn stdout_is_charged_to_the_output_allowance() {
    let db = TestDb::sqlite();
    // Formatting 2 MiB of lines takes more than the default instruction budget.
    let limits = Limits {
        fuel: None,
        ..Limits::default()
    };
    let (host, id) = hostile_host(&db, limits).await;
    let fits = invoke_demo(&host, &id, "shout 100").await;
    assert_eq!(summary(&fits), "shouted");
    // 2 MiB of stdout, past the 1 MiB output allowance.
    let loud = invoke_demo(&host, &id, "shout 2048").await;
    assert_eq!(
        stopped(&loud),
        AbortReason::Output {
            limit_bytes: 1 << 20
        }
    );
    db.finish().await;
}

#[tokio::test]
async fn a_panic_message_reaches_the_report_through_stderr() {
    let db = TestDb::sqlite();
    let (host, id) = hostile(&db).await;
    let report = invoke_demo(&host, &id, "panic").await;
    assert!(matches!(stopped(&report), AbortReason::Trap { .. }));
    assert!(
        report
            .stderr
            .iter()
            .any(|l| l.contains("hostile connector panicked on purpose")),
        "{:?}",
        report.stderr
    );
    let json = serde_json::to_value(&report).unwrap();
    assert!(
        json["stderr"].to_string().contains("panicked on purpose"),
        "{json}"
    );
    // The health check panics too, with its own message.
    let checked = host.health_check(&demo_store(), id.as_str()).await.unwrap();
    assert!(
        checked
            .stderr
            .iter()
            .any(|l| l.contains("hostile health check panicked")),
        "{:?}",
        checked.stderr
    );
    // A call that wrote nothing there reports nothing.
    assert!(invoke_demo(&host, &id, "ok").await.stderr.is_empty());
    db.finish().await;
}

#[tokio::test]
async fn a_poll_on_more_pollables_than_the_host_walks_is_refused() {
    let db = TestDb::sqlite();
    let (host, id) = hostile(&db).await;
    let few = invoke_demo(&host, &id, "polls 10").await;
    assert_eq!(summary(&few), "polled");
    // The same pollable many times: one poll would walk them all at every wake-up.
    let wide = invoke_demo(&host, &id, &format!("polls {}", 4 * MAX_POLL_LIST)).await;
    assert_eq!(
        stopped(&wide),
        AbortReason::Wasi {
            what: "poll".into(),
            limit: MAX_POLL_LIST as u64
        }
    );
    db.finish().await;
}

/// Core instances, memories and tables a component creates: each instantiated core module's
/// defined memories and tables, summed (wit-component's output has no nested components).
fn instance_needs(bytes: &[u8]) -> (usize, usize, usize) {
    use wasmparser::{Instance, Parser, Payload};
    let mut modules: Vec<(usize, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut instantiated = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.expect("the component parses") {
            Payload::ModuleSection { .. } => {
                modules.push((0, 0));
                depth += 1;
            }
            Payload::MemorySection(s) if depth > 0 => {
                modules.last_mut().expect("in a module").0 += s.count() as usize
            }
            Payload::TableSection(s) if depth > 0 => {
                modules.last_mut().expect("in a module").1 += s.count() as usize
            }
            Payload::End(_) if depth > 0 => depth -= 1,
            Payload::InstanceSection(s) => {
                for instance in s {
                    if let Instance::Instantiate { module_index, .. } = instance.unwrap() {
                        instantiated.push(module_index as usize);
                    }
                }
            }
            _ => {}
        }
    }
    let memories = instantiated.iter().map(|&m| modules[m].0).sum();
    let tables = instantiated.iter().map(|&m| modules[m].1).sum();
    (instantiated.len(), memories, tables)
}

/// The pool's per-component maxima (2 memories, 4 tables, `Limits::instances` core
/// instances) hold what real components use, with room to spare: the Rust ones built here
/// are counted, and a JavaScript (componentize-js 0.23: 4 core instances, 1 memory, 2
/// tables) and a Python one (componentize-py 0.25: 14, 1, 2) were counted the same way when
/// the maxima were set: set `AIRLOCK_COUNT_COMPONENTS` to a `:`-separated list of component
/// paths to count (and compile) others.
#[test]
fn the_pools_per_component_maxima_fit_the_built_connectors() {
    let limits = Limits::default();
    let engine = wasmtime::Engine::new(&airlock_host::engine_config(&limits)).unwrap();
    for path in [
        plugins::ORDER_NOTIFIER,
        plugins::SHIP_ON_PAYMENT,
        plugins::HOSTILE,
        plugins::HTTP_PROBE,
    ] {
        let bytes = wasm(path);
        let (instances, memories, tables) = instance_needs(&bytes);
        assert!(
            instances <= limits.instances && memories <= 1 && tables <= 2,
            "{path}: {instances} core instances, {memories} memories, {tables} tables"
        );
        wasmtime::component::Component::new(&engine, &bytes)
            .unwrap_or_else(|e| panic!("{path} does not fit the pool: {e:#}"));
    }
    let others = std::env::var("AIRLOCK_COUNT_COMPONENTS").unwrap_or_default();
    for path in others.split(':').filter(|p| !p.is_empty()) {
        let bytes = wasm(path);
        let (instances, memories, tables) = instance_needs(&bytes);
        eprintln!("{path}: {instances} core instances, {memories} memories, {tables} tables");
        wasmtime::component::Component::new(&engine, &bytes)
            .unwrap_or_else(|e| panic!("{path} does not fit the pool: {e:#}"));
    }
}

#[tokio::test]
async fn a_call_cannot_hoard_wasi_resources() {
    let db = TestDb::sqlite();
    let (host, id) = hostile(&db).await;
    let few = invoke_demo(&host, &id, "hoard 100").await;
    assert_eq!(summary(&few), "held 100 pollables");
    // Each pollable is host memory no memory cap sees.
    let many = invoke_demo(&host, &id, &format!("hoard {}", 4 * MAX_RESOURCES)).await;
    assert_eq!(
        stopped(&many),
        AbortReason::Wasi {
            what: "resources".into(),
            limit: MAX_RESOURCES as u64
        }
    );
    db.finish().await;
}
