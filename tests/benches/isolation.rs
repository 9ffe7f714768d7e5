//! Isolation under `serve`'s dispatcher: a quiet merchant's emit-to-handled latency (p50,
//! p99) on its own, then while another merchant's provider times out on every delivery, then
//! while a third merchant's flood of short events is being delivered. One host on a SQLite
//! file, one dispatcher with `serve`'s defaults, a 2-worker runtime, as a platform runs it.
//!
//! The quiet merchant's no-op connector gets an `order.created` every 5 ms; its latency is
//! the time from the event's write (`occurred_at`) to its outcome's (`updated_at`), so it
//! counts fan-out, claim, the call, and the group commit. The slow provider is the hostile
//! connector sleeping in `wasi:clocks` (a provider that never answers) until its 2 s deadline,
//! fed a new event every 20 ms. The flood is `FLOOD` (default 20 000) events queued for a
//! no-op connector before the dispatcher starts.
//!
//! Run: `cargo bench -p airlock-tests --bench isolation` (prints the figures; BENCHMARKS.md
//! keeps them). `MERCHANT_RATE=0` runs it without the per-merchant rate, to compare.
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use airlock_host::ids::MerchantId;
use airlock_host::manifest::Topic;
use airlock_host::outbox::{Clock, DeliveryFilter, DeliveryState, SystemClock};
use airlock_host::{DispatchOptions, Host, LimitOverrides, Round, Until};
use airlock_tests::{
    ManifestBuilder, TestHost, approve_what_waits, handled_latencies, plugins, wasm,
};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Quiet events per measurement, 5 ms apart.
const QUIET_EVENTS: usize = 400;

fn quiet() -> MerchantId {
    MerchantId::new("quiet-store")
}
fn slow() -> MerchantId {
    MerchantId::new("slow-store")
}
fn flood() -> MerchantId {
    MerchantId::new("flood-store")
}

async fn install_noop(host: &Host, merchant: &MerchantId, id: &str) -> String {
    let artifact = ManifestBuilder::new(id)
        .event("order.created")
        .required("orders:read")
        .artifact();
    let installed = host.install(merchant, &artifact, "bench").await.unwrap();
    let key = installed.installation.id.to_string();
    approve_what_waits(host, merchant, &key, &[], "bench")
        .await
        .unwrap();
    key
}

/// The per-merchant rate: `serve`'s default, or `MERCHANT_RATE` (0: none, to compare).
fn merchant_rate() -> Option<u32> {
    match std::env::var("MERCHANT_RATE") {
        Ok(rate) => Some(rate.parse::<u32>().expect("MERCHANT_RATE: a number")).filter(|r| *r > 0),
        Err(_) => DispatchOptions::default().merchant_rate,
    }
}

/// A dispatcher with `serve`'s defaults, until told to stop (running calls are then cut).
fn dispatcher(host: &Arc<Host>) -> (oneshot::Sender<()>, JoinHandle<Round>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let host = host.clone();
    let task = tokio::spawn(async move {
        let options = DispatchOptions {
            merchant_rate: merchant_rate(),
            ..DispatchOptions::default()
        };
        let until = Until::Stopped {
            grace: Duration::ZERO,
        };
        let stop = async {
            let _ = stopped.await;
        };
        host.dispatch(&options, Duration::from_millis(200), until, stop)
            .await
            .unwrap()
    });
    (stop, task)
}

