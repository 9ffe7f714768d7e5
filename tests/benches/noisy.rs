//! Noisy neighbour: the p50/p99 latency of a well-behaved connector (the order notifier, demo
//! store) on its own, then while hostile connectors of another merchant run flat out (four
//! spinning until their deadline, one flooding the host with calls, one filling memory to its
//! cap), each restarted as soon as it is stopped. End to end through `Host::invoke` (grant
//! checks, SQLite reads, audit writes) on a 2-worker runtime, as a platform runs it.
//! Run: `cargo bench -p airlock-tests --bench noisy` (prints the figures; BENCHMARKS.md keeps them).
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use airlock_host::grants::Scope;
use airlock_host::ids::{InstallationId, MerchantId};
use airlock_host::manifest::Topic;
use airlock_host::{CallResult, Host, LimitOverrides, demo};
use airlock_tests::{TestHost, plugins, wasm};

const SAMPLES: usize = 600;

async fn measure(host: &Host, merchant: &MerchantId, id: &InstallationId) -> Vec<f64> {
    let mut out = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let report = host
            .invoke(merchant, id.as_str(), Topic::OrderCreated, "ord_1001")
            .await
            .unwrap();
        assert!(
            matches!(report.result, CallResult::Done { .. }),
            "{report:?}"
        );
        out.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    out.sort_by(f64::total_cmp);
    out
}

/// CPU time this process has used (user + system), from /proc (Linux).
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        // NOISY_DB=memory takes the database's writes (and their fsyncs) out of the picture.
        let url = match std::env::var("NOISY_DB").as_deref() {
            Ok("memory") => "sqlite::memory:".to_owned(),
            _ => format!("sqlite://{}", dir.path().join("noisy.db").display()),
        };
        let host = Arc::new(TestHost::at(&url).build().await);
        // The hostile connector runs until its deadline, unmetered, six at a time; its host
        // calls keep the default quota (a flood ends at 1000 and starts over).
        let flat_out = LimitOverrides {
            deadline_ms: Some(200),
            fuel: Some(u64::MAX),
            max_concurrent: Some(16),
            ..LimitOverrides::default()
        };
        host.set_connector_limits("Airlock Tests", "test.hostile", &flat_out, "bench")
            .await
            .unwrap();
        let shop = MerchantId::new(demo::DEMO_MERCHANT);
        let other = MerchantId::new(demo::OTHER_MERCHANT);
        let notifier = host
            .install(&shop, &wasm(plugins::ORDER_NOTIFIER), "bench")
            .await
            .unwrap()
            .installation
            .id;
        airlock_tests::approve_what_waits(
            &host,
            &shop,
            notifier.as_str(),
            &[Scope::CustomersReadContact, Scope::InventoryRead],
            "bench",
        )
        .await
        .unwrap();
        let hostile = host
            .install(&other, &wasm(plugins::HOSTILE), "bench")
            .await
            .unwrap()
            .installation
            .id;
        airlock_tests::approve_what_waits(&host, &other, hostile.as_str(), &[], "bench")
            .await
            .unwrap();

        measure(&host, &shop, &notifier).await; // warm-up
        let quiet = measure(&host, &shop, &notifier).await;

        let stop = Arc::new(AtomicBool::new(false));
        let hostile_calls = Arc::new(AtomicU64::new(0));
        let hostile_busy_us = Arc::new(AtomicU64::new(0));
        let mut noise = Vec::new();
        let commands = std::env::var("NOISE")
            .unwrap_or_else(|_| "spin,spin,spin,spin,flood 100000000,hog 100000".into());
        for command in commands.split(',').map(str::to_owned) {
            let (host, other, hostile) = (host.clone(), other.clone(), hostile.clone());
            let (stop, calls) = (stop.clone(), hostile_calls.clone());
            let busy_us = hostile_busy_us.clone();
            noise.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let report = host
                        .invoke(&other, hostile.as_str(), Topic::OrderCreated, &command)
                        .await
                        .unwrap();
                    calls.fetch_add(1, Ordering::Relaxed);
                    busy_us.fetch_add((report.busy_ms * 1000.0) as u64, Ordering::Relaxed);
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (cpu_before, guest_before) = (
            process_cpu(),
            hostile_busy_us.load(Ordering::Relaxed),
        );
        let noisy_started = Instant::now();
        let noisy = measure(&host, &shop, &notifier).await;
        let noisy_wall = noisy_started.elapsed();
        let cpu = process_cpu().saturating_sub(cpu_before);
        let guest = Duration::from_micros(
            hostile_busy_us
                .load(Ordering::Relaxed)
                .saturating_sub(guest_before),
        );
        stop.store(true, Ordering::Relaxed);
        for task in noise {
            task.await.unwrap();
        }

        println!("noisy neighbour: order notifier, {SAMPLES} calls each, 2 worker threads");
        println!(
            "quiet: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            pct(&quiet, 0.5),
            pct(&quiet, 0.99),
            pct(&quiet, 1.0)
        );
        println!(
            "noisy: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            pct(&noisy, 0.5),
            pct(&noisy, 0.99),
            pct(&noisy, 1.0)
        );
        println!(
            "p99 noisy/quiet: {:.2}x ({} hostile invocations stopped meanwhile)",
            pct(&noisy, 0.99) / pct(&quiet, 0.99),
            hostile_calls.load(Ordering::Relaxed)
        );
        println!(
            "while noisy ({:.2} s): process CPU {:.2} s ({:.0}% of 2 cores), hostile calls held workers \
             {:.3} s (calls that ended meanwhile)",
            noisy_wall.as_secs_f64(),
            cpu.as_secs_f64(),
            cpu.as_secs_f64() / noisy_wall.as_secs_f64() / 2.0 * 100.0,
            guest.as_secs_f64()
        );
    });
}
