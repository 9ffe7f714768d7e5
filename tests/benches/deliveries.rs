//! End-to-end deliveries through the outbox: `deliveries/{sqlite,postgres}/{1,10,100}` times a
//! dispatcher (`Host::dispatch` until idle) delivering a batch of `order.created` events to 1,
//! 10 or 100 installed no-op connectors (the bare test component with a manifest subscribing
//! to it): fan-out, claim, sandbox, outcome and audit persisted. Criterion's throughput is in
//! deliveries. Emitting the events is not timed (the producer's work).
//!
//! Then, outside criterion, emit-to-handled latency: a dispatcher runs while events are emitted
//! one by one, and each delivery's time from `occurred_at` (emit) to `updated_at` (outcome
//! written) gives p50 and p99, printed per backend and connector count.
//!
//! PostgreSQL runs when `DATABASE_URL` (or `AIRLOCK_TEST_POSTGRES`) is set.
//! Run: `cargo bench -p airlock-tests --bench deliveries -- --measurement-time 5`.
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use airlock_host::ids::MerchantId;
use airlock_host::manifest::Topic;
use airlock_host::{DispatchOptions, Host, Until};
use airlock_tests::{ManifestBuilder, TestDb, TestHost, approve_what_waits};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;

/// Events per timed batch.
const EVENTS: usize = 2_000;

fn merchant() -> MerchantId {
    MerchantId::new("bench-store")
}

/// A host over `db` with `n` no-op connectors installed and approved for one merchant on a
/// plan with room for them.
async fn host_with(db: &TestDb, n: usize) -> Arc<Host> {
    let host = TestHost::new(db).build().await;
    host.put_plan("bench", "Bench", 1_000).await.unwrap();
    host.put_merchant(&merchant(), "Bench Store", "bench")
        .await
        .unwrap();
    for i in 0..n {
        let artifact = ManifestBuilder::new(&format!("bench.noop{i}"))
            .event("order.created")
            .required("orders:read")
            .artifact();
        let installed = host.install(&merchant(), &artifact, "bench").await.unwrap();
        approve_what_waits(
            &host,
            &merchant(),
            installed.installation.id.as_str(),
            &[],
            "bench",
        )
        .await
        .unwrap();
    }
    Arc::new(host)
}

async fn emit(host: &Host, events: usize) {
    for i in 0..events {
        host.emit(&merchant(), Topic::OrderCreated, &format!("ord_{i}"))
            .await
            .unwrap();
    }
}

/// `serve`'s defaults without the per-merchant rate: this bench's one merchant is to go as
/// fast as the node does.
fn node_capacity() -> DispatchOptions {
    DispatchOptions {
        merchant_rate: None,
        ..DispatchOptions::default()
    }
}

async fn drain(host: &Arc<Host>) {
    let options = node_capacity();
    let round = host
        .dispatch(
            &options,
            Duration::from_millis(5),
            Until::Idle,
            std::future::pending(),
        )
        .await
        .unwrap();
    assert_eq!(round.retried + round.dead + round.held, 0, "{round:?}");
}

fn backends(rt: &Runtime) -> Vec<(&'static str, TestDb)> {
    let mut dbs = vec![("sqlite", TestDb::sqlite())];
    if let Some(pg) = rt.block_on(TestDb::postgres()) {
        dbs.push(("postgres", pg));
    }
    dbs
}

fn deliveries(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let counts: Vec<usize> = std::env::var("AIRLOCK_BENCH_CONNECTOR_COUNTS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 10, 100]);
    let mut group = c.benchmark_group("deliveries");
    group.sample_size(10);
    for &n in &counts {
        for (name, db) in backends(&rt) {
            let host = rt.block_on(host_with(&db, n));
            // Per sample: enough events for about EVENTS deliveries.
            let events = (EVENTS / n).max(2);
            group.throughput(Throughput::Elements((events * n) as u64));
            group.bench_function(format!("{name}/{n}"), |b| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            emit(&host, events).await;
                            let started = Instant::now();
                            drain(&host).await;
                            total += started.elapsed();
                        }
                        total
                    })
                })
            });
            rt.block_on(latency(&host, name, n));
            rt.block_on(db.finish());
        }
    }
    group.finish();
}

/// Emit-to-handled latency with a dispatcher running: p50 and p99 over 300 events emitted
/// about 2 ms apart.
async fn latency(host: &Arc<Host>, backend: &str, n: usize) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let dispatcher = {
        let host = host.clone();
        tokio::spawn(async move {
            let options = node_capacity();
            let until = Until::Stopped {
                grace: Duration::from_secs(5),
            };
            host.dispatch(&options, Duration::from_millis(5), until, async {
                let _ = stopped.await;
            })
            .await
        })
    };
    let since = airlock_host::outbox::SystemClock;
    let start = airlock_host::outbox::Clock::now_ms(&since);
    let mut refused = 0;
    for i in 0..300 {
        if let Err(err) = host
            .emit(&merchant(), Topic::OrderCreated, &format!("lat_{i}"))
            .await
        {
            refused += 1;
            eprintln!("emit refused: {err}");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // Let the last ones land.
    let waits = airlock_tests::handled_latencies(host, &merchant(), start, 300 * n, 500).await;
    let _ = stop.send(());
    dispatcher.await.unwrap().unwrap();
    if waits.is_empty() {
        println!("emit-to-handled latency {backend}/{n}: nothing delivered within 10 s");
        return;
    }
    let at = |q: f64| waits[((waits.len() as f64 * q) as usize).min(waits.len() - 1)];
    println!(
        "emit-to-handled latency {backend}/{n}: p50 {} ms, p99 {} ms ({} of {} delivered; {refused} emits refused)",
        at(0.50),
        at(0.99),
        waits.len(),
        300 * n
    );
}

criterion_group!(benches, deliveries);
criterion_main!(benches);