/// Emit the quiet merchant's events 5 ms apart, wait for them, and return their latencies
/// in milliseconds, sorted.
async fn measure(host: &Host) -> Vec<i64> {
    let start = SystemClock.now_ms();
    let mut emits = Vec::with_capacity(QUIET_EVENTS);
    for i in 0..QUIET_EVENTS {
        let emitted = std::time::Instant::now();
        host.emit(&quiet(), Topic::OrderCreated, &format!("q_{start}_{i}"))
            .await
            .unwrap();
        emits.push(emitted.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    emits.sort_by(f64::total_cmp);
    println!(
        "  (emit itself: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms)",
        emits[emits.len() / 2],
        emits[emits.len() * 99 / 100],
        emits[emits.len() - 1]
    );
    let waits = handled_latencies(host, &quiet(), start, QUIET_EVENTS, 1_500).await;
    assert_eq!(waits.len(), QUIET_EVENTS, "every quiet event delivered");
    waits
}

fn at(sorted: &[i64], q: f64) -> i64 {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

fn report(name: &str, waits: &[i64], quiet: &[i64]) {
    println!(
        "{name}: p50 {} ms, p99 {} ms, max {} ms; p99 {:.2}x quiet",
        at(waits, 0.5),
        at(waits, 0.99),
        at(waits, 1.0),
        at(waits, 0.99) as f64 / at(quiet, 0.99).max(1) as f64
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let flood_events: usize = std::env::var("FLOOD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("isolation.db").display());
        let host = Arc::new(TestHost::at(&url).build().await);
        host.put_plan("bench", "Bench", 100).await.unwrap();
        for m in [quiet(), slow(), flood()] {
            host.put_merchant(&m, m.as_str(), "bench").await.unwrap();
        }
        install_noop(&host, &quiet(), "bench.quiet").await;
        install_noop(&host, &flood(), "bench.flood").await;
        let timeout = LimitOverrides {
            deadline_ms: Some(2_000),
            ..LimitOverrides::default()
        };
        host.set_connector_limits("Airlock Tests", "test.hostile", &timeout, "bench")
            .await
            .unwrap();
        let hostile = host
            .install(&slow(), &wasm(plugins::HOSTILE), "bench")
            .await
            .unwrap()
            .installation
            .id;
        approve_what_waits(&host, &slow(), hostile.as_str(), &[], "bench")
            .await
            .unwrap();
        host.disable(&slow(), hostile.as_str(), "bench").await.unwrap();

        // Quiet: the quiet merchant alone (after a warm-up round).
        let (stop, task) = dispatcher(&host);
        measure(&host).await;
        let alone = measure(&host).await;
        let _ = stop.send(());
        task.await.unwrap();

        // A provider timing out: every slow-store delivery waits for its 2 s deadline.
        host.enable(&slow(), hostile.as_str(), "bench").await.unwrap();
        let feeding = {
            let host = host.clone();
            tokio::spawn(async move {
                for i in 0..10_000 {
                    if host
                        .emit(&slow(), Topic::OrderCreated, &format!("sleep 60000 {i}"))
                        .await
                        .is_err()
                    {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        };
        let (stop, task) = dispatcher(&host);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let timing_out = measure(&host).await;
        feeding.abort();
        let _ = stop.send(());
        let slow_round = task.await.unwrap();
        host.disable(&slow(), hostile.as_str(), "bench").await.unwrap();

        // A flood: another merchant's backlog of short events.
        for i in 0..flood_events {
            host.emit(&flood(), Topic::OrderCreated, &format!("f_{i}"))
                .await
                .unwrap();
        }
        let (stop, task) = dispatcher(&host);
        let flooded = measure(&host).await;
        let flood_done = host
            .deliveries(
                &flood(),
                &DeliveryFilter {
                    state: Some(DeliveryState::Delivered),
                    ..DeliveryFilter::default()
                },
                100_000,
            )
            .await
            .unwrap()
            .len();
        let _ = stop.send(());
        let flood_round = task.await.unwrap();
        // Over its rate, most of the flood is not even fanned out yet: count events.
        let flood_left = flood_events.saturating_sub(flood_done);

        println!(
            "isolation: quiet merchant's emit-to-handled latency, {QUIET_EVENTS} events 5 ms apart, 2 workers, SQLite file"
        );
        report("alone", &alone, &alone);
        report("a provider timing out", &timing_out, &alone);
        println!(
            "  (slow-store meanwhile: {} claimed, {} retried or given back by its breaker)",
            slow_round.claimed, slow_round.retried
        );
        report(
            &format!("a {flood_events}-event flood"),
            &flooded,
            &alone,
        );
        println!(
            "  (flood-store meanwhile: {flood_done} delivered, {flood_left} of its events still waiting when the quiet ones were done; {} deliveries in all)",
            flood_round.delivered
        );
    });
}
