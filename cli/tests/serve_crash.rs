//! Crash safety of `airlock serve`: the real binary is killed with SIGKILL in the middle of
//! delivering, at least 50 times, and started again, on SQLite and on PostgreSQL. No event
//! may be lost, and a connector that deduplicates on the event id (the probe's `apply`)
//! must apply each event exactly once, however many times it was delivered.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use airlock_host::Host;
use airlock_host::grants::Scope;
use airlock_host::manifest::Topic;
use airlock_host::outbox::{DeliveryFilter, DeliveryState};
use airlock_tests::{TestDb, TestHost, demo_store, install_probe, probe};

use common::{airlock, command, text};

/// Kills that must land while a delivery is claimed and not finished.
const KILLS_MID_DELIVERY: usize = 50;

async fn in_state(host: &Host, state: DeliveryState) -> Vec<airlock_host::outbox::Delivery> {
    let filter = DeliveryFilter {
        state: Some(state),
        ..DeliveryFilter::default()
    };
    host.deliveries(&demo_store(), &filter, 10_000)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_killed_mid_delivery_fifty_times_loses_nothing_and_applies_each_event_once() {
    for db in TestDb::all().await {
        let cache = tempfile::tempdir().unwrap();
        let cache_arg = cache.path().display().to_string();
        let host = TestHost::new(&db).build().await;
        let id = install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
        let serve_args = [
            "serve",
            "--db",
            &db.url,
            "--node",
            "crash",
            "--poll-ms",
            "5",
            "--batch",
            "4",
            "--compile-cache",
            &cache_arg,
        ];

        let (mut emitted, mut kills, mut mid_delivery) = (0usize, 0usize, 0usize);
        while mid_delivery < KILLS_MID_DELIVERY {
            assert!(
                kills < 400,
                "only {mid_delivery} of {kills} kills landed mid-delivery"
            );
            if in_state(&host, DeliveryState::Queued).await.len() < 8 && emitted < 900 {
                for _ in 0..16 {
                    host.emit(&demo_store(), Topic::OrderCreated, "apply")
                        .await
                        .unwrap();
                }
                emitted += 16;
            }
            let mut child = command(&serve_args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start airlock serve");
            // Kill it once it holds a claim (or after a while, whatever it is doing).
            let started = Instant::now();
            while in_state(&host, DeliveryState::Running).await.is_empty()
                && started.elapsed() < Duration::from_secs(20)
            {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            tokio::time::sleep(Duration::from_millis((kills % 7) as u64 * 3)).await;
            child.kill().expect("SIGKILL");
            child.wait().unwrap();
            kills += 1;
            if !in_state(&host, DeliveryState::Running).await.is_empty() {
                mid_delivery += 1;
            }
        }

        // Restarted once more, it finishes what is left and exits.
        let out = airlock(&[&serve_args[..], &["--until-idle"]].concat());
        assert!(out.status.success(), "{}", text(&out.stderr));

        let delivered = in_state(&host, DeliveryState::Delivered).await;
        let left: Vec<_> = in_state(&host, DeliveryState::Queued)
            .await
            .into_iter()
            .map(|d| (d.attempts, d.last_code, d.last_detail))
            .collect();
        assert_eq!(
            delivered.len(),
            emitted,
            "every event delivered, none lost; left: {left:?}"
        );
        for state in [
            DeliveryState::Queued,
            DeliveryState::Running,
            DeliveryState::Dead,
        ] {
            assert!(in_state(&host, state).await.is_empty(), "{state} left over");
        }
        let redelivered = delivered.iter().filter(|d| d.attempts > 1).count();
        assert!(
            redelivered > 0,
            "the kills cut deliveries short: some needed a second try"
        );
        // Exactly once on the connector's side: one `applied:` key per event.
        let applied = probe(&host, &demo_store(), &id, "storage.count applied:").await;
        assert!(
            applied.starts_with(&format!("ok \"{emitted} ")),
            "{emitted} events, {redelivered} delivered more than once, applied: {applied}"
        );
        eprintln!(
            "{}: {kills} kills ({mid_delivery} mid-delivery), {emitted} events, \
             {redelivered} delivered more than once, each applied once",
            db.url.split(':').next().unwrap_or_default()
        );
        db.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_nodes_share_the_outbox_and_one_killed_mid_delivery_loses_nothing() {
    for db in TestDb::all().await {
        let cache = tempfile::tempdir().unwrap();
        let cache_arg = cache.path().display().to_string();
        let host = TestHost::new(&db).build().await;
        let id = install_probe(&host, &demo_store(), &[Scope::OrdersRead]).await;
        let events = 120;
        let mut ids = Vec::new();
        for _ in 0..events {
            // `flaky 0 x` never fails and counts its runs under the event id.
            let event = host
                .emit(&demo_store(), Topic::OrderCreated, "flaky 0 unavailable")
                .await
                .unwrap();
            ids.push(event.id);
        }
        let node = |name: &str| {
            command(&[
                "serve",
                "--db",
                &db.url,
                "--node",
                name,
                "--poll-ms",
                "10",
                "--batch",
                "4",
                "--lease-secs",
                "2",
                "--compile-cache",
                &cache_arg,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start airlock serve")
        };
        // Node A starts alone and is killed while it holds claims: they stay `running` under
        // its lease.
        let mut a = node("node-a");
        let started = Instant::now();
        while in_state(&host, DeliveryState::Running).await.is_empty()
            && started.elapsed() < Duration::from_secs(30)
        {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        a.kill().expect("SIGKILL node A");
        a.wait().unwrap();
        let left_running = in_state(&host, DeliveryState::Running).await.len();
        assert!(left_running > 0, "A was killed mid-delivery");
        // Nodes B and C share the rest, and take over A's claims once its leases run out.
        let (b, c) = (node("node-b"), node("node-c"));
        let started = Instant::now();
        while in_state(&host, DeliveryState::Delivered).await.len() < events
            && started.elapsed() < Duration::from_secs(60)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut summaries = String::new();
        for child in [b, c] {
            // SIGTERM: each stops cleanly and says what it did.
            let pid = child.id().to_string();
            let term = std::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap();
            assert!(term.success());
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "a node ended badly");
            summaries.push_str(text(&out.stdout).trim());
            summaries.push_str("; ");
        }

        let delivered = in_state(&host, DeliveryState::Delivered).await;
        assert_eq!(delivered.len(), events, "every event delivered, none lost");
        // Exactly once between them, except what A was running when it was killed.
        let mut twice = 0;
        for event in &ids {
            let runs = probe(
                &host,
                &demo_store(),
                &id,
                &format!("storage.get tries:{event}"),
            )
            .await;
            if runs != "ok Some(\"1\")" {
                twice += 1;
            }
        }
        assert!(
            twice <= left_running,
            "{twice} events ran more than once; only the {left_running} A held may"
        );
        assert!(
            summaries.contains("node node-b stopped") && summaries.contains("node node-c stopped"),
            "{summaries}"
        );
        eprintln!(
            "{}: {events} events; A killed holding {left_running}; {twice} ran again; {summaries}",
            db.url.split(':').next().unwrap_or_default()
        );
        db.finish().await;
    }
}
